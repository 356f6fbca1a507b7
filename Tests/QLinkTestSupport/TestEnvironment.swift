import Foundation

/// What the machine running the tests offers, for tests that use outside programs and skip without them.
public enum TestEnvironment {
    /// The package's root folder (where `Package.swift` is).
    public static let projectRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Whether `python3` with pyzmq is installed.
    public static let pythonWithZMQ = succeeds(["python3", "-c", "import zmq"])

    /// Whether `arguments` (looked up on PATH) runs and exits with status 0; output is discarded.
    public static func succeeds(_ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
