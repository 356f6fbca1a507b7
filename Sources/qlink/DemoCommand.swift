import ArgumentParser
import Foundation
import Journal
import Logging
import Messaging
import Protocol
import ServiceLifecycle
import Services

/// `qlink demo`: a whole two-lab link on 127.0.0.1 in one process.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a two-lab link on loopback: a throwaway lab CA, a coordinator and two nodes over CURVE+ZAP, live results."
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "How long to run, in seconds.") var seconds: Double = 10
    @Option(name: .long, help: "Run folder (certificates, journal, spools, summary). Default: a new folder under ./run.")
    var runDirectory: String?
    @Option(name: .long, help: "Seed of the synthetic link.") var seed: UInt64 = 1

    func validate() throws {
        guard seconds > 0, seconds <= 86_400 else { throw ValidationError("--seconds must be between 0 and 86400") }
    }

    func run() async throws {
        var logger = global.makeLogger("qlink.demo")
        if global.logLevel == .info { logger.logLevel = .warning }
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let directory = runDirectory ?? FileManager.default.currentDirectoryPath + "/run/demo-\(stamp)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        print("QLink demo: two labs and a coordinator on 127.0.0.1 — run folder \(directory)")

        let certificates = try RunCertificates.create(directory: directory + "/pki", nodes: ["alice-node", "bob-node"])
        print("  lab CA and certificates: \(certificates.layout.directory) (coordinator, alice-node, bob-node)")
        let context = ZMQContext.shared
        let server = try certificates.serverTransport(context: context, logger: logger)
        defer { server.zap.stop() }

        var parameters = SyntheticLink.Parameters()
        parameters.seed = seed
        var settings = CoordinatorSettings(controlEndpoint: "tcp://127.0.0.1:0", publishEndpoint: "tcp://127.0.0.1:0",
                                           journalPath: directory + "/journal.sqlite", labs: ["alice", "bob"])
        settings.analysis = AnalysisLayout(channelsA: parameters.channelsA, channelsB: parameters.channelsB)
        settings.heralds = ConfigurationMapping.syntheticHeralds(parameters)
        let coordinator = CoordinatorService(settings: settings, transport: server, logger: logger)
        let coordinatorTask = Task { try await coordinator.run() }
        let deadline = Date().addingTimeInterval(10)
        while coordinator.monitor.current.publishEndpoint == nil, coordinator.monitor.current.failure == nil, Date() < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        guard let control = coordinator.monitor.current.controlEndpoint, let publish = coordinator.monitor.current.publishEndpoint else {
            coordinatorTask.cancel()
            throw ServiceFailure(what: "coordinator", detail: coordinator.monitor.current.failure ?? "did not bind in time")
        }
        print("  coordinator: control \(control), publish \(publish), journal \(settings.journalPath)")

        let nodes = try ["alice", "bob"].enumerated().map { index, lab in
            let node = NodeSettings(node: "\(lab)-node", lab: lab, controlEndpoint: control, publishEndpoint: publish,
                                    spoolPath: directory + "/\(lab)-spool.sqlite",
                                    source: .synthetic(SyntheticLink(parameters: parameters, labIndex: index), realTime: true, durationPs: nil))
            return NodeService(settings: node, transport: try certificates.clientTransport(node: "\(lab)-node", context: context), logger: logger)
        }
        print(String(format: "  synthetic link: %.0f pairs/s, visibility %.2f (fidelity bound %.2f), lab B clock offset %d ps\n",
                     parameters.pairRateHz, parameters.visibility, parameters.visibility, parameters.clockOffsetBPs))

        let printer = StatusPrinter(monitor: coordinator.monitor, seconds: seconds)
        let group = ServiceGroup(configuration: .init(
            services: nodes.map { .init(service: $0) } + [.init(service: printer, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        coordinatorTask.cancel()
        try await coordinatorTask.value

        try summarize(coordinator: coordinator, nodes: nodes, parameters: parameters, directory: directory, journalPath: settings.journalPath)
    }

    private func summarize(coordinator: CoordinatorService, nodes: [NodeService], parameters: SyntheticLink.Parameters,
                           directory: String, journalPath: String) throws {
        guard let status = coordinator.monitor.current.status else {
            throw ServiceFailure(what: "demo", detail: "the coordinator published no status")
        }
        let journal = try CoordinatorJournal(path: journalPath)
        print("\nSummary")
        print("  " + StatusLine.format(status))
        for node in nodes {
            let state = node.monitor.current
            print("  \(node.settings.node): batches spooled \(state.batchesSpooled), acknowledged \(state.batchesAcknowledged), "
                  + "still spooled \(state.spoolBatches), dropped \(state.droppedBatches), heralds received \(state.heraldsReceived) "
                  + "(last #\(state.lastHeraldSequence))")
        }
        let offsetError = status.clockOffsetPs.map { $0 - Double(parameters.clockOffsetBPs) }
        print("  clock offset: measured \(status.clockOffsetPs.map { String(format: "%.0f", $0) } ?? "—") ps, "
              + "true \(parameters.clockOffsetBPs) ps\(offsetError.map { String(format: " (error %.0f ps)", $0) } ?? "")")
        if let fidelity = status.fidelity, let error = status.fidelityError {
            print(String(format: "  fidelity lower bound (Z, X): %.4f ± %.4f; ground truth %.4f", fidelity, error, parameters.visibility))
        }
        print("  journal: \(try journal.count(.batch)) batches, \(try journal.count(.herald)) heralds, \(try journal.count(.result)) status records")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let summaryPath = directory + "/summary.json"
        try encoder.encode(status).write(to: URL(fileURLWithPath: summaryPath))
        print("  summary: \(summaryPath)")
    }
}
