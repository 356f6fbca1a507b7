import Foundation
import Monitoring
import Protocol
import QLinkTestSupport
import Services
import Testing
import TimeTags

/// Every way round the binding of certificates to labs, tried over real secure sockets: each claim the
/// configuration does not allow is answered with an error, logged with the peer address, node, claimed lab and
/// reason, counted in /metrics and /status, and journaled.
@Suite("Who may speak for a lab")
struct LabIdentityTests {
    /// What the scripted nodes were answered.
    struct Answers: Sendable {
        var aliceAsBob: ScriptedNode.HelloAnswer?
        var batchAfterRefusal: ErrorReport?
        var unlisted: ScriptedNode.HelloAnswer?
        var bobAsStation: ScriptedNode.HelloAnswer?
        var namingAnother: ScriptedNode.HelloAnswer?
        var bobWelcomed: ScriptedNode.HelloAnswer?
        var bobBatch: AcknowledgementStatus?
        var bobRefusals: [ErrorReport?] = []
        var aliceWelcomed: ScriptedNode.HelloAnswer?
        var aliceBatch: AcknowledgementStatus?
        var aliceRefusal: ErrorReport?
    }

    @Test("wrong lab, unlisted node, station impersonation and channels outside the lab are refused, logged and counted")
    func everyWayRoundTheBindingIsRefused() async throws {
        let harness = try await MonitoredCoordinator.start()
        let alice = try harness.security.client("alice-node"), bob = try harness.security.client("bob-node")
        let mallory = try harness.security.client("mallory-node")
        let control = harness.running.control
        let answers = try await offPool { () throws -> Answers in
            var answers = Answers()
            let aliceNode = try ScriptedNode(alice, control: control), bobNode = try ScriptedNode(bob, control: control)
            let malloryNode = try ScriptedNode(mallory, control: control)
            defer { aliceNode.close(); bobNode.close(); malloryNode.close() }
            // alice-node speaks for bob: refused, and it stays unintroduced.
            answers.aliceAsBob = try aliceNode.hello(node: "alice-node", lab: "bob")
            try aliceNode.send(.tagBatch(TagBatch(timesPs: [1], channels: [11])), sequence: 1)
            answers.batchAfterRefusal = try aliceNode.nextError()
            // A certificate of the lab CA that serves no lab.
            answers.unlisted = try malloryNode.hello(node: "mallory-node", lab: "alice")
            // bob-node claims the lab whose tagger records the station (it would decide the heralds).
            answers.bobAsStation = try bobNode.hello(node: "bob-node", lab: "alice")
            // A hello naming another node than the certificate.
            answers.namingAnother = try bobNode.hello(node: "alice-node", lab: "alice")
            // bob as bob is welcome; its station clicks and alice's channel are dropped from its batch.
            answers.bobWelcomed = try bobNode.hello(node: "bob-node", lab: "bob")
            let clicks = (1...20).map { Int64($0) * 100_000 + 50_000 }
            try bobNode.send(.tagBatch(TagBatch(timesPs: clicks + [2_200_000, 2_300_000], channels: [TagChannel](repeating: 21, count: 20) + [11, 1])),
                             sequence: 1)
            answers.bobBatch = try bobNode.nextAcknowledgement()
            answers.bobRefusals = [try bobNode.nextError(), try bobNode.nextError()]
            // alice, the station's lab, may report the station's clicks, not bob's channels.
            answers.aliceWelcomed = try aliceNode.hello(node: "alice-node", lab: "alice")
            try aliceNode.send(.tagBatch(TagBatch(timesPs: clicks + [2_200_000], channels: [TagChannel](repeating: 22, count: 20) + [12])), sequence: 1)
            answers.aliceBatch = try aliceNode.nextAcknowledgement()
            answers.aliceRefusal = try aliceNode.nextError()
            return answers
        }

        func refused(_ answer: ScriptedNode.HelloAnswer?, _ reason: ClaimRefusal) -> Bool {
            guard case .error(let report)? = answer else { return false }
            return ProtocolError.kind(forCode: report.code) == .refused && report.text.hasPrefix(reason.rawValue)
        }
        #expect(refused(answers.aliceAsBob, .wrongLab), "\(String(describing: answers.aliceAsBob))")
        #expect(answers.batchAfterRefusal.flatMap { ProtocolError.kind(forCode: $0.code) } == .notIntroduced)
        #expect(refused(answers.unlisted, .unlistedNode), "\(String(describing: answers.unlisted))")
        #expect(refused(answers.bobAsStation, .wrongLab), "\(String(describing: answers.bobAsStation))")
        #expect(refused(answers.namingAnother, .nodeMismatch), "\(String(describing: answers.namingAnother))")
        #expect(answers.bobWelcomed == .welcome && answers.aliceWelcomed == .welcome)
        #expect(answers.bobBatch == .accepted && answers.aliceBatch == .accepted)
        #expect(answers.bobRefusals.map { $0?.text.split(separator: ":").first.map(String.init) } == ["foreign-channel", "station-channel"])
        #expect(answers.aliceRefusal?.text.hasPrefix("foreign-channel") == true)

        // Only alice's station clicks decided heralds; no refused tag reached the counts.
        let coordinator = harness.running.service
        #expect(await eventually { (coordinator.monitor.current.status?.heralds ?? 0) > 0 && coordinator.monitor.current.status?.batchesAccepted == 2 })
        let status = try #require(coordinator.monitor.current.status)
        #expect(status.tagsByChannel?["21"] == nil && status.tagsByChannel?["1"] == nil && status.tagsByChannel?["12"] == nil)
        #expect(status.tagsByChannel?["22"] == 20 && status.tagsByChannel?["11"] == 1)

        // In the log: each refusal with the peer address, node, claimed lab and reason.
        let hellos = harness.log.records("coordinator.hello.refused")
        #expect(hellos.map { $0.metadata["qlink.reason"] ?? "" } == ["wrong-lab", "unlisted-node", "wrong-lab", "node-mismatch"], "\(hellos)")
        #expect(hellos.map { $0.metadata["qlink.claimed_lab"] ?? "" } == ["bob", "alice", "alice", "alice"])
        #expect(hellos.map { $0.metadata["qlink.node"] ?? "" } == ["alice-node", "mallory-node", "bob-node", "bob-node"])
        #expect(hellos.allSatisfy { $0.level == .warning && $0.metadata["qlink.peer_address"] == "127.0.0.1" }, "\(hellos)")
        let tags = harness.log.records("coordinator.tags.refused")
        #expect(Set(tags.map { "\($0.metadata["qlink.node"] ?? "") \($0.metadata["qlink.reason"] ?? "")" })
            == ["bob-node foreign-channel", "bob-node station-channel", "alice-node foreign-channel"], "\(tags)")

        // In /metrics and /status, and in the journal.
        #expect(await eventually { await harness.counter("qlink_refused_tags_total", reason: "foreign-channel") == 2 })
        #expect(await harness.counter("qlink_refused_hellos_total", reason: "wrong-lab") == 2)
        #expect(await harness.counter("qlink_refused_hellos_total", reason: "unlisted-node") == 1)
        #expect(await harness.counter("qlink_refused_hellos_total", reason: "node-mismatch") == 1)
        #expect(await harness.counter("qlink_refused_tags_total", reason: "station-channel") == 20)
        let shown = await harness.monitor.currentStatus()
        #expect(shown.refusals?.hellos == ["wrong-lab": 2, "unlisted-node": 1, "node-mismatch": 1])
        #expect(StatusText.render(shown).contains("hellos 4 (node-mismatch 1, unlisted-node 1, wrong-lab 2)"))
        let journaled = try harness.journaledRefusals().filter { !$0.contains("handshakes refused") }
        #expect(journaled.filter { $0.hasPrefix("hello from") }.count == 4 && journaled.filter { $0.hasPrefix("tags from") }.count == 3, "\(journaled)")
        #expect(journaled.contains { $0.contains("mallory-node") && $0.contains("unlisted-node") }, "\(journaled)")
        try await harness.stop()
    }
}
