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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
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
        .target(name: "Correlation", dependencies: ["TimeTags"]),
        .target(
            name: "LinkModel",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),

        // Floor 1: ZeroMQ and OpenSSL layers; the link planner (pure physics and costs).
        .target(name: "Planner", dependencies: ["LinkModel"]),
        .target(
            name: "Messaging",
            dependencies: ["CZeroMQ", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "OpenSSLKit",
            dependencies: ["COpenSSL"]
        ),

        // Floor 5: the command-line tool.
        .executableTarget(
            name: "qlink",
            dependencies: [
                "Messaging",
                "OpenSSLKit",
                "LinkModel",
                "TimeTags",
                "Planner",
                "Correlation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Tests mirror modules.
        .testTarget(name: "MessagingTests", dependencies: ["Messaging"]),
        .testTarget(name: "OpenSSLKitTests", dependencies: ["OpenSSLKit"]),
        .testTarget(name: "LinkModelTests", dependencies: ["LinkModel"]),
        .testTarget(name: "TimeTagsTests", dependencies: ["TimeTags"]),
        .testTarget(name: "PlannerTests", dependencies: ["Planner", "LinkModel"]),
        .testTarget(name: "CorrelationTests", dependencies: ["Correlation", "TimeTags"]),
    ],
    swiftLanguageModes: [.v6]
)
