// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "QLinkBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "QLink", path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "PlannerBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "Planner", package: "QLink"),
                .product(name: "LinkModel", package: "QLink"),
            ],
            path: "Benchmarks/PlannerBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
