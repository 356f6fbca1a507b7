import Foundation
import Journal
import LinkModel
import Messaging
import Protocol
import QLinkTestSupport
import Services
import Simulation
import Testing
import TimeTags

@Suite("Coordinator and nodes on loopback", .serialized)
struct EndToEndTests {
    /// Runs a coordinator and both labs' nodes on the simulated `configuration` until every tag each node's
    /// simulation produced is journaled; returns the journal, the coordinator's last status and the directory.
    /// `check` runs while the services are up, `afterStop` once they have stopped (the nodes' herald logs are complete).
    /// `adjust` changes the coordinator's settings. - Returns: the stopped coordinator's state (its final status and
    /// the final snapshot of its live analysis, over everything received).
    @discardableResult
    static func run(_ configuration: LinkConfiguration, durationPs: Int64,
                    check: (CoordinatorJournal, CoordinatorService, [NodeService]) async throws -> Void,
                    afterStop: (CoordinatorJournal, String) throws -> Void = { _, _ in },
                    adjust: (inout CoordinatorSettings) -> Void = { _ in }) async throws -> CoordinatorMonitor.State {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        var settings = try SimulatedTestLink.coordinatorSettings(configuration, directory: directory)
        adjust(&settings)
        let running = try await startCoordinator(settings, security: security)
        let nodes = try ["alice", "bob"].map { lab in
            NodeService(settings: try SimulatedTestLink.nodeSettings(configuration, lab: lab, directory: directory, control: running.control,
                                                                    publish: running.publish, durationPs: durationPs),
                        transport: try security.client("\(lab)-node"), logger: quietLogger)
        }
        let nodeTasks = nodes.map { node in Task { try await node.run() } }

        // Ground truth: every tag each lab's simulation generated (lab A's node also carries the station's).
        let expected = try SimulatedTestLink.expectedTags(try SimulatedTestLink.simulation(configuration, durationPs: durationPs))
        let journal = try CoordinatorJournal(path: directory + "/journal.sqlite")
        let complete = try await eventually {
            let totals = try journal.tagTotals()
            return totals["alice-node"] == expected.alice && totals["bob-node"] == expected.bob
                && nodes.allSatisfy { $0.monitor.current.spoolBatches == 0 && $0.monitor.current.sourceFinished }
        }
        #expect(complete, "journaled \((try? journal.tagTotals()) ?? [:]), simulated \(expected)")
        try await check(journal, running.service, nodes)

        for task in nodeTasks { task.cancel() }
        for task in nodeTasks { try await task.value }
        running.task.cancel()
        try await running.task.value

        // No batch journaled twice, every sequence 1…n once per node.
        let batches = try journal.batches()
        for node in ["alice-node", "bob-node"] {
            let sequences = batches.filter { $0.node == node }.map(\.sequence)
            #expect(sequences == Array(1...UInt64(sequences.count)))
        }
        let status = try #require(running.service.monitor.current.status)
        #expect(status.duplicates == 0)
        #expect(status.malformed == 0)
        try afterStop(journal, directory)
        return running.service.monitor.current
    }

    @Test func pairSourceBatchesAcknowledgedClockOffsetAndFidelity() async throws {
        let configuration = try SimulatedTestLink.pairSource()
        // Long enough for the clock recovery's first acquisition span (0.5 s) and a few tracking blocks.
        let durationPs: Int64 = 1_500_000_000_000
        var simulator = try SimulatedTestLink.simulation(configuration, durationPs: durationPs).makeSimulator()
        while simulator.next() != nil {}
        let truth = try #require(simulator.groundTruth().pairSourceSegments?.first)
        try await Self.run(configuration, durationPs: durationPs) { _, coordinator, _ in
            #expect(await eventually { coordinator.monitor.current.status?.fidelity != nil && coordinator.monitor.current.status?.clockOffsetPs != nil })
            let status = try #require(coordinator.monitor.current.status)
            let offset = try #require(status.clockOffsetPs)
            #expect(abs(offset - Double(SimulatedTestLink.labBClockOffsetPs)) < 1000, "offset \(offset)")
            // The live Z/X estimate is the Werner pairs' visibility (a lower bound on the fidelity).
            let fidelity = try #require(status.fidelity), error = try #require(status.fidelityError)
            #expect(error > 0 && error < 0.05)
            #expect(abs(fidelity - truth.visibility) < 4 * error + 0.01, "fidelity \(fidelity) ± \(error), truth \(truth.visibility)")
        }
    }

    @Test func heraldedLinkHeraldsReachBothLabsWithMatchingSequences() async throws {
        let configuration = try SimulatedTestLink.heralded()
        let durationPs: Int64 = 400_000_000_000
        // The simulator's own heralds (its station markers) are the truth of the coordinator's decisions.
        var simulator = try SimulatedTestLink.simulation(configuration, durationPs: durationPs).makeSimulator()
        var simulatedHeralds = 0
        while let step = simulator.next() { simulatedHeralds += step.chunk(.station)?.batch.markers.count ?? 0 }
        try await Self.run(configuration, durationPs: durationPs, check: { journal, _, nodes in
            let lastHerald = try journal.lastHerald().sequence
            #expect(lastHerald > 100)
            #expect(await eventually { nodes.allSatisfy { $0.monitor.current.lastHeraldSequence == lastHerald } })
        }, afterStop: { journal, directory in
            // Both labs logged the same heralds as the coordinator journaled.
            let heralds = try journal.heralds(in: 1...journal.lastHerald().sequence)
            for lab in ["alice", "bob"] {
                let logged = try NodeSpool(path: directory + "/\(lab)-spool.sqlite", maxBytes: 1 << 30).loggedHeraldSequences()
                let same = logged == heralds.map(\.sequence)
                #expect(same, "lab \(lab): logged \(logged.count), journaled \(heralds.count)")
            }
            #expect(zip(heralds, heralds.dropFirst()).allSatisfy { $0.attemptId < $1.attemptId })
            let successes = heralds.filter { $0.outcome != .failure }.count
            #expect(abs(successes - simulatedHeralds) <= max(3, simulatedHeralds / 100),
                    "decided \(successes), simulated \(simulatedHeralds)")
        })
    }
}
