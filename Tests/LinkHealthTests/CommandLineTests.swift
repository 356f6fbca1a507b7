import Foundation
import QLinkTestSupport
import Testing

/// The command line as a user and a service manager meet it: `--version`, and output that leaves at once.
@Suite("qlink on the command line", .enabled(if: QLinkRunner.isBuilt, "the qlink executable is not built in .build/debug"))
struct CommandLineTests {
    @Test("qlink --version prints the version and exits 0")
    func version() throws {
        let result = try QLinkRunner.run(["--version"], in: FileManager.default.temporaryDirectory)
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("qlink ") && result.output.contains("0.1.0"), "\(result.output)")
    }

    /// With standard output a file (as under systemd or `| tee`) a block-buffered process shows nothing until it has
    /// printed kilobytes; the demo's first line must be in the file while the demo is still running.
    @Test("standard output is line-buffered when it is a file: the demo's first line arrives while it runs")
    func lineBuffered() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-lines-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out.txt")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = QLinkRunner.executable
        process.arguments = ["demo", "--seconds", "3600", "--config", TestEnvironment.projectRoot.appendingPathComponent("configs/demo-pair-source.yaml").path,
                             "--run-directory", folder.appendingPathComponent("run").path]
        process.currentDirectoryURL = folder
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var text = ""
        // Waits for the event (the line in the file), with a generous bound that only guards against a hang.
        for _ in 0..<6_000 where process.isRunning {
            text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if text.contains("\n") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(process.isRunning, "the hour-long demo ended early: \(text)")
        #expect(text.hasPrefix("QLink demo:"), "nothing in the output file while the demo runs: \(text.debugDescription)")
        process.terminate()
        process.waitUntilExit()
    }
}
