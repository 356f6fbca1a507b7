import Foundation
import Journal
import Messaging
import Protocol
import Security
import Services
import QLinkTestSupport
import Testing
import TimeTags

/// A node against a scripted coordinator: heralds 1, 2 and 5 are published; the node must notice the
/// gap, ask for 3…4 on its DEALER, log the answers once, and end with nothing missing; heralds a status
/// announced before they arrived are counted once however often they come.
@Suite("Node herald gaps")
struct NodeHeraldGapTests {
    @Test func aNodeAsksForMissingHeraldsAndLogsEachOnce() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        let sockets = try ScriptedCoordinatorSockets(security: security)
        defer { sockets.close() }
        let router = sockets.router, publisher = sockets.publisher, control = sockets.control, publish = sockets.publish

        var settings = NodeSettings(node: "bob-node", lab: "bob", controlEndpoint: control, publishEndpoint: publish,
                                    spoolPath: directory + "/bob-spool.sqlite", source: .pattern(TagBatch(), repetitions: 0, spanPs: 1))
        settings.drainOnStopMs = 0
        let node = NodeService(settings: settings, transport: try security.client("bob-node"), logger: quietLogger)
        let nodeTask = Task { try await node.run() }

        let session: UInt64 = 4242
        func envelope(_ body: WireMessage.Body, sequence: UInt64 = 0) -> [Frame] {
            let (header, payload) = WireMessage(sessionId: session, sequence: sequence, body: body).encoded()
            return [Frame(header + payload)]
        }
        func herald(_ sequence: UInt64) -> WireMessage.Body {
            .herald(Herald(sequence: sequence, attemptId: sequence * 10, outcome: .psiMinus, timePs: Int64(sequence) * 1_000_000, detectionPs: 1))
        }
        func publishHerald(_ sequence: UInt64) throws {
            _ = try publisher.send(Message([Frame(WireMessage(sessionId: session, sequence: sequence, body: herald(sequence)).broadcastFrame())]))
        }
        func publishStatus(_ heralds: Int64) throws {
            var status = StatusReport(runId: 1)
            status.heralds = heralds
            _ = try publisher.send(Message([Frame(WireMessage(sessionId: session, sequence: 0, body: .status(status)).broadcastFrame())]))
        }
        /// Answers the node's hellos with a welcome, and returns herald requests it sends.
        func serve(_ deadline: Date, stopWhen done: () -> Bool) throws -> [HeraldRequest] {
            var requests: [HeraldRequest] = []
            while Date() < deadline, !done() {
                guard let message = try router.receive(), message.count == 2 else { continue }
                let routing = message.frames[0]
                guard let decoded = try? WireMessage.decode(frame: message.frames[1].bytes) else { continue }
                switch decoded.body {
                case .hello:
                    let welcome = Welcome(lastAcceptedSequence: 0, credit: 8, nextHeraldSequence: 1, runId: 1)
                    _ = try router.send(Message([routing] + envelope(.welcome(welcome))))
                case .heraldRequest(let request):
                    requests.append(request)
                    for sequence in request.first...request.last {
                        _ = try router.send(Message([routing] + envelope(herald(sequence), sequence: sequence)))
                    }
                default:
                    break
                }
            }
            return requests
        }

        // The scripted coordinator blocks on its sockets, so it runs on its own thread, never on the
        // cooperative pool the node's tasks need. The sockets are used by that thread alone meanwhile.
        nonisolated(unsafe) let script = (serve: serve, publishHerald: publishHerald, publishStatus: publishStatus)
        let (requests, connected) = try await offPool { () throws -> ([HeraldRequest], Bool) in
            let serve = script.serve, publishHerald = script.publishHerald, publishStatus = script.publishStatus
            _ = try serve(Date().addingTimeInterval(600)) { node.monitor.current.connected }
            let connected = node.monitor.current.connected
            // The SUB connection takes a moment: repeat herald 1 until it arrives (repeats are not counted twice).
            let deadline = Date().addingTimeInterval(600)
            while node.monitor.current.lastHeraldSequence < 1, Date() < deadline {
                try publishHerald(1)
                _ = try serve(Date().addingTimeInterval(0.02)) { false }
            }
            try publishHerald(2)
            try publishHerald(5)
            var requests = try serve(Date().addingTimeInterval(600)) {
                node.monitor.current.heraldsReceived >= 5 && node.monitor.current.missingHeralds == 0
            }
            // A status announces heralds 6 and 7 before they arrive: the node asks for them, then receives
            // them on the broadcast and again as the answer. Each counts once; the answers are repeats.
            try publishStatus(7)
            try publishHerald(6)
            try publishHerald(7)
            requests += try serve(Date().addingTimeInterval(600)) {
                let state = node.monitor.current
                return state.heraldsReceived + state.heraldRepeats >= 9 && state.missingHeralds == 0
            }
            return (requests, connected)
        }
        #expect(connected)
        #expect(requests.first.map { ($0.first, $0.last) } ?? (0, 0) == (3, 4))
        let state = node.monitor.current
        #expect(state.heraldsReceived == 7)
        #expect(state.heraldRepeats >= 2)
        #expect(state.heraldGaps == 1)
        #expect(state.missingHeralds == 0)
        #expect(state.lastHeraldSequence == 7)
        nodeTask.cancel()
        try await nodeTask.value
        let logged = try NodeSpool(path: directory + "/bob-spool.sqlite", maxBytes: 1 << 20).loggedHeraldSequences()
        #expect(logged == [1, 2, 3, 4, 5, 6, 7])
    }
}
