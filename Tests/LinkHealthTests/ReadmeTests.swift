import Foundation
import QLinkTestSupport
import Testing

/// The README's commands, verbatim, as a new user runs them: every fenced `sh` block marked with
/// `<!-- readme-test -->` on the line above is run line by line (`qlink` replaced by the built executable, through
/// `/bin/sh -c`) in a fresh temporary folder holding a copy of `configs/` — the QLink folder before anything was
/// created: certificates are made by the README's own `qlink certs` lines. Each command must exit 0. Where the README
/// shows output (a fenced `text` block right after the marked block), every line of it must appear in the block's
/// output; `…` in a shown line stands for any text.
@Suite("README commands run verbatim", .enabled(if: QLinkRunner.isBuilt, "the qlink executable is not built in .build/debug"))
struct ReadmeTests {
    /// One marked block: its commands (continuation lines joined, comments dropped) and the output shown after it.
    struct Block {
        var line: Int
        var commands: [String]
        var shownOutput: [String]
    }

    static let marker = "<!-- readme-test -->"

    /// The marked blocks of `markdown`.
    static func blocks(_ markdown: String) throws -> [Block] {
        let lines = markdown.components(separatedBy: "\n")
        var blocks: [Block] = []
        var index = 0
        func fence(from start: Int, language: String) -> (body: [String], end: Int)? {
            guard start < lines.count, lines[start].trimmingCharacters(in: .whitespaces) == "```" + language else { return nil }
            guard let end = lines[(start + 1)...].firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "```" }) else { return nil }
            return (Array(lines[(start + 1)..<end]), end)
        }
        while index < lines.count {
            defer { index += 1 }
            guard lines[index].trimmingCharacters(in: .whitespaces) == marker else { continue }
            guard let (body, end) = fence(from: index + 1, language: "sh") else {
                throw ReadmeError("README.md line \(index + 1): \(marker) is not followed by a ```sh block")
            }
            var commands: [String] = []
            var pending = ""
            for raw in body {
                var line = raw
                if let comment = line.range(of: " #") ?? (line.hasPrefix("#") ? line.range(of: "#") : nil) { line = String(line[..<comment.lowerBound]) }
                line = line.trimmingCharacters(in: .whitespaces)
                if line.hasSuffix("\\") {
                    pending += line.dropLast().trimmingCharacters(in: .whitespaces) + " "
                    continue
                }
                line = pending + line
                pending = ""
                if !line.isEmpty { commands.append(line) }
            }
            var shown: [String] = []
            var next = end + 1
            while next < lines.count, lines[next].trimmingCharacters(in: .whitespaces).isEmpty { next += 1 }
            if let (output, _) = fence(from: next, language: "text") {
                shown = output.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            blocks.append(Block(line: index + 1, commands: commands, shownOutput: shown))
        }
        return blocks
    }

    /// Whether `shown` (with `…` standing for any text) matches a line of `output`.
    static func appears(_ shown: String, in output: String) -> Bool {
        let parts = shown.components(separatedBy: "…").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return output.components(separatedBy: "\n").contains { line in
            var rest = Substring(line)
            for part in parts {
                guard let range = rest.range(of: part) else { return false }
                rest = rest[range.upperBound...]
            }
            return true
        }
    }

    @Test("the blocks are found: continuation lines joined, comments dropped, shown output attached")
    func parsing() throws {
        let markdown = """
        text
        \(Self.marker)
        ```sh
        qlink a --x 1    # comment
        qlink b \\
            --y 2
        ```

        ```text
        ok … done
        ```
        ```sh
        qlink not-marked
        ```
        """
        let blocks = try Self.blocks(markdown)
        #expect(blocks.count == 1)
        #expect(blocks.first?.commands == ["qlink a --x 1", "qlink b --y 2"])
        #expect(blocks.first?.shownOutput == ["ok … done"])
        #expect(Self.appears("ok … done", in: "x\nok, all done\n") && !Self.appears("ok … done", in: "done ok\n"))
    }

    @Test("every marked README block runs verbatim from a fresh folder and prints what the README shows")
    func readmeCommands() throws {
        let root = TestEnvironment.projectRoot
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let blocks = try Self.blocks(readme)
        #expect(blocks.count >= 2, "the README marks its runnable blocks with \(Self.marker)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // The QLink folder as a new user has it: the shipped configurations, no certificates, no runs.
        try FileManager.default.copyItem(at: root.appendingPathComponent("configs"), to: folder.appendingPathComponent("configs"))
        for block in blocks {
            var output = ""
            for command in block.commands {
                #expect(command.hasPrefix("qlink "), "README.md line \(block.line): a marked block runs qlink commands only: \(command)")
                guard command.hasPrefix("qlink ") else { continue }
                let line = QLinkRunner.executable.path + command.dropFirst("qlink".count)
                let result = try QLinkRunner.run(program: URL(fileURLWithPath: "/bin/sh"), ["-c", line], in: folder)
                #expect(result.status == 0, "README.md line \(block.line): `\(command)` exited \(result.status)\n\(result.output)\n\(result.error)")
                output += result.output
            }
            for shown in block.shownOutput {
                #expect(Self.appears(shown, in: output), "README.md line \(block.line): the output lacks what the README shows: \(shown)\n\(output)")
            }
        }
    }

    struct ReadmeError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
