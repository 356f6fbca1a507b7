import Foundation
import Journal
import Messaging
import Protocol
import QLinkTestSupport
import Security
import Services
import Testing
import TimeTags

/// The repetition-rate request over one side's real sockets, with the other side scripted: the coordinator
/// sends a request again until each node answers and journals each answer once; a node answers a repeated
/// request with its first answer and applies it once; node heartbeats report how far its source has generated.
@Suite("Repetition-rate requests and answers")
struct RateRequestTests {
    @Test func theCoordinatorRepeatsAnUnansweredRequestAndJournalsEachAnswerOnce() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        let running = try await startCoordinator(coordinatorSettings(directory: directory), security: security)
        let transport = try security.client("alice-node")
        let client = try SecureSockets.client(.dealer, identity: transport.identity, serverCertificate: transport.serverCertificate,
                                              policy: transport.policy, context: security.context, logger: quietLogger)
        let socket = client.socket
        try socket.set(.receiveTimeout(milliseconds: 100))
        try client.connect(running.control)
        func send(_ body: WireMessage.Body, sequence: UInt64) throws {
            let (header, payload) = WireMessage(sessionId: 5, sequence: sequence, body: body).encoded()
            _ = try socket.send(Message([Frame(header), Frame(payload)]))
        }
        /// The next message from the coordinator that `accept` takes (others, e.g. heartbeats, are skipped).
        func next<T>(_ accept: (WireMessage) -> T?) throws -> T? {
            let deadline = Date().addingTimeInterval(600)
            while Date() < deadline {
                guard let message = try socket.receive(), message.count == 2,
                      let decoded = try? WireMessage.decode(header: message.frames[0].bytes, payload: message.frames[1].bytes) else { continue }
                if let value = accept(decoded) { return value }
            }
            return nil
        }

        try send(.hello(Hello(node: "alice-node", lab: "alice")), sequence: 0)
        let welcomed = try next { message -> Bool? in if case .welcome = message.body { true } else { nil } }
        try #require(welcomed == true, "waited for the coordinator's welcome")
        running.service.requestRepetitionRate(200_000)
        // The first request goes unanswered (as if lost): the same request comes again.
        func request() throws -> (id: UInt64, rateHz: Double, timePs: Int64)? {
            try next { message -> (id: UInt64, rateHz: Double, timePs: Int64)? in
                if case .setRepetitionRate(let request) = message.body { (request.requestId, request.rateHz, message.header.eventTimePs) } else { nil }
            }
        }
        let first = try #require(try request(), "waited for the set-repetition-rate request")
        let again = try #require(try request(), "waited for the request to be sent again")
        #expect(first.id == again.id && first.rateHz == again.rateHz && first.timePs == again.timePs, "\(first) then \(again)")
        #expect(first.rateHz == 200_000)
        // Answered twice (the first answer's fate unknown to the node): one journal row. A batch sent after the
        // answers is acknowledged after both were handled (one connection, in order).
        try send(.controlAck(ControlAck(requestId: first.id, applied: true, valueInForce: 200_000)), sequence: 1)
        try send(.controlAck(ControlAck(requestId: first.id, applied: true, valueInForce: 200_000)), sequence: 2)
        try send(.tagBatch(TagBatch(timesPs: [1, 2], channels: [1, 2])), sequence: 1)
        let acknowledged = try next { message -> Bool? in if case .acknowledgement = message.body { true } else { nil } }
        #expect(acknowledged == true, "waited for the batch's acknowledgement")
        let journal = try CoordinatorJournal(path: directory + "/journal.sqlite")
        let answers = try journal.configurationChanges().filter { $0.key == "repetition_rate_hz.alice-node" }
        #expect(answers.map(\.value) == ["200000.0 (request \(first.id), applied true)"])
        socket.close()
        running.task.cancel()
        try await running.task.value
    }

    @Test func aNodeAnswersARepeatedRequestAlikeAndReportsItsGeneratedLinkTime() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        let sockets = try ScriptedCoordinatorSockets(security: security)
        defer { sockets.close() }
        let router = sockets.router, control = sockets.control, publish = sockets.publish
        // Lab B's node of the simulated heralded link at wall-clock pace; nothing is published.
        let link = try SimulatedTestLink.heralded()
        var settings = try SimulatedTestLink.nodeSettings(link, lab: "bob", directory: directory, control: control,
                                                          publish: publish, durationPs: 3_600_000_000_000_000, realTime: true)
        settings.drainOnStopMs = 0
        let node = NodeService(settings: settings, transport: try security.client("bob-node"), logger: quietLogger)
        let nodeTask = Task { try await node.run() }

        nonisolated(unsafe) let socket = router
        let script = try await offPool { () throws -> (answers: [ControlAck], heartbeatPs: [Int64], behind: Int, requestedPs: Int64, firstAfterWelcome: [MessageType]) in
            var answers: [ControlAck] = [], heartbeatPs: [Int64] = []
            var latestBatchPs: Int64 = 0, behind = 0, requestedPs: Int64 = 0
            // What the node sent first after each welcome (hellos aside): a heartbeat, before any batch.
            var firstAfterWelcome: [MessageType] = [], welcomed = false
            let deadline = Date().addingTimeInterval(600)
            while Date() < deadline, answers.count < 2 || heartbeatPs.count < 3 {
                guard let message = try socket.receive(), message.count == 3,
                      let decoded = try? WireMessage.decode(header: message.frames[1].bytes, payload: message.frames[2].bytes) else { continue }
                func reply(_ body: WireMessage.Body, timePs: Int64 = 0) throws {
                    let (header, payload) = WireMessage(sessionId: 4242, sequence: 0, eventTimePs: timePs, body: body).encoded()
                    _ = try socket.send(Message([message.frames[0], Frame(header), Frame(payload)]))
                }
                if welcomed, decoded.header.type != .hello {
                    firstAfterWelcome.append(decoded.header.type)
                    welcomed = false
                }
                switch decoded.body {
                case .hello:
                    try reply(.welcome(Welcome(lastAcceptedSequence: 0, credit: 1_000_000, nextHeraldSequence: 1, runId: 1)))
                    welcomed = true
                case .tagBatch(let batch):
                    latestBatchPs = max(latestBatchPs, batch.timesPs.first ?? 0)
                case .heartbeat:
                    // A heartbeat reports at least as far as every batch sent before it.
                    if decoded.header.eventTimePs < latestBatchPs { behind += 1 }
                    heartbeatPs.append(decoded.header.eventTimePs)
                    // Once the node has reported its position: a request 30 s of link time ahead, sent twice.
                    if requestedPs == 0, decoded.header.eventTimePs > 0 {
                        requestedPs = decoded.header.eventTimePs + 30_000_000_000_000
                        for _ in 0..<2 { try reply(.setRepetitionRate(SetRepetitionRate(requestId: 7, rateHz: 200_000)), timePs: requestedPs) }
                    }
                case .controlAck(let ack):
                    answers.append(ack)
                default:
                    break
                }
            }
            return (answers, heartbeatPs, behind, requestedPs, firstAfterWelcome)
        }
        #expect(script.answers.count == 2, "waited for two answers to the twice-sent request")
        #expect(script.answers.allSatisfy { $0 == ControlAck(requestId: 7, applied: true, valueInForce: 200_000) }, "\(script.answers)")
        let state = node.monitor.current
        #expect(state.repetitionRateHz == 200_000)
        // Applied once, from the first attempt of the old grid (10 µs) at or after the requested time.
        let effectivePs = try #require(state.repetitionRateEffectivePs)
        #expect(effectivePs >= script.requestedPs && effectivePs < script.requestedPs + 10_000_000 && effectivePs % 10_000_000 == 0)
        #expect(script.heartbeatPs.count >= 3 && script.heartbeatPs.last.map { $0 > 0 } == true, "\(script.heartbeatPs)")
        #expect(zip(script.heartbeatPs, script.heartbeatPs.dropFirst()).allSatisfy { $0 <= $1 }, "\(script.heartbeatPs)")
        #expect(script.behind == 0, "heartbeats behind a batch sent before them")
        #expect(!script.firstAfterWelcome.isEmpty && script.firstAfterWelcome.allSatisfy { $0 == .heartbeat }, "\(script.firstAfterWelcome)")
        nodeTask.cancel()
        try await nodeTask.value
    }
}
