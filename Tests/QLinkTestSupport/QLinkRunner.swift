import Foundation

/// Runs the `qlink` executable built next to the tests (`.build/debug/qlink`).
public enum QLinkRunner {
    /// The executable's location.
    public static let executable = TestEnvironment.projectRoot.appendingPathComponent(".build/debug/qlink")

    /// Whether the executable is there (tests that need it are skipped otherwise).
    public static var isBuilt: Bool { FileManager.default.isExecutableFile(atPath: executable.path) }

    /// Runs qlink with `arguments` in `directory`; returns the exit status, standard output and standard error
    /// (collected in files, so neither can fill a pipe and stall the process).
    public static func run(_ arguments: [String], in directory: URL) throws -> (status: Int32, output: String, error: String) {
        try run(program: executable, arguments, in: directory)
    }

    /// Runs `program` with `arguments` in `directory` the same way (e.g. `/bin/sh -c LINE` for a README line).
    public static func run(program: URL, _ arguments: [String], in directory: URL) throws -> (status: Int32, output: String, error: String) {
        let outURL = directory.appendingPathComponent("qlink-\(UUID().uuidString).out")
        let errURL = directory.appendingPathComponent("qlink-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: outURL, encoding: .utf8), try String(contentsOf: errURL, encoding: .utf8))
    }
}
