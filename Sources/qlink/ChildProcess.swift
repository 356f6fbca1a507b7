import Foundation

/// A `qlink` subcommand run as a child process, its output going to a log file.
final class ChildProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the demo's task.
    let name: String
    let logPath: String
    private let process = Process()

    /// The running `qlink` executable (the same binary runs the children).
    static func currentExecutable() -> URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    }

    /// Starts `qlink arguments…` with standard output and error appended to `logPath`.
    init(name: String, arguments: [String], logPath: String) throws {
        self.name = name
        self.logPath = logPath
        FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw CommandFailure("cannot write the log file \(logPath) of \(name)")
        }
        process.executableURL = Self.currentExecutable()
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw CommandFailure("cannot start \(name) (\(process.executableURL?.path ?? "?")): \(error.localizedDescription)")
        }
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// Asks for a graceful stop (SIGTERM).
    func terminate() { if process.isRunning { kill(process.processIdentifier, SIGTERM) } }

    /// Stops at once (SIGKILL).
    func killNow() { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    /// Waits up to `seconds` for the process to exit. - Returns: whether it exited.
    func wait(seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return !process.isRunning
    }

    /// The last `lines` lines of the log (for error messages).
    func logTail(_ lines: Int = 5) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

/// Why a command could not run or finish, worded for the user (printed as `Error: …`, without the usage text that
/// argument errors get).
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
