import Foundation
import QLinkTestSupport
import Services
import Testing


/// `python -m qlink.subscribe` (clients/python) receives heralds and status from a real coordinator over CURVE.
@Suite("pyzmq herald and status subscriber")
struct PythonSubscriberTests {
    @Test(.enabled(if: TestEnvironment.qlinkPython != nil, Comment(rawValue: TestEnvironment.qlinkPythonMissing)))
    func pythonSubscriberReceivesHeraldsAndStatusOverCurve() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        let link = try SimulatedTestLink.heralded()
        let running = try await startCoordinator(try SimulatedTestLink.coordinatorSettings(link, directory: directory), security: security)
        let coordinatorTask = running.task
        let control = running.control, publish = running.publish

        // Thousands of herald lines a second go to a file, not a pipe nobody reads until the process ends.
        let outputPath = directory + "/subscriber.out"
        let process = try startQLinkPython(["-m", "qlink.subscribe", "--endpoint", publish, "--certs", security.certificates.layout.directory,
                                            "--name", "bob-node", "--heralds", "5", "--statuses", "1", "--timeout-s", "540"],
                                           outputPath: outputPath)

        // Lab A's node streams in real time, so heralds keep coming while the subscriber connects (however long
        // Python takes to start): it runs until the subscriber is done.
        let settings = try SimulatedTestLink.nodeSettings(link, lab: "alice", directory: directory, control: control, publish: publish,
                                                          durationPs: 3_600_000_000_000_000, realTime: true)
        let node = NodeService(settings: settings, transport: try security.client("alice-node"), logger: quietLogger)
        let nodeTask = Task { try await node.run() }
        #expect(await eventually { !process.isRunning }, "waited for the subscriber to receive 5 heralds and a status")
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(output)")
        let heralds = output.split(separator: "\n").filter { $0.hasPrefix("herald ") }
        #expect(heralds.count >= 5, "\(output)")
        #expect(heralds.allSatisfy { $0.contains("psi-") || $0.contains("psi+") || $0.contains("failure") })
        #expect(output.contains("status "))
        nodeTask.cancel()
        try await nodeTask.value
        coordinatorTask.cancel()
        try await coordinatorTask.value
    }
}
