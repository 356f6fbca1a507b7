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

    /// One command of `qlink --experimental-dump-help` (ArgumentParser's description of the command tree).
    struct CommandInfo: Decodable {
        struct Argument: Decodable {
            struct Name: Decodable {
                var kind: String
                var name: String
            }
            var names: [Name]?
        }
        var commandName: String
        var subcommands: [CommandInfo]?
        var arguments: [Argument]?
    }

    struct ToolInfo: Decodable {
        var command: CommandInfo
    }

    /// Every command that runs (no subcommands of its own), as its path of names below `qlink`.
    static func leaves(_ command: CommandInfo, path: [String] = []) -> [(path: [String], command: CommandInfo)] {
        guard let subcommands = command.subcommands, !subcommands.isEmpty else { return [(path, command)] }
        return subcommands.filter { $0.commandName != "help" }.flatMap { leaves($0, path: path + [$0.commandName]) }
    }

    @Test("every subcommand accepts --log-level debug: each leaf of the command tree declares it and parses it")
    func logLevelOnEverySubcommand() throws {
        let dump = try QLinkRunner.run(["--experimental-dump-help"], in: FileManager.default.temporaryDirectory)
        #expect(dump.status == 0, "\(dump.error)")
        let tool = try JSONDecoder().decode(ToolInfo.self, from: Data(dump.output.utf8))
        let leaves = Self.leaves(tool.command)
        #expect(leaves.count >= 15, "\(leaves.map(\.path))")
        for (path, command) in leaves {
            let names = (command.arguments ?? []).flatMap { $0.names ?? [] }
            #expect(names.contains { $0.kind == "long" && $0.name == "log-level" }, "qlink \(path.joined(separator: " ")) has no --log-level")
            // Parsed, not only declared: with an unknown option after it, the error (its first line; the usage below it
            // lists --log-level) names another problem, never --log-level (the unknown option keeps the command from running).
            let result = try QLinkRunner.run(path + ["--log-level", "debug", "--no-such-option"], in: FileManager.default.temporaryDirectory)
            let problem = result.error.split(separator: "\n").first.map(String.init) ?? ""
            #expect(result.status != 0 && problem.hasPrefix("Error: ") && !problem.contains("log-level"), "qlink \(path.joined(separator: " ")): \(result.error)")
            let bad = try QLinkRunner.run(path + ["--log-level", "loud"], in: FileManager.default.temporaryDirectory)
            #expect(bad.status != 0 && bad.error.contains("loud") && bad.error.contains("--log-level"), "qlink \(path.joined(separator: " ")): \(bad.error)")
        }
        // Shell completion (README "Shell completion") knows the option.
        for shell in ["bash", "zsh", "fish"] {
            let script = try QLinkRunner.run(["--generate-completion-script", shell], in: FileManager.default.temporaryDirectory)
            #expect(script.status == 0 && script.output.contains("log-level") && script.output.contains("demo"), "\(shell): \(script.error)")
        }
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

    /// A fresh folder with a non-UTF-8 file `bad.yaml` in it.
    static func scratch() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-errors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data([0xFF, 0xFE, 0x20, 0x62, 0x61, 0x64]).write(to: folder.appendingPathComponent("bad.yaml"))
        return folder
    }

    @Test("errors say what, where and what to do: folders, non-UTF-8 files, unknown labs, missing certificates")
    func errorsSayWhatWhereAndWhatToDo() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let loopback = TestEnvironment.projectRoot.appendingPathComponent("configs/loopback.yaml").path
        let cases: [(arguments: [String], expected: [String])] = [
            (["config", "check", folder.path], ["\(folder.path): is a folder, not a file", "configuration file inside it"]),
            (["config", "check", "bad.yaml"], ["bad.yaml: is not UTF-8 text (byte 0xFF at offset 0)"]),
            (["certs", "show", "bad.yaml"], ["bad.yaml", "is not UTF-8 text"]),
            (["node", "--config", loopback, "--lab", "nobody"], ["no lab named 'nobody'", "labs: alice, bob"]),
        ]
        for (arguments, expected) in cases {
            let result = try QLinkRunner.run(arguments, in: folder)
            #expect(result.status != 0, "\(arguments)")
            for text in expected { #expect(result.error.contains(text), "\(arguments): \(result.error)") }
            #expect(!result.error.contains("NSCocoaErrorDomain") && !result.error.contains("Usage:"), "\(arguments): \(result.error)")
        }
    }

    @Test("a coordinator whose lab CA does not exist yet says how to create it")
    func missingCertificatesSayQlinkCertsInit() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("link.yaml")
        try String(contentsOf: TestEnvironment.projectRoot.appendingPathComponent("configs/loopback.yaml"), encoding: .utf8)
            .write(to: config, atomically: true, encoding: .utf8)
        let result = try QLinkRunner.run(["coordinator", "--config", config.path], in: folder)
        #expect(result.status != 0)
        #expect(result.error.contains("CA certificate") && result.error.contains("qlink certs init"), "\(result.error)")
    }

    @Test("qlink doctor outside a checkout checks the machine and exits 0; an explicit missing --config is a problem")
    func doctorOutsideTheCheckout() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = try QLinkRunner.run(["doctor"], in: folder)
        #expect(plain.status == 0, "\(plain.output)\(plain.error)")
        #expect(plain.output.contains("pass --config FILE"))
        let missing = try QLinkRunner.run(["doctor", "--config", "nowhere.yaml"], in: folder)
        #expect(missing.status != 0 && missing.error.contains("nowhere.yaml"), "\(missing.error)")
    }

    @Test("config check accepts the shipped planner-only files and warns about certificates that do not exist")
    func configCheckPlansAndMissingCertificates() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let configs = TestEnvironment.projectRoot.appendingPathComponent("configs")
        let plans = try FileManager.default.contentsOfDirectory(atPath: configs.path).filter { $0.hasPrefix("plan-") && $0.hasSuffix(".yaml") }
        #expect(plans.count >= 3)
        for plan in plans {
            let result = try QLinkRunner.run(["config", "check", configs.appendingPathComponent(plan).path], in: folder)
            #expect(result.status == 0 && result.output.contains("ok — plan"), "\(plan): \(result.output)\(result.error)")
        }
        let copy = folder.appendingPathComponent("link.yaml")
        try String(contentsOf: configs.appendingPathComponent("loopback.yaml"), encoding: .utf8).write(to: copy, atomically: true, encoding: .utf8)
        let result = try QLinkRunner.run(["config", "check", copy.path], in: folder)
        #expect(result.status == 0, "a valid configuration whose PKI is not made yet: \(result.error)")
        #expect(result.error.contains("warning: lab CA certificate") && result.error.contains("does not exist"), "\(result.error)")
    }
}


extension CommandLineTests {
    @Test("simulate warns above the attempt-rate limit and explains an empty result")
    func simulateWarnings() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plan = TestEnvironment.projectRoot.appendingPathComponent("configs/plan-nv-637nm.yaml").path
        let result = try QLinkRunner.run(["simulate", "--config", plan, "--repetition-rate-hz", "180000", "--seconds", "0.001",
                                          "--seed", "3", "--out", folder.appendingPathComponent("out").path], in: folder)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("warning: the repetition rate 180.0 kHz is above the link's attempt-rate limit"), "\(result.error)")
        #expect(result.error.contains("warning: the simulation produced no tags") && result.error.contains("simulate longer"), "\(result.error)")
    }
}
