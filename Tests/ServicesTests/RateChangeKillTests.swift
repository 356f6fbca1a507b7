import Foundation
import Journal
import LinkModel
import Protocol
import QLinkTestSupport
import Services
import Simulation
import Testing

/// A repetition-rate change with real processes killed around it: the coordinator (started with
/// `--propose-rate`) is killed with SIGKILL at a random moment around the change — in every other trial one lab's
/// node too — and restarted; in every fourth trial it is killed while the change is certainly undecided (lab B's
/// node stopped with SIGSTOP before the proposal, which a coordinator restarted with `--propose-rate` sends at once
/// since its journal holds both labs' tags). Whatever the moment, the change is applied by both labs at the same link time
/// or by neither: the journal holds no undecided change, both nodes applied exactly the journal's schedule, and
/// every batch either lab sent is the simulation with that schedule. `QLINK_RATE_KILL_TRIALS` sets the number of
/// trials (default 4).
@Suite("Rate changes survive SIGKILL", .serialized, .enabled(if: qlinkExecutable != nil, "build qlink first (swift build --build-tests)"))
struct RateChangeKillTests {
    static var trials: Int { Int(ProcessInfo.processInfo.environment["QLINK_RATE_KILL_TRIALS"] ?? "") ?? 4 }
    static let seconds = 3.0

    @Test func aChangeInFlightIsAppliedByBothLabsOrByNeither() async throws {
        var outcomes: [String] = []
        for trial in 0..<Self.trials {
            let victim: String? = trial % 2 == 0 ? nil : (trial % 4 == 1 ? "alice" : "bob")
            outcomes.append(try await Self.trial(killing: victim, undecided: trial % 4 == 2))
        }
        #expect(outcomes.count == Self.trials)
        print("rate change under SIGKILL, \(Self.trials) trials: \(outcomes.joined(separator: "; "))")
    }

    /// One trial. - Returns: what happened (for the record).
    static func trial(killing victim: String?, undecided: Bool) async throws -> String {
        let link = try ProcessLink()
        defer { try? FileManager.default.removeItem(atPath: link.directory) }
        func proposing(_ propose: Bool) -> [String] { propose ? ["--propose-rate", "200000"] : [] }
        var first = try link.coordinator(extra: proposing(!undecided))
        let endpoints = try #require(await link.endpoints(of: first))
        var nodes = try ["alice", "bob"].map { try link.node($0, endpoints: endpoints, seconds: seconds) }
        // The proposal goes out as soon as the coordinator has both labs' tags: kill it at a random moment around then.
        #expect(await eventually {
            (StatusFile.read(CoordinatorStatusFile.self, from: link.statusPath("coordinator"))?.status?.tagsByNode.count ?? 0) == 2
        }, "waited for both labs' tags at the coordinator")
        if undecided {
            // Lab B's node stops; a coordinator restarted with --propose-rate proposes at once, and the change
            // waits for lab B's answer.
            kill(nodes[1].processIdentifier, SIGSTOP)
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            first = try await link.restartedCoordinator(on: endpoints, extra: proposing(true))
            #expect(await eventually {
                !((try? CoordinatorJournal(path: link.journal).rateChanges()) ?? []).isEmpty
            }, "waited for the proposal in the journal")
        } else {
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...600)))
        }
        kill(first.processIdentifier, SIGKILL)
        if undecided { kill(nodes[1].processIdentifier, SIGCONT) }
        var killedNode = false
        if let victim, let index = ["alice", "bob"].firstIndex(of: victim) {
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...300)))
            kill(nodes[index].processIdentifier, SIGKILL)
            nodes[index].waitUntilExit()
            killedNode = true
        }
        first.waitUntilExit()
        first = try await link.restartedCoordinator(on: endpoints)
        if let victim, let index = ["alice", "bob"].firstIndex(of: victim) {
            nodes[index] = try link.node(victim, endpoints: endpoints, seconds: seconds)
        }
        for node in nodes { #expect(await link.finish(node, within: 600)) }
        first.terminate()
        #expect(await link.finish(first))

        let journal = try CoordinatorJournal(path: link.journal)
        let changes = try journal.rateChanges()
        #expect(!changes.contains { $0.state == .proposed }, "an undecided change: \(changes)")
        let schedule = try journal.rateSchedule()
        for lab in ["alice", "bob"] {
            let state = try #require(link.nodeStatus(lab))
            #expect(state.rateSchedule ?? [] == schedule, "\(lab) applied \(state.rateSchedule ?? []), the journal's schedule is \(schedule)")
            #expect(state.rateConflicts == nil, "\(lab): \(state.rateConflicts ?? [])")
        }
        // Every batch both labs sent (all sessions) is the simulation with the journal's schedule.
        let configuration = try LinkConfiguration.load(from: link.config)
        let expected = try SimulatedTestLink.expectedBatches(
            try SimulatedTestLink.simulation(configuration, durationPs: Int64(seconds * 1e12)),
            rateChanges: schedule.map { RepetitionRateChange(fromPs: $0.atPs, rateHz: $0.rateHz) })
        let batches = try journal.batches()
        for (node, want) in [("alice-node", expected.alice), ("bob-node", expected.bob)] {
            let checksums = Set(want.map(\.checksum))
            let sent = batches.filter { $0.node == node }
            let foreign = sent.filter { !checksums.contains($0.checksum) }
            #expect(!sent.isEmpty && foreign.isEmpty, "\(node): \(foreign.count) of \(sent.count) batches are not the simulation with schedule \(schedule)")
        }
        let what = schedule.isEmpty ? "neither (\(changes.map { "\($0.state)" }))" : "both at \(schedule.map(\.atPs)) ps"
        return (killedNode ? "coordinator and \(victim ?? "") killed: " : "coordinator killed: ") + what
    }
}
