import Foundation
import Journal
import Messaging
import Protocol
import Security
import Services
import Testing
import TimeTags

@Suite("Herald re-requests")
struct HeraldRequestTests {
    @Test func missingHeraldsAreResentFromTheJournalToTheAskingNodeOnly() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        var settings = coordinatorSettings(directory: directory)
        settings.analysis = nil
        let running = try await startCoordinator(settings, security: security)
        let task = running.task
        let control = running.control

        let transport = try security.client("alice-node")
        let client = try transport.socket(.dealer, logger: quietLogger)
        // Only guards against a hang: every wait below is for a message that must come.
        try client.socket.set(.receiveTimeout(milliseconds: 600_000))
        try client.connect(control)
        func send(_ body: WireMessage.Body, sequence: UInt64) throws {
            let (header, payload) = WireMessage(sessionId: 77, sequence: sequence, body: body).encoded()
            _ = try client.socket.send(Message([Frame(header + payload)]))
        }
        /// The next message, the rate schedule that follows the welcome aside.
        func receive() throws -> WireMessage? {
            while let message = try client.socket.receive() {
                guard message.count == 1 else { return nil }
                let decoded = try? WireMessage.decode(frame: message.frames[0].bytes)
                if case .rateSchedule? = decoded?.body { continue }
                return decoded
            }
            return nil
        }
        try send(.hello(Hello(node: "alice-node", lab: "alice")), sequence: 0)
        guard case .welcome? = try receive()?.body else { Issue.record("no welcome"); return }
        // Station clicks in attempts 1…20 (ψ⁻ detector, inside the window): 20 heralds.
        let clicks = TagBatch(timesPs: (1...20).map { Int64($0) * 100_000 + 50_000 }, channels: [TagChannel](repeating: 22, count: 20))
        try send(.tagBatch(clicks), sequence: 1)
        guard case .acknowledgement(let ack)? = try receive()?.body else { Issue.record("no acknowledgement"); return }
        #expect(ack.status == .accepted)

        // Heralds 5…9 were "lost" on the PUB: ask for them.
        try send(.heraldRequest(HeraldRequest(first: 5, last: 9)), sequence: 0)
        var resent: [Herald] = []
        while resent.count < 5, let message = try receive() {
            if case .herald(let herald) = message.body {
                #expect(message.header.sequence == herald.sequence)
                resent.append(herald)
            }
        }
        #expect(resent.map(\.sequence) == [5, 6, 7, 8, 9])
        #expect(resent.map(\.attemptId) == [5, 6, 7, 8, 9])
        #expect(resent.allSatisfy { $0.outcome == .psiMinus })
        // A request beyond the last herald returns what exists and nothing more. The coordinator answers one
        // node's requests in order, so a second request for herald 1 marks the end of the first's answer: whatever
        // comes before herald 1 is that answer (no quiet window to wait out).
        try send(.heraldRequest(HeraldRequest(first: 19, last: 40)), sequence: 0)
        try send(.heraldRequest(HeraldRequest(first: 1, last: 1)), sequence: 0)
        var tail: [UInt64] = []
        while let message = try receive() {
            guard case .herald(let herald) = message.body else { continue }
            if herald.sequence == 1 { break }
            tail.append(herald.sequence)
        }
        #expect(tail == [19, 20])
        client.socket.close()
        task.cancel()
        try await task.value
    }
}
