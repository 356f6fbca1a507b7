import Foundation
import Journal
import Protocol
import QLinkTestSupport
import Services
import Simulation
import Testing

/// A repetition-rate change agreed over real sockets: both labs' simulations switch to the new attempt rate at
/// exactly the committed link time (every batch either lab sent is the simulation with that schedule), confirm
/// it, and the station's tags follow the new attempt grid.
@Suite("Repetition-rate changes on loopback", .serialized)
struct RateChangeTests {
    static func gcd(_ values: [Int64]) -> Int64 {
        values.reduce(0) { a, b in
            var (x, y) = (abs(a), abs(b))
            while y != 0 { (x, y) = (y, x % y) }
            return x
        }
    }

    @Test func simulatedNodesSwitchTheAttemptRateTogether() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        let oldRate = 100_000.0, newRate = 200_000.0
        let oldPeriod: Int64 = 10_000_000, newPeriod: Int64 = 5_000_000
        let link = try SimulatedTestLink.heralded(rateHz: oldRate, chunkTags: 256)
        var settings = try SimulatedTestLink.coordinatorSettings(link, directory: directory)
        // However loaded the machine, the nodes hold their simulations where they answered until the commit: only a
        // deadline long enough for both answers is needed.
        settings.rateChangeTimeoutMs = 600_000
        let running = try await startCoordinator(settings, security: security)
        // A long run (an hour of link time), stopped once enough link time after the change has been journaled: how
        // long the nodes take to connect, or a loaded machine delays the change, does not matter.
        let durationPs: Int64 = 3_600_000_000_000_000
        let nodes = try ["alice", "bob"].map { lab in
            NodeService(settings: try SimulatedTestLink.nodeSettings(link, lab: lab, directory: directory, control: running.control,
                                                                    publish: running.publish, durationPs: durationPs, realTime: true),
                        transport: try security.client("\(lab)-node"), logger: quietLogger)
        }
        let nodeTasks = nodes.map { node in Task { try await node.run() } }
        #expect(await eventually(600) { (running.service.monitor.current.status?.tagsByNode.count ?? 0) == 2 },
                "waited for both nodes' batches in the coordinator's status")
        running.service.requestRepetitionRate(newRate)

        // Both nodes apply it at the committed link time and confirm it.
        #expect(await eventually(600) { nodes.allSatisfy { $0.monitor.current.repetitionRateHz == newRate } },
                "waited for both nodes to apply the new rate: \(nodes.map { $0.monitor.current.repetitionRateHz })")
        let journal = try CoordinatorJournal(path: settings.journalPath)
        let schedule = try journal.rateSchedule()
        let effectivePs = try #require(schedule.first?.atPs, "the committed change in the journal")
        #expect(schedule.count == 1 && schedule.first?.rateHz == newRate)
        #expect(nodes.map { $0.monitor.current.rateSchedule } == [schedule, schedule], "both labs applied exactly the committed change")
        #expect(effectivePs % oldPeriod == 0 && effectivePs > 0)
        #expect(try await eventually(600) {
            let confirmations = try journal.rateConfirmations()
            return Set(confirmations.map(\.node)) == ["alice-node", "bob-node"]
                && confirmations.allSatisfy { $0.outcome == .applied && $0.effectivePs == effectivePs }
        }, "waited for both nodes' confirmations in the journal: \(String(describing: try? journal.rateConfirmations()))")
        // Run on for 0.6 s of link time after the change in both labs, then stop.
        let stopPs = effectivePs + 600_000_000_000
        #expect(try await eventually(600) {
            let batches = try journal.batches()
            return ["alice-node", "bob-node"].allSatisfy { node in batches.contains { $0.node == node && $0.lastPs >= stopPs } }
        }, "waited for both labs' batches to reach link time \(stopPs) ps in the journal")
        for task in nodeTasks { task.cancel() }
        for task in nodeTasks { try await task.value }
        running.task.cancel()
        try await running.task.value

        // Every batch both nodes sent is byte for byte the simulation with that rate schedule, simulated here
        // one second of link time past the last batch either lab sent (one lab may have run well ahead of the other).
        // The last batch of a node may be one the shutdown cut short (the node stopped mid-chunk): it starts where
        // the simulation's batch starts and holds no more tags.
        let batches = try journal.batches()
        let horizonPs = (batches.map(\.lastPs).max() ?? stopPs) + 1_000_000_000_000
        let expected = try SimulatedTestLink.expectedBatches(
            try SimulatedTestLink.simulation(link, durationPs: horizonPs),
            rateChanges: [RepetitionRateChange(fromPs: effectivePs, rateHz: newRate)])
        for (node, want) in [("alice-node", expected.alice), ("bob-node", expected.bob)] {
            let sent = batches.filter { $0.node == node }
            #expect(sent.count > 10 && sent.count <= want.count, "\(node): \(sent.count) batches, \(want.count) simulated")
            guard let last = sent.last, sent.count <= want.count else { continue }
            #expect(sent.dropLast().map(\.checksum) == want.prefix(sent.count - 1).map(\.checksum), "\(node)'s batches")
            let simulated = want[sent.count - 1]
            #expect(last.checksum == simulated.checksum || (last.firstPs == simulated.firstPs && last.tags < simulated.tags),
                    "\(node)'s last batch: \(last.tags) tags from \(last.firstPs) ps, simulated \(simulated.tags) from \(simulated.firstPs ?? -1) ps")
        }

        // The station's clicks that decided heralds sit on the old attempt grid before the change and on the new
        // one after it (no station jitter): the measured attempt period is the new one.
        let heralds = try journal.heralds(in: 1...10_000_000).filter { $0.detectionPs < stopPs }
        let before = heralds.filter { $0.detectionPs < effectivePs }, after = heralds.filter { $0.detectionPs >= effectivePs }
        #expect(before.count > 500 && after.count > 500, "\(before.count) before, \(after.count) after")
        #expect(Self.gcd(before.map(\.detectionPs)) == oldPeriod)
        #expect(Self.gcd(after.map { $0.detectionPs - effectivePs }) == newPeriod)
        #expect(zip(heralds, heralds.dropFirst()).allSatisfy { $0.attemptId < $1.attemptId }, "attempt ids count on")
        // Attempt ids count on across the change: one per attempt period.
        if let last = after.last {
            let firstNew = (UInt64(effectivePs / oldPeriod))
            #expect(last.attemptId == firstNew + UInt64((last.detectionPs - effectivePs) / newPeriod))
        }
        // The herald rate doubles with the attempt rate (same probability per attempt).
        let rateBefore = Double(before.count) / (Double(effectivePs) * 1e-12)
        let rateAfter = Double(after.count) / (Double(stopPs - effectivePs) * 1e-12)
        let ratio = rateAfter / rateBefore
        let ratioError = ratio * (1 / Double(before.count) + 1 / Double(after.count)).squareRoot()
        #expect(abs(ratio - 2) < 4 * ratioError, "herald rate \(rateBefore) → \(rateAfter) Hz")
    }
}
