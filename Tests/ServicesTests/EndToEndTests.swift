import Foundation
import Journal
import Messaging
import Protocol
import Services
import Testing
import TimeTags

@Suite("Coordinator and nodes on loopback", .serialized)
struct EndToEndTests {
    @Test func twoNodesBatchesAcknowledgedHeraldsAndFidelity() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        let (parameters, durationPs) = testLink()
        let running = try await startCoordinator(coordinatorSettings(directory: directory), security: security)
        let coordinator = running.service, coordinatorTask = running.task
        let control = running.control, publish = running.publish
        let nodes = try ["alice", "bob"].enumerated().map { index, lab in
            NodeService(settings: nodeSettings(lab: lab, index: index, directory: directory, control: control, publish: publish,
                                               parameters: parameters, durationPs: durationPs),
                        transport: try security.client("\(lab)-node"), logger: quietLogger)
        }
        let nodeTasks = nodes.map { node in Task { try await node.run() } }

        // Ground truth: every tag each lab generated.
        let slices = durationPs / parameters.slicePs
        let expected = (0..<2).map { lab in
            (0..<slices).reduce(Int64(0)) { $0 + Int64(SyntheticLink(parameters: parameters, labIndex: lab).slice($1).count) }
        }
        let journal = try CoordinatorJournal(path: directory + "/journal.sqlite")
        let complete = try await eventually {
            let totals = try journal.tagTotals()
            return totals["alice-node"] == expected[0] && totals["bob-node"] == expected[1]
                && nodes.allSatisfy { $0.monitor.current.spoolBatches == 0 && $0.monitor.current.sourceFinished }
        }
        #expect(complete)
        let lastHerald = try journal.lastHerald().sequence
        #expect(lastHerald > 100)
        #expect(await eventually { nodes.allSatisfy { $0.monitor.current.lastHeraldSequence == lastHerald } })
        #expect(await eventually { (coordinator.monitor.current.status?.fidelity) != nil })

        for task in nodeTasks { task.cancel() }
        for task in nodeTasks { try await task.value }
        coordinatorTask.cancel()
        try await coordinatorTask.value

        // No batch journaled twice, every sequence 1…n once per node.
        let batches = try journal.batches()
        for node in ["alice-node", "bob-node"] {
            let sequences = batches.filter { $0.node == node }.map(\.sequence)
            #expect(sequences == Array(1...UInt64(sequences.count)))
        }
        // Both labs logged the same heralds as the coordinator journaled.
        let journaled = try journal.heralds(in: 1...lastHerald).map(\.sequence)
        for lab in ["alice", "bob"] {
            let logged = try NodeSpool(path: directory + "/\(lab)-spool.sqlite", maxBytes: 1 << 30).loggedHeraldSequences()
            #expect(logged == journaled, "lab \(lab)")
        }
        let status = try #require(coordinator.monitor.current.status)
        #expect(status.clockOffsetPs == Double(parameters.clockOffsetBPs) || abs((status.clockOffsetPs ?? 0) - Double(parameters.clockOffsetBPs)) < 1000)
        let fidelity = try #require(status.fidelity), error = try #require(status.fidelityError)
        #expect(error > 0 && error < 0.05)
        #expect(abs(fidelity - parameters.visibility) < 4 * error + 0.01, "fidelity \(fidelity) ± \(error), truth \(parameters.visibility)")
        #expect(status.duplicates == 0)
        #expect(status.malformed == 0)
    }
}
