// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "QLink",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "qlink", targets: ["qlink"]),
        .library(name: "Messaging", targets: ["Messaging"]),
        .library(name: "LinkModel", targets: ["LinkModel"]),
        .library(name: "TimeTags", targets: ["TimeTags"]),
        .library(name: "Planner", targets: ["Planner"]),
        .library(name: "Correlation", targets: ["Correlation"]),
        .library(name: "Protocol", targets: ["Protocol"]),
        .library(name: "Journal", targets: ["Journal"]),
        .library(name: "Services", targets: ["Services"]),
        .library(name: "Simulation", targets: ["Simulation"]),
        .library(name: "Security", targets: ["Security"]),
        .library(name: "Monitoring", targets: ["Monitoring"]),
        .library(name: "LinkHealth", targets: ["LinkHealth"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
    ],
    targets: [
        // Floor 0: C shims and the shared link description.
        .systemLibrary(
            name: "CZeroMQ",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "TimeTags"),
        .target(name: "Plotting"),
        .target(name: "Correlation", dependencies: ["TimeTags", "Plotting", "LinkModel"]),
        .target(
            name: "LinkModel",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),

        // Floor 1: ZeroMQ and OpenSSL layers; the link planner (pure physics and costs); the link simulator.
        .target(name: "Planner", dependencies: ["LinkModel", "Plotting"]),
        .target(name: "Simulation", dependencies: ["TimeTags", "LinkModel"]),
        .target(
            name: "Messaging",
            dependencies: ["CZeroMQ", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "OpenSSLKit",
            dependencies: ["COpenSSL"]
        ),

        // Floor 2: lab PKI and authenticated sockets.
        .target(
            name: "Security",
            dependencies: [
                "OpenSSLKit", "COpenSSL", "Messaging", "CZeroMQ", "LinkModel", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Floor 2: wire messages (pure).
        .target(name: "Protocol", dependencies: ["TimeTags"]),

        // Floor 3: durable journal and the node/coordinator services.
        .target(
            name: "Journal",
            dependencies: ["Protocol", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "Services",
            dependencies: [
                "Protocol", "Journal", "Messaging", "Security", "Simulation", "TimeTags", "Correlation", "LinkModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Floor 4: link health monitoring, alerting, live re-tuning and the status server.
        .target(
            name: "Monitoring",
            dependencies: [
                "LinkModel", "Planner", "Correlation",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),

        // Floor 5: monitoring of the running coordinator and nodes (status → observations, certificates, re-tuning).
        .target(
            name: "LinkHealth",
            dependencies: [
                "Services", "Monitoring", "Journal", "LinkModel", "Planner", "Protocol", "OpenSSLKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Floor 6: the command-line tool.
        .executableTarget(
            name: "qlink",
            dependencies: [
                "Messaging",
                "OpenSSLKit",
                "Security",
                "LinkModel",
                "TimeTags",
                "Planner",
                "Plotting",
                "Services",
                "Protocol",
                "Journal",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "Simulation",
                "Correlation",
                "Monitoring",
                "LinkHealth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Tests mirror modules.
        .target(name: "QLinkTestSupport", dependencies: [.product(name: "Logging", package: "swift-log")], path: "Tests/QLinkTestSupport"),
        .testTarget(name: "MessagingTests", dependencies: ["Messaging"]),
        .testTarget(name: "OpenSSLKitTests", dependencies: ["OpenSSLKit"]),
        .testTarget(name: "LinkModelTests", dependencies: ["LinkModel"]),
        .testTarget(name: "TimeTagsTests", dependencies: ["TimeTags", "QLinkTestSupport"]),
        .testTarget(name: "PlannerTests", dependencies: ["Planner", "LinkModel", "Plotting", "Simulation"]),
        .testTarget(name: "PlottingTests", dependencies: ["Plotting", "QLinkTestSupport"]),
        .testTarget(name: "CorrelationTests", dependencies: ["Correlation", "TimeTags", "LinkModel", "QLinkTestSupport"]),
        .testTarget(name: "ProtocolTests", dependencies: ["QLinkTestSupport", "Protocol", "TimeTags", "Messaging"]),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "Protocol"]),
        .testTarget(name: "ServicesTests", dependencies: ["QLinkTestSupport", "Services", "Protocol", "Journal", "Messaging", "Security", "TimeTags", "LinkModel", "Simulation", "LinkHealth", "Monitoring"]),
        .testTarget(
            name: "MonitoringTests",
            dependencies: ["QLinkTestSupport", "Monitoring", "LinkModel", "Planner", "Simulation", "Correlation", "TimeTags"]
        ),
        .testTarget(
            name: "LinkHealthTests",
            dependencies: ["QLinkTestSupport", "LinkHealth", "Services", "Monitoring", "LinkModel", "Journal", "Messaging", "Planner", "Protocol", "Simulation", "Correlation"]
        ),
        .testTarget(name: "SecurityTests", dependencies: ["QLinkTestSupport", "Security", "Messaging", "OpenSSLKit", "CZeroMQ"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "TimeTags", "LinkModel"]),
        .testTarget(name: "CrossCheckTests", dependencies: ["QLinkTestSupport", "Simulation", "Correlation", "Planner", "LinkModel", "TimeTags"]),
    ],
    swiftLanguageModes: [.v6]
)
