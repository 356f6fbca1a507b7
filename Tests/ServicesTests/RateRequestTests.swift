import Foundation
import Journal
import Messaging
import Protocol
import QLinkTestSupport
import Security
import Services
import Testing
import TimeTags

/// Repetition-rate agreement over one side's real sockets, with the other side scripted: the coordinator
/// proposes, resends to a node that has not answered, commits at the latest answer plus the margin on the attempt
/// grid, aborts on a timeout or when it restarts with the change undecided, journals all of it and replays the
/// schedule to a node that joins a restarted coordinator; a real node holds its simulation from start until the
/// schedule, answers from where its source holds and applies the commit exactly there.
@Suite("Repetition-rate agreement with scripted peers", .serialized)
struct RateRequestTests {
    /// A scripted lab node: a CURVE DEALER with the lab's certificate.
    final class ScriptedNode: @unchecked Sendable {
        let client: SecureClient
        var socket: Socket { client.socket }
        let name: String
        let session: UInt64
        var sequence: UInt64 = 0

        init(_ name: String, security: TestSecurity, control: String, session: UInt64) throws {
            let transport = try security.client(name)
            client = try SecureSockets.client(.dealer, identity: transport.identity, serverCertificate: transport.serverCertificate,
                                              policy: transport.policy, context: security.context, logger: quietLogger)
            try client.socket.set(.receiveTimeout(milliseconds: 100))
            try client.connect(control)
            self.name = name
            self.session = session
        }

        func send(_ body: WireMessage.Body) throws {
            sequence += 1
            let (header, payload) = WireMessage(sessionId: session, sequence: sequence, body: body).encoded()
            _ = try socket.send(Message([Frame(header + payload)]))
        }

        /// The next message from the coordinator that `accept` takes (others are skipped); nil after 600 s.
        func next<T>(_ accept: (WireMessage.Body) -> T?) throws -> T? {
            let deadline = Date().addingTimeInterval(600)
            while Date() < deadline {
                guard let message = try socket.receive(), message.count == 1,
                      let decoded = try? WireMessage.decode(frame: message.frames[0].bytes) else { continue }
                if let value = accept(decoded.body) { return value }
            }
            return nil
        }

        /// Says hello. - Returns: the schedule that follows the welcome.
        func join(lab: String) throws -> RateScheduleInForce? {
            try send(.hello(Hello(node: name, lab: lab)))
            return try next { if case .rateSchedule(let schedule) = $0 { schedule } else { nil } }
        }

        func proposal() throws -> RateProposal? { try next { if case .rateProposal(let p) = $0 { p } else { nil } } }
        func decision() throws -> WireMessage.Body? {
            try next { body -> WireMessage.Body? in
                switch body {
                case .rateCommit, .rateAbort: body
                default: nil
                }
            }
        }

        func close() { socket.close() }
    }

    /// What every test with scripted nodes sets up: a directory, the test PKI and the coordinator settings.
    struct CoordinatorFixture {
        let directory: String
        let security: TestSecurity
        var settings: CoordinatorSettings

        init() throws {
            directory = try temporaryDirectory()
            security = try TestSecurity(directory: directory)
            settings = coordinatorSettings(directory: directory)
        }

        /// A coordinator with the fixture's settings (again on the same journal after a restart).
        func start() async throws -> RunningCoordinator { try await startCoordinator(settings, security: security) }

        func node(_ name: String, of running: RunningCoordinator, session: UInt64) throws -> ScriptedNode {
            try ScriptedNode(name, security: security, control: running.control, session: session)
        }

        func close() {
            security.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// What every test with a scripted coordinator sets up: the coordinator's sockets, and lab B's real node of the
    /// simulated heralded link (10 µs attempts) at wall-clock pace connected to them; nothing is published.
    final class ScriptedCoordinator: @unchecked Sendable {
        let directory: String
        let security: TestSecurity
        let sockets: ScriptedCoordinatorSockets
        let node: NodeService
        let task: Task<Void, any Error>

        init() throws {
            directory = try temporaryDirectory()
            security = try TestSecurity(directory: directory)
            sockets = try ScriptedCoordinatorSockets(security: security)
            let link = try SimulatedTestLink.heralded()
            var settings = try SimulatedTestLink.nodeSettings(link, lab: "bob", directory: directory, control: sockets.control,
                                                              publish: sockets.publish, durationPs: 3_600_000_000_000_000, realTime: true)
            settings.drainOnStopMs = 0
            let node = NodeService(settings: settings, transport: try security.client("bob-node"), logger: quietLogger)
            self.node = node
            task = Task { try await node.run() }
        }

        /// The next message from the node (nil when none came within the ROUTER's 100 ms receive timeout), and
        /// how to answer it.
        func receive() throws -> (message: WireMessage, reply: (WireMessage.Body) throws -> Void)? {
            let socket = sockets.router
            guard let message = try socket.receive(), message.count == 2,
                  let decoded = try? WireMessage.decode(frame: message.frames[1].bytes) else { return nil }
            let peer = message.frames[0]
            return (decoded, { body in
                let (header, payload) = WireMessage(sessionId: 4242, sequence: 0, body: body).encoded()
                _ = try socket.send(Message([peer, Frame(header + payload)]))
            })
        }

        func stop() async throws {
            task.cancel()
            try await task.value
            sockets.close()
            security.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test func bothLabsReadyCommitsAtTheLatestAnswerPlusTheMarginAndARestartedCoordinatorReplaysIt() async throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.close() }
        let settings = fixture.settings
        let running = try await fixture.start()
        let alice = try fixture.node("alice-node", of: running, session: 5)
        let bob = try fixture.node("bob-node", of: running, session: 6)
        defer { alice.close(); bob.close() }
        struct Flow: Sendable {
            var first: RateScheduleInForce?
            var proposals: [RateProposal?] = []
            var decisions: [WireMessage.Body?] = []
        }
        let flow = try await offPool { () throws -> Flow in
            var flow = Flow()
            flow.first = try alice.join(lab: "alice")
            _ = try bob.join(lab: "bob")
            running.service.requestRepetitionRate(200_000)
            flow.proposals = [try alice.proposal(), try bob.proposal()]
            guard let proposal = flow.proposals[0] else { return flow }
            // Bob does not answer: the proposal comes to him again; alice's answer stands meanwhile.
            try alice.send(.rateAnswer(RateAnswer(changeId: proposal.changeId, earliestPs: 1_000_000_000, verdict: .ready)))
            flow.proposals.append(try bob.proposal())
            // Bob answers twice (the first answer's fate unknown to him).
            for _ in 0..<2 { try bob.send(.rateAnswer(RateAnswer(changeId: proposal.changeId, earliestPs: 3_000_000_001, verdict: .ready))) }
            flow.decisions = [try alice.decision(), try bob.decision()]
            if case .rateCommit(let commit) = flow.decisions[0] {
                for node in [alice, bob] { try node.send(.rateApplied(RateApplied(changeId: commit.changeId, effectivePs: commit.atPs, outcome: .applied))) }
            }
            return flow
        }
        let first = flow.first
        #expect(flow.proposals.count == 3 && Set(flow.proposals).count == 1 && flow.proposals[0]?.rateHz == 200_000,
                "the proposal to both labs, and again to bob: \(flow.proposals)")
        guard case .rateCommit(let commit) = flow.decisions.first, flow.decisions.last == flow.decisions.first else {
            Issue.record("waited for both labs' commits: \(flow.decisions)")
            return
        }
        #expect(first == RateScheduleInForce(), "a fresh run's schedule is empty")
        let committed = commit
        // 3 000 000 001 + 10 ms margin, on the 100 ns attempt grid.
        #expect(committed.atPs == 13_000_100_000 && committed.rateHz == 200_000)
        let journal = try CoordinatorJournal(path: settings.journalPath)
        #expect(await eventually { ((try? journal.rateConfirmations()) ?? []).count == 2 }, "waited for both confirmations in the journal")
        #expect(try journal.rateChanges().map(\.state) == [.committed(atPs: committed.atPs)])
        #expect(try journal.rateAnswers(changeId: committed.changeId).mapValues(\.earliestPs) == ["alice-node": 1_000_000_000, "bob-node": 3_000_000_001])
        #expect(try journal.rateConfirmations().allSatisfy { $0.outcome == .applied && $0.effectivePs == committed.atPs })
        #expect(running.service.monitor.current.rateSchedule == [committed])
        running.task.cancel()
        try await running.task.value

        // A restarted coordinator replays the schedule and sends it to a node that joins.
        let restarted = try await fixture.start()
        let late = try fixture.node("bob-node", of: restarted, session: 7)
        defer { late.close() }
        let replayed = try await offPool { try late.join(lab: "bob") }
        #expect(replayed == RateScheduleInForce(lastDecidedChangeId: committed.changeId, changes: [committed]))
        #expect(restarted.service.monitor.current.rateSchedule == [committed])
        restarted.task.cancel()
        try await restarted.task.value
    }

    @Test func aLabThatDoesNotAnswerInTimeAbortsTheChangeForBoth() async throws {
        var fixture = try CoordinatorFixture()
        defer { fixture.close() }
        fixture.settings.rateChangeTimeoutMs = 300
        let settings = fixture.settings
        let running = try await fixture.start()
        let alice = try fixture.node("alice-node", of: running, session: 5)
        let bob = try fixture.node("bob-node", of: running, session: 6)
        defer { alice.close(); bob.close() }
        let decisions = try await offPool { () throws -> [WireMessage.Body?] in
            _ = try alice.join(lab: "alice")
            _ = try bob.join(lab: "bob")
            running.service.requestRepetitionRate(200_000)
            guard let proposal = try alice.proposal() else { return [] }
            try alice.send(.rateAnswer(RateAnswer(changeId: proposal.changeId, earliestPs: 5, verdict: .ready)))
            return [try alice.decision(), try bob.decision()]
        }
        let abort = RateAbort(changeId: 1, reason: .timeout)
        #expect(decisions == [.rateAbort(abort), .rateAbort(abort)])
        let journal = try CoordinatorJournal(path: settings.journalPath)
        #expect(try journal.rateChanges().map(\.state) == [.aborted(.timeout)])
        #expect(running.service.monitor.current.rateSchedule.isEmpty)
        running.task.cancel()
        try await running.task.value
    }

    @Test func aCoordinatorThatRestartsWithAnUndecidedChangeAbortsIt() async throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.close() }
        let settings = fixture.settings
        let running = try await fixture.start()
        let alice = try fixture.node("alice-node", of: running, session: 5)
        defer { alice.close() }
        let proposal = try await offPool { () throws -> RateProposal? in
            _ = try alice.join(lab: "alice")
            running.service.requestRepetitionRate(300_000)
            return try alice.proposal()
        }
        #expect(proposal?.rateHz == 300_000)
        running.task.cancel()
        try await running.task.value
        let restarted = try await fixture.start()
        let again = try fixture.node("alice-node", of: restarted, session: 8)
        defer { again.close() }
        let schedule = try await offPool { try again.join(lab: "alice") }
        // Neither committed nor open: alice, holding for it, releases.
        #expect(schedule == RateScheduleInForce(lastDecidedChangeId: 1))
        let journal = try CoordinatorJournal(path: settings.journalPath)
        #expect(try journal.rateChanges().map(\.state) == [.aborted(.coordinatorRestart)])
        restarted.task.cancel()
        try await restarted.task.value
    }

    @Test func aNodeHoldsUntilTheScheduleAnswersFromWhereItHoldsAndAppliesTheCommitThere() async throws {
        let coordinator = try ScriptedCoordinator()
        let node = coordinator.node
        struct Script {
            var heldHeartbeats: [Int64] = []
            var batchesBeforeSchedule = 0
            var answers: [RateAnswer] = []
            var confirmations: [RateApplied] = []
            var heartbeatPs: [Int64] = []
            var behind = 0
            var firstAfterWelcome: [MessageType] = []
            var commitPs: Int64 = 0
        }
        let script = try await offPool { () throws -> Script in
            var script = Script()
            var latestBatchPs: Int64 = 0, welcomed = false, scheduled = false, proposed = false
            let deadline = Date().addingTimeInterval(600)
            while Date() < deadline, script.confirmations.isEmpty || script.heartbeatPs.count < 3 {
                guard let (decoded, reply) = try coordinator.receive() else { continue }
                if welcomed, decoded.header.type != .hello {
                    script.firstAfterWelcome.append(decoded.header.type)
                    welcomed = false
                }
                switch decoded.body {
                case .hello:
                    try reply(.welcome(Welcome(lastAcceptedSequence: 0, credit: 1_000_000, nextHeraldSequence: 1, runId: 1)))
                    welcomed = true
                case .tagBatch(let batch):
                    if !scheduled { script.batchesBeforeSchedule += 1 }
                    latestBatchPs = max(latestBatchPs, batch.timesPs.first ?? 0)
                case .heartbeat:
                    if !scheduled {
                        // Without a schedule the source holds at its start: two heartbeats (a second apart) say so.
                        script.heldHeartbeats.append(decoded.header.eventTimePs)
                        if script.heldHeartbeats.count == 2 {
                            try reply(.rateSchedule(RateScheduleInForce()))
                            scheduled = true
                        }
                        continue
                    }
                    if decoded.header.eventTimePs < latestBatchPs { script.behind += 1 }
                    script.heartbeatPs.append(decoded.header.eventTimePs)
                    // Once the node reports a position: the proposal, sent twice.
                    if !proposed, decoded.header.eventTimePs > 0 {
                        proposed = true
                        for _ in 0..<2 { try reply(.rateProposal(RateProposal(changeId: 7, rateHz: 200_000))) }
                    }
                case .rateAnswer(let answer):
                    script.answers.append(answer)
                    if script.answers.count == 2 {
                        // Committed 1 ms of link time after the answer, on the 10 µs attempt grid.
                        script.commitPs = AttemptGrid(originPs: 0, periodPs: 10_000_000).align(answer.earliestPs + 1_000_000_000)
                        try reply(.rateCommit(RateCommit(changeId: 7, atPs: script.commitPs, rateHz: 200_000)))
                    }
                case .rateApplied(let applied):
                    script.confirmations.append(applied)
                default:
                    break
                }
            }
            return script
        }
        #expect(script.heldHeartbeats == [0, 0], "the source generates nothing before the schedule")
        #expect(script.batchesBeforeSchedule == 0)
        #expect(script.answers.count == 2 && Set(script.answers).count == 1 && script.answers.first?.verdict == .ready, "\(script.answers)")
        #expect(script.confirmations == [RateApplied(changeId: 7, effectivePs: script.commitPs, outcome: .applied)])
        let state = node.monitor.current
        #expect(state.repetitionRateHz == 200_000 && state.repetitionRateEffectivePs == script.commitPs)
        #expect(state.rateSchedule == [RateCommit(changeId: 7, atPs: script.commitPs, rateHz: 200_000)] && state.rateConflicts.isEmpty)
        #expect(script.heartbeatPs.count >= 3 && script.heartbeatPs.last.map { $0 > 0 } == true, "\(script.heartbeatPs)")
        #expect(zip(script.heartbeatPs, script.heartbeatPs.dropFirst()).allSatisfy { $0 <= $1 }, "\(script.heartbeatPs)")
        #expect(script.behind == 0, "heartbeats behind a batch sent before them")
        #expect(!script.firstAfterWelcome.isEmpty && script.firstAfterWelcome.allSatisfy { $0 == .heartbeat }, "\(script.firstAfterWelcome)")
        try await coordinator.stop()
    }

    @Test func aNodeWhoseScheduleIsLostAsksForItAgainAndShowsWhyItHolds() async throws {
        let coordinator = try ScriptedCoordinator()
        let node = coordinator.node
        struct Script {
            /// The node's hold reason when each of its requests (a hello once welcomed) arrived.
            var requests: [String] = []
            /// The hold reason at each heartbeat before the schedule was sent.
            var heldReasons: [String?] = []
            var runningPs: Int64 = 0
        }
        let script = try await offPool { () throws -> Script in
            var script = Script()
            // Bounded by the node's heartbeats (one a second), not by wall time: a node that never asks ends it.
            while script.runningPs == 0, script.heldReasons.count < 30 {
                guard let (decoded, reply) = try coordinator.receive() else { continue }
                switch decoded.body {
                case .hello:
                    // The schedule after the welcome and after the first request is lost; the second request gets it.
                    try reply(.welcome(Welcome(lastAcceptedSequence: 0, credit: 1_000_000, nextHeraldSequence: 1, runId: 1)))
                    if let reason = node.monitor.current.rateHold, reason.contains("requests sent") {
                        script.requests.append(reason)
                        if script.requests.count == 2 { try reply(.rateSchedule(RateScheduleInForce())) }
                    }
                case .heartbeat:
                    // Answered, so the node never takes the coordinator for lost (and says hello for that).
                    try reply(.heartbeat)
                    if script.requests.count < 2 {
                        script.heldReasons.append(node.monitor.current.rateHold)
                    } else if decoded.header.eventTimePs > 0 {
                        script.runningPs = decoded.header.eventTimePs
                    }
                default:
                    break
                }
            }
            return script
        }
        #expect(script.requests.count == 2, "the welcomed node asks for the schedule again until it comes: \(script.requests)")
        #expect(script.runningPs > 0, "the source runs once the schedule arrived")
        #expect(script.heldReasons.allSatisfy { $0?.contains("rate schedule") == true }, "\(script.heldReasons)")
        #expect(node.monitor.current.rateHold == nil)
        try await coordinator.stop()
    }
}
