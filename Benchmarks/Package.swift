// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "QLinkBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "QLink", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "TimeTagsBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TimeTags", package: "QLink"),
            ],
            path: "Benchmarks/TimeTagsBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "PlannerBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Planner", package: "QLink"),
                .product(name: "LinkModel", package: "QLink"),
            ],
            path: "Benchmarks/PlannerBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "CorrelationBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Correlation", package: "QLink"),
                .product(name: "LinkModel", package: "QLink"),
                .product(name: "TimeTags", package: "QLink"),
            ],
            path: "Benchmarks/CorrelationBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SimulationBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Simulation", package: "QLink"),
            ],
            path: "Benchmarks/SimulationBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SecurityBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Security", package: "QLink"),
                .product(name: "Messaging", package: "QLink"),
            ],
            path: "Benchmarks/SecurityBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ServicesBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Services", package: "QLink"),
                .product(name: "Correlation", package: "QLink"),
                .product(name: "Protocol", package: "QLink"),
                .product(name: "Security", package: "QLink"),
                .product(name: "Messaging", package: "QLink"),
                .product(name: "TimeTags", package: "QLink"),
            ],
            path: "Benchmarks/ServicesBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "MonitoringBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Monitoring", package: "QLink"),
                .product(name: "Correlation", package: "QLink"),
                .product(name: "LinkModel", package: "QLink"),
                .product(name: "Planner", package: "QLink"),
            ],
            path: "Benchmarks/MonitoringBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
