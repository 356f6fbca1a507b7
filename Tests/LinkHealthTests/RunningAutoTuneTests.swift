import Foundation
import Journal
import LinkHealth
import LinkModel
import Messaging
import Monitoring
import Planner
import Protocol
import QLinkTestSupport
import Services
import Simulation
import Testing

/// The demo's heralded link with frequency converters whose added noise grows with the attempt rate, run at
/// 1 MHz where that noise pulls the fidelity below the 0.9 target: the running coordinator's monitoring
/// re-tunes from the measured herald rate and, with `auto_tune: true`, sends the planner's rate to both
/// nodes, which acknowledge and apply it to their simulations at the same link time; the change is journaled.
@Suite("Auto-tune in a running coordinator", .serialized)
struct RunningAutoTuneTests {
    static let noisePerHz = 1.0e-10

    /// The link folder: demo.yaml's labs and simulation with the noisier model and auto-tune on.
    static func link() throws -> (directory: String, configuration: LinkConfiguration, certificates: RunCertificates) {
        let directory = NSTemporaryDirectory() + "qlink-autotune-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let demo = try String(contentsOf: root.appendingPathComponent("configs/demo.yaml"), encoding: .utf8)
        // demo.yaml: … labs, model:, simulation:, monitoring: — keep everything but the model and monitoring.
        guard let modelStart = demo.range(of: "\nmodel:"), let simulationStart = demo.range(of: "\nsimulation:"),
              let monitoringStart = demo.range(of: "\nmonitoring:") ?? demo.range(of: "\n# Link health monitoring") else {
            throw ServiceFailure(what: "test link", detail: "configs/demo.yaml no longer has model:, simulation: and monitoring: sections")
        }
        let model = """

        model:
          protocol: { kind: single_click, alpha: 0.05 }
          clock: { repetition_rate_hz: 1_000_000, classical_latency_ps: 1_000_000 }
          midpoint:
            visibility: 0.9
            detectors: { efficiency: 0.8, dark_count_rate_hz: 20, window_ps: 20_000 }
          arms:
            - name: alice
              stages:
                - { kind: emitter, collection_efficiency: 0.05 }
                - { kind: frequency_converter, efficiency: 0.5, noise_photons_per_attempt_per_hz: \(noisePerHz) }
                - { kind: fibre, length_km: 5, loss_db_per_km: 0.25 }
            - name: bob
              stages:
                - { kind: emitter, collection_efficiency: 0.05 }
                - { kind: frequency_converter, efficiency: 0.5, noise_photons_per_attempt_per_hz: \(noisePerHz) }
                - { kind: fibre, length_km: 5, loss_db_per_km: 0.25 }
          costs:
            overhead: { operating_per_hour: 360 }

        """
        let monitoring = """

        monitoring:
          window_s: 1
          planned: { enabled: false }
          retune: { auto_tune: true, min_fidelity: 0.9, min_rate_hz: 10_000, max_rate_hz: 2_000_000, min_dwell_s: 0, min_improvement: 0.05 }

        """
        let text = String(demo[..<modelStart.lowerBound]) + model + String(demo[simulationStart.lowerBound..<monitoringStart.lowerBound]) + monitoring
        try text.write(toFile: directory + "/link.yaml", atomically: true, encoding: .utf8)
        let certificates = try RunCertificates.create(directory: directory + "/pki", nodes: ["alice-node", "bob-node"], days: 90)
        return (directory, try LinkConfiguration.load(from: directory + "/link.yaml"), certificates)
    }

    @Test func theCoordinatorSendsThePlannersRateAndBothSimulatedNodesApplyIt() async throws {
        let (directory, configuration, certificates) = try Self.link()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = try #require(configuration.model)
        let retune = try #require(configuration.monitoring?.retune)
        let configuredRateHz = try #require(model.clock.repetitionRateHz)
        let target = try #require(Retuner(model: model, configuration: retune).optimum(for: model).best)
        let targetRateHz = target.point.repetitionRateHz
        // The noise makes 1 MHz miss the fidelity target, so the planner's rate is far below it.
        try #require(targetRateHz < 0.7 * configuredRateHz, "planner's rate \(targetRateHz) Hz")

        let context = ZMQContext()
        let server = try certificates.serverTransport(context: context, logger: quietLogger)
        defer { server.zap.stop() }
        var settings = ConfigurationMapping.coordinator(configuration, heralds: try ConfigurationMapping.heralds(configuration))
        settings.controlEndpoint = "tcp://127.0.0.1:0"
        settings.publishEndpoint = "tcp://127.0.0.1:0"
        settings.journalPath = directory + "/journal.sqlite"
        settings.statusIntervalMs = 100
        // Both labs agree on the change (they hold their simulations until it is decided): a loaded machine only
        // needs a long deadline for their answers.
        settings.rateChangeTimeoutMs = 600_000
        let coordinator = CoordinatorService(settings: settings, transport: server, logger: quietLogger)
        let coordinatorTask = Task { try await coordinator.run() }
        #expect(await eventually { coordinator.monitor.current.controlEndpoint != nil && coordinator.monitor.current.publishEndpoint != nil })
        let control = try #require(coordinator.monitor.current.controlEndpoint), publish = try #require(coordinator.monitor.current.publishEndpoint)

        let journal = try CoordinatorJournal(path: settings.journalPath)
        let monitor = try LinkMonitor(link: configuration, role: "coordinator", history: JournalAlertHistory(journal: journal), logger: quietLogger)
        var watcher = CoordinatorMonitoringService(coordinator: coordinator, monitor: monitor, link: configuration,
                                                   retuneIntervalSeconds: 5, logger: quietLogger)
        watcher.observationIntervalSeconds = 0.2
        let watcherTask = Task { [watcher] in try await watcher.run() }

        // Real-time nodes with an hour of link time: the test stops them itself, so a loaded machine that delays the
        // change by minutes does not run the link out of data before the heralds after it.
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: 3_600_000_000_000_000)
        let nodes = try [("alice", StreamRole.labA, true), ("bob", .labB, false)].map { lab, role, station in
            NodeService(settings: NodeSettings(node: "\(lab)-node", lab: lab, controlEndpoint: control, publishEndpoint: publish,
                                               spoolPath: directory + "/\(lab)-spool.sqlite",
                                               source: .simulation(simulation, role: role, withStation: station, realTime: true)),
                        transport: try certificates.clientTransport(node: "\(lab)-node", context: context), logger: quietLogger)
        }
        let nodeTasks = nodes.map { node in Task { try await node.run() } }
        defer {
            for task in nodeTasks + [coordinatorTask, watcherTask] { task.cancel() }
        }

        // Both nodes acknowledge the change and run their simulations at the new rate.
        let applied = await eventually {
            nodes.allSatisfy { node in node.monitor.current.repetitionRateHz.map { abs($0 - targetRateHz) <= 1e-6 * targetRateHz } ?? false }
        }
        let rates = nodes.map { $0.monitor.current.repetitionRateHz }
        #expect(applied, "nodes' rates \(rates), planner's \(targetRateHz) Hz")
        let effective = nodes.map { $0.monitor.current.repetitionRateEffectivePs }
        #expect(effective[0] != nil && effective[0] == effective[1], "both labs change at the same link time: \(effective)")
        // The journal holds the change, committed at that time, and each node's confirmation (once the coordinator has it).
        // One change only: the monitor re-tunes only from a whole window of link time with enough heralds, so a loaded
        // machine's early window cannot move the rate to an intermediate value first.
        #expect(await eventually { ((try? journal.rateConfirmations()) ?? []).count >= 2 }, "waited for both nodes' confirmations in the journal")
        let changes = try journal.rateChanges()
        #expect(changes.count == 1 && changes.first?.state == .committed(atPs: effective[0] ?? -1), "\(changes)")
        #expect(changes.first.map { abs($0.rateHz - targetRateHz) <= 1e-6 * targetRateHz } == true, "\(changes)")
        #expect(try journal.rateConfirmations().map(\.outcome) == [.applied, .applied])
        // The monitor predicts from the committed rate.
        #expect(await eventually {
            await monitor.currentStatus().tuning?.repetitionRateHz.map { abs($0 - targetRateHz) <= 1e-6 * targetRateHz } == true
        }, "waited for the monitor to take the committed rate")

        // Heralds go on after the change: the coordinator decides them on the new attempt grid.
        let heraldsAtChange = coordinator.monitor.current.status?.heralds ?? 0
        #expect(await eventually { (coordinator.monitor.current.status?.heralds ?? 0) > heraldsAtChange + 500 },
                "waited for 500 heralds after the change")
        // /status lists the latest heralds the coordinator decided (sequence, attempt, link time, outcome), as journaled.
        var recent: [HeraldSummary] = []
        #expect(await eventually {
            recent = await monitor.currentStatus().recentHeralds
            return recent.count == 20
        }, "waited for the 20 latest heralds in the status: \(recent)")
        if let first = recent.first, let last = recent.last {
            #expect(last.sequence - first.sequence == 19, "consecutive heralds: \(recent.map(\.sequence))")
            #expect(try journal.heralds(in: first.sequence...last.sequence).map(HeraldSummary.init) == recent)
            #expect(recent.allSatisfy { ["fail", "psi_plus", "psi_minus"].contains($0.outcome) && $0.timePs > 0 })
        }

        for task in nodeTasks { task.cancel() }
        for task in nodeTasks { try await task.value }
        watcherTask.cancel()
        try await watcherTask.value
        coordinatorTask.cancel()
        try await coordinatorTask.value
    }
}
