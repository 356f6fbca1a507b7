import Foundation
import Testing
@testable import Security

/// The `qlink` executable built next to the tests (`swift build --build-tests` builds it too).
let qlinkBinary: String? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let candidate = root.appendingPathComponent(".build/debug/qlink").path
    return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
}()

func runQLink(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: qlinkBinary ?? "/nonexistent")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("qlink certs end to end")
struct CertsCommandTests {
    @Test("init, issue, verify, revoke, show: clear output, failing exit codes, and no secret key printed",
          .enabled(if: qlinkBinary != nil, "the qlink executable is not built in .build/debug"))
    func lifecycle() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try runQLink(["certs", "init", "--lab", "clilab", "--out", folder]).status == 0)
        let issued = try runQLink(["certs", "issue", "alice-node", "--role", "node", "--dir", folder, "--days", "10"])
        #expect(issued.status == 0, "\(issued.output)")
        let node = folder + "/alice-node.crt"
        let verified = try runQLink(["certs", "verify", node])
        #expect(verified.status == 0)
        #expect(verified.output.contains("OK — node 'alice-node' of 'clilab'"))
        #expect(try runQLink(["certs", "verify", node, "--role", "coordinator"]).output.contains("REFUSED (wrong-role)"))

        let key = folder + "/private/alice-node.key"
        let secret = try KeyFile.loadCurveKeys(path: key).secretKey.bytes
        let shown = try runQLink(["certs", "show", key])
        #expect(shown.status == 0)
        #expect(shown.output.contains("<not shown>"))
        #expect(!shown.output.contains(try Z85.encode(secret)))

        #expect(try runQLink(["certs", "revoke", "alice-node", "--dir", folder]).status == 0)
        let refused = try runQLink(["certs", "verify", node])
        #expect(refused.status != 0)
        #expect(refused.output.contains("REFUSED (revoked)"))
        #expect(try runQLink(["certs", "show", folder + "/ca.crl"]).output.contains("revoked      1"))

        #expect(chmod(key, 0o644) == 0)
        let insecure = try runQLink(["certs", "show", key])
        #expect(insecure.status != 0)
        #expect(insecure.output.contains("chmod 600 \(key)"))
        #expect(try runQLink(["certs", "issue", "bob-node", "--role", "node", "--dir", folder + "/missing"]).output
            .contains("qlink certs init"))
    }
}
