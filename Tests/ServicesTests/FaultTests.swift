import Foundation
import Journal
import Messaging
import Protocol
import QLinkTestSupport
import Security
import Services
import Testing
import TimeTags

@Suite("Faults on loopback", .serialized)
struct FaultTests {
    @Test func aCoordinatorRestartedOnPortsStillInUseListensOnceTheyAreFree() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        var settings = coordinatorSettings(directory: directory)
        // The ports are held by a running coordinator (as another connection may hold them for a moment).
        let holder = try await startCoordinator(settings, security: security)
        settings.controlEndpoint = holder.control
        settings.publishEndpoint = holder.publish
        settings.journalPath = directory + "/second.sqlite"
        let log = CapturedLog()
        let holding = holder.task
        // Once a second attempt has started (the first gave up on the address in use), the ports become free.
        let release = Task {
            let second = await eventually { log.records("coordinator.bind.retrying").count >= 2 }
            holding.cancel()
            return second
        }
        let restarted = try await restartCoordinator(settings, security: security, logger: log.logger(level: .notice))
        #expect(await release.value, "waited for a second bind attempt")
        try await holding.value
        #expect(restarted.control == holder.control && restarted.publish == holder.publish,
                "restarted on \(restarted.control), \(restarted.publish); held \(holder.control), \(holder.publish)")
        restarted.task.cancel()
        try await restarted.task.value
    }

    @Test func coordinatorRestartLosesAndDuplicatesNothing() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        var settings = coordinatorSettings(directory: directory)
        settings.credit = 2
        // Lab A's node of the simulated heralded link (small chunks: many batches): its stream carries the
        // station, so heralds are decided.
        let link = try SimulatedTestLink.heralded(chunkTags: 64)
        // Long enough (some 230 batches) that the first coordinator, stopped after its fifth, cannot have
        // accepted them all however late a loaded machine lets the stop take effect.
        let durationPs: Int64 = 2_000_000_000_000
        settings.heralds = try ConfigurationMapping.heralds(link)
        let first = CoordinatorService(settings: settings, transport: security.server, logger: quietLogger)
        let firstTask = Task { try await first.run() }
        #expect(await eventually { first.monitor.current.publishEndpoint != nil })
        let control = try #require(first.monitor.current.controlEndpoint), publish = try #require(first.monitor.current.publishEndpoint)
        var aliceSettings = try SimulatedTestLink.nodeSettings(link, lab: "alice", directory: directory, control: control,
                                                               publish: publish, durationPs: durationPs)
        aliceSettings.coordinatorTimeoutMs = 300
        let node = NodeService(settings: aliceSettings, transport: try security.client("alice-node"), logger: quietLogger)
        let nodeTask = Task { try await node.run() }

        let journal = try CoordinatorJournal(path: settings.journalPath)
        #expect(try await eventually { try journal.count(.batch) >= 5 })
        // Stop the coordinator mid-run; the node keeps spooling.
        firstTask.cancel()
        try await firstTask.value
        let accepted = try journal.count(.batch)

        settings.controlEndpoint = control
        settings.publishEndpoint = publish
        // The same port again (another connection may hold it for a moment: retried until it listens).
        let restarted = try await restartCoordinator(settings, security: security)
        let second = restarted.service, secondTask = restarted.task
        let expected = try SimulatedTestLink.expectedTags(try SimulatedTestLink.simulation(link, durationPs: durationPs)).alice
        #expect(try await eventually { try journal.tagTotals()["alice-node"] == expected && node.monitor.current.spoolBatches == 0 })
        nodeTask.cancel()
        try await nodeTask.value
        secondTask.cancel()
        try await secondTask.value

        let sequences = try journal.batches().map(\.sequence)
        #expect(sequences.count > accepted, "the restart came mid-run: the second coordinator accepted batches too")
        #expect(sequences == Array(1...UInt64(sequences.count)), "each batch journaled once, in order")
        #expect(try journal.tagTotals()["alice-node"] == expected)
        // Heralds continue from the journal: consecutive, none twice.
        let heralds = try journal.heralds(in: 1...1_000_000).map(\.sequence)
        #expect(heralds == Array(1...UInt64(heralds.count)))
        let attempts = try journal.heralds(in: 1...1_000_000).map(\.attemptId)
        #expect(attempts == attempts.sorted() && Set(attempts).count == attempts.count)
    }

    @Test func malformedGapsDuplicatesAndCorruptionAreHandled() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        var settings = coordinatorSettings(directory: directory)
        settings.maxPayloadBytes = 64 << 10
        let running = try await startCoordinator(settings, security: security)
        let coordinator = running.service, task = running.task
        let control = running.control

        // A peer whose key no lab CA certified: the ZAP handler refuses the handshake (counted, logged),
        // nothing it sends reaches the service.
        let stranger = try Socket(.dealer, context: security.context, lingerMs: 0)
        let strangerKeys = try CurveKeyPair.generate()
        try stranger.set([.curveServerKey(security.server.identity.keys.publicKey), .curvePublicKey(strangerKeys.publicKey),
                          .curveSecretKey(strangerKeys.secretKey)])
        try stranger.connect(control)
        _ = try stranger.send(Message([Frame(WireMessage(sessionId: 9, sequence: 0, body: .hello(Hello(node: "eve", lab: "alice"))).frame())]),
                              options: .dontWait)
        #expect(await eventually { security.server.zap.authenticator.refusalCounts().values.reduce(0, +) >= 1 })
        #expect(await eventually { coordinator.monitor.current.refusedHandshakes >= 1 })
        stranger.close()

        let transport = try security.client("alice-node")
        let client = try SecureSockets.client(.dealer, identity: transport.identity, serverCertificate: transport.serverCertificate,
                                              policy: transport.policy, context: security.context, logger: quietLogger)
        let socket = client.socket
        try socket.set(.receiveTimeout(milliseconds: 600_000))  // only guards against a hang: every answer must come
        try client.connect(control)
        func send(_ body: WireMessage.Body, sequence: UInt64, session: UInt64 = 5, corrupt: Bool = false) throws {
            var (header, payload) = WireMessage(sessionId: session, sequence: sequence, body: body).encoded()
            if corrupt { payload[0] ^= 1 }
            _ = try socket.send(Message([Frame(header + payload)]))
        }
        /// The next message, the rate schedule that follows the welcome aside.
        func receive() throws -> WireMessage.Body? {
            while let message = try socket.receive() {
                guard message.count == 1 else { return nil }
                let body = try? WireMessage.decode(frame: message.frames[0].bytes).body
                if case .rateSchedule? = body { continue }
                return body
            }
            return nil
        }
        func ackStatus() throws -> (AcknowledgementStatus, UInt64)? {
            guard case .acknowledgement(let ack)? = try receive() else { return nil }
            return (ack.status, ack.resendFrom)
        }
        let batch = TagBatch(timesPs: [1, 2, 3], channels: [1, 2, 1])

        // Malformed: wrong frame count, garbage header, wrong version — each answered with an error.
        _ = try socket.send(Message([Frame([1, 2, 3]), Frame([])]))
        guard case .error(let report)? = try receive() else { Issue.record("no error reply"); return }
        #expect(ProtocolError.kind(forCode: report.code) == .frameCount)
        _ = try socket.send(Message([Frame([UInt8](repeating: 7, count: 48))]))
        guard case .error(let badHeader)? = try receive() else { Issue.record("no error reply"); return }
        #expect(ProtocolError.kind(forCode: badHeader.code) == .badHeader)
        // Another major protocol version is refused.
        var (futureHeader, futurePayload) = WireMessage(sessionId: 5, sequence: 0, body: .hello(Hello(node: "alice-node", lab: "alice"))).encoded()
        futureHeader[2] = MessageHeader.currentVersion + 1
        _ = try socket.send(Message([Frame(futureHeader + futurePayload)]))
        guard case .error(let version)? = try receive() else { Issue.record("no error reply"); return }
        #expect(ProtocolError.kind(forCode: version.code) == .versionMismatch)
        // A batch before hello is refused.
        try send(.tagBatch(batch), sequence: 1)
        guard case .error(let notIntroduced)? = try receive() else { Issue.record("no error reply"); return }
        #expect(ProtocolError.kind(forCode: notIntroduced.code) == .notIntroduced)
        // A hello naming another node than the certificate is refused.
        try send(.hello(Hello(node: "bob-node", lab: "bob")), sequence: 0)
        guard case .error(let impostor)? = try receive() else { Issue.record("no error reply"); return }
        #expect(impostor.text.contains("alice-node"))

        // The service keeps running: a proper hello is welcomed.
        try send(.hello(Hello(node: "alice-node", lab: "alice")), sequence: 0)
        guard case .welcome(let welcome)? = try receive() else { Issue.record("no welcome"); return }
        #expect(welcome.lastAcceptedSequence == 0)

        try send(.tagBatch(batch), sequence: 1)
        #expect(try ackStatus()?.0 == .accepted)
        try send(.tagBatch(batch), sequence: 3)
        let gap = try ackStatus()
        #expect(gap?.0 == .resendFrom && gap?.1 == 2)
        try send(.tagBatch(batch), sequence: 2, corrupt: true)
        #expect(try ackStatus()?.0 == .corrupt)
        try send(.tagBatch(batch), sequence: 2)
        #expect(try ackStatus()?.0 == .accepted)
        try send(.tagBatch(batch), sequence: 3)
        #expect(try ackStatus()?.0 == .accepted)
        try send(.tagBatch(batch), sequence: 2)
        #expect(try ackStatus()?.0 == .duplicate)
        // Sequence 0 is no batch sequence: refused with an error (and counted), not acknowledged as a duplicate.
        try send(.tagBatch(batch), sequence: 0)
        guard case .error(let zero)? = try receive() else { Issue.record("no error for sequence 0"); return }
        #expect(ProtocolError.kind(forCode: zero.code) == .badHeader && zero.text.contains("sequence 0"))
        // An oversized batch (over the coordinator's payload limit) is refused; the next one is fine.
        let big = TagBatch(timesPs: (0..<5_500).map { Int64($0) }, channels: [TagChannel](repeating: 1, count: 5_500))
        try send(.tagBatch(big), sequence: 4)
        guard case .error(let oversized)? = try receive() else { Issue.record("no error reply"); return }
        #expect(ProtocolError.kind(forCode: oversized.code) == .oversized)
        try send(.tagBatch(batch), sequence: 4)
        #expect(try ackStatus()?.0 == .accepted)

        #expect(await eventually { coordinator.monitor.current.status?.batchesAccepted == 4 })
        let state = coordinator.monitor.current
        #expect(state.rejected[.frameCount] == 1)
        #expect(state.rejected[.badHeader] == 2)  // a garbage header and a batch with sequence 0
        #expect(state.rejected[.notIntroduced] == 1)
        #expect(state.rejected[.checksumMismatch] == 1)
        #expect(state.rejected[.versionMismatch] == 1)
        #expect(state.rejected[.oversized] == 1)
        #expect(state.status?.gaps == 1)
        #expect(state.status?.duplicates == 1)
        socket.close()
        task.cancel()
        try await task.value
        let journal = try CoordinatorJournal(path: directory + "/journal.sqlite")
        #expect(try journal.batches().map(\.sequence) == [1, 2, 3, 4])
    }
}
