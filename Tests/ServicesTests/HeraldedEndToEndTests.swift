import Foundation
import Journal
import LinkModel
import Protocol
import QLinkTestSupport
import Services
import Simulation
import Testing

/// The heralded demo link over real sockets: a coordinator and two nodes streaming the simulator (lab A with
/// the station's clicks) over CURVE on loopback. The coordinator decides the heralds, correlates both labs'
/// readouts per herald and reports a fidelity of the heralded states within 3 σ of the simulator's truth.
@Suite("Heralded link end to end on loopback", .serialized)
struct HeraldedEndToEndTests {
    @Test func heraldConditionedFidelityOverSockets() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        let configuration = try LinkConfiguration.load(from: RepositoryConfigs.heraldedDemo)
        let durationPs: Int64 = 3_000_000_000_000
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: durationPs, seed: 21)

        var settings = ConfigurationMapping.coordinator(configuration, heralds: try ConfigurationMapping.heralds(configuration))
        settings.controlEndpoint = "tcp://127.0.0.1:0"
        settings.publishEndpoint = "tcp://127.0.0.1:0"
        settings.journalPath = directory + "/journal.sqlite"
        settings.statusIntervalMs = 100
        #expect(settings.analysis?.heralded == true)
        let running = try await startCoordinator(settings, security: security)
        let nodes = try [("alice", StreamRole.labA), ("bob", .labB)].map { lab, role in
            var nodeSettings = NodeSettings(node: "\(lab)-node", lab: lab, controlEndpoint: running.control, publishEndpoint: running.publish,
                                            spoolPath: directory + "/\(lab)-spool.sqlite",
                                            source: .simulation(simulation, role: role, withStation: role == .labA, realTime: false))
            // This test reads the acknowledgement latencies: a node that gave the coordinator up after the default
            // 3 s of silence (a loaded machine) is welcomed again with its batches already accepted and sees no
            // acknowledgements for them (bob, a few batches, saw none once beside two CPU hogs). Losing the
            // coordinator is tested elsewhere.
            nodeSettings.coordinatorTimeoutMs = 600_000
            return NodeService(settings: nodeSettings, transport: try security.client("\(lab)-node"), logger: quietLogger)
        }
        let nodeTasks = nodes.map { node in Task { try await node.run() } }

        let drained = await eventually { nodes.allSatisfy { $0.monitor.current.sourceFinished && $0.monitor.current.spoolBatches == 0 } }
        #expect(drained)
        // A status published after everything was analysed: the counts stop changing.
        var last: StatusReport?
        _ = await eventually {
            guard let status = running.service.monitor.current.status else { return false }
            defer { last = status }
            return last.map { $0.coincidences == status.coincidences && $0.elapsedSeconds < status.elapsedSeconds && status.fidelity != nil } ?? false
        }
        // Latencies the services measured: each node's batch round trips, the coordinator's rounds that
        // acknowledged batches and that decided heralds.
        for node in nodes {
            let latencies = node.monitor.takeAcknowledgementLatencies()
            #expect(!latencies.isEmpty && latencies.allSatisfy { $0 > 0 }, "\(node.settings.node): \(latencies.count) latencies")
        }
        let measured = running.service.monitor.takeMeasurements()
        #expect(!measured.batchAckNs.isEmpty && measured.batchAckNs.allSatisfy { $0 > 0 })
        #expect(!measured.heraldDecisionNs.isEmpty && measured.largestRound >= 1)
        for task in nodeTasks { task.cancel() }
        for task in nodeTasks { try await task.value }
        running.task.cancel()
        try await running.task.value

        let status = try #require(running.service.monitor.current.status)
        let truth = try heraldedTruthFidelity(try simulation.makeSimulator().groundTruth())
        #expect(status.heraldSuccesses > 2_000, "heralds \(status.heraldSuccesses)")
        #expect(Double(status.coincidences) > 0.9 * Double(status.heraldSuccesses), "correlated \(status.coincidences) of \(status.heraldSuccesses)")
        let fidelity = try #require(status.fidelity), error = try #require(status.fidelityError)
        #expect(status.fidelityIsLowerBound == false)
        #expect(error > 0 && error < 0.03)
        #expect(abs(fidelity - truth.fidelity) <= 3 * error, "fidelity \(fidelity) ± \(error), truth \(truth.fidelity)")
        #expect(Set(status.fidelityByHerald?.keys.map { $0 } ?? []) == ["psi_plus", "psi_minus"])
        // Per-channel tag counts: lab A's readouts and the station's detectors, lab B's readouts.
        let channels = try #require(status.tagsByChannel)
        for channel in ["1", "2", "11", "12", "13", "14"] { #expect((channels[channel] ?? 0) > 0, "channel \(channel)") }
        #expect(channels.values.reduce(0, +) == status.tagsByNode.values.reduce(0, +))
        // The coordinator shows the 20 latest heralds it decided, as its journal holds them.
        let recent = running.service.monitor.current.recentHeralds
        let lastSequence = UInt64(status.heralds)
        #expect(recent.map(\.sequence) == Array((lastSequence - 19)...lastSequence))
        #expect(try CoordinatorJournal(path: settings.journalPath).heralds(in: (lastSequence - 19)...lastSequence) == recent)
    }
}
