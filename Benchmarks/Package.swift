// swift-tools-version:6.1
import PackageDescription

import class Foundation.ProcessInfo
import struct Foundation.URL

// The QLink package is the parent directory; SwiftPM names a path dependency after its directory.
let qlinkPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent

let package = Package(
    name: "QLinkBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "CorrelationBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Correlation", package: qlinkPackage),
                .product(name: "TimeTags", package: qlinkPackage),
            ],
            path: "Benchmarks/CorrelationBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
