import Foundation
import Messaging
import QLinkTestSupport
import Testing
@testable import Security


/// `examples/python/qlink_client.py` in this package (it uses the `qlink` Python package's certificate helpers).
let pythonExample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples/python/qlink_client.py").path

@Suite("pyzmq example")
struct PythonClientTests {
    @Test("the pyzmq example authenticates with a QLink-issued certificate and gets its User-Id back",
          .enabled(if: TestEnvironment.qlinkPython != nil && openSSLProgramAvailable,
                   Comment(rawValue: TestEnvironment.qlinkPythonMissing + ", or openssl is missing")))
    func pythonClient() async throws {
        let fixture = try SecureFixture()
        defer { fixture.close() }
        _ = try fixture.pki.issue("alice-node")
        let directory = fixture.pki.layout.directory
        let python = try #require(TestEnvironment.qlinkPython)
        let (status, output) = try await onSocketThread { () -> (Int32, String) in
            let server = try fixture.server()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [pythonExample, "--endpoint", server.endpoint, "--certs", directory,
                                 "--name", "alice-node", "--message", "hello", "--timeout-ms", "600000"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let deadline = ContinuousClock.now + .seconds(600)  // only guards against a hang (Python starts slowly on a loaded machine)
            while process.isRunning, ContinuousClock.now < deadline {
                guard let message = try receive(server.socket, timeoutMs: 50), message.count >= 2,
                      let sender = try? fixture.authenticator.sender(of: message).get() else { continue }
                _ = try server.socket.send(Message([message.frames[0], Frame("welcome \(sender.name)")]))
            }
            if process.isRunning { process.terminate() }
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }
        #expect(status == 0, "\(output)")
        #expect(output.contains("welcome alice-node"))
    }
}
