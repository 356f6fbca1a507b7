import ArgumentParser
import Correlation
import Foundation
import Journal
import LinkModel
import Monitoring
import Logging
import ServiceLifecycle
import Protocol
import Services
import Simulation
import Synchronization
import TimeTags

extension TagStreamFormat: ExpressibleByArgument {}

/// Options that choose a node's tag source.
struct SourceOptions: ParsableArguments {
    @Option(name: .long, help: "Replay this tag file (any readable format) instead of simulating the configuration's model: section.")
    var replay: String?

    @Flag(name: .long, help: "Read tags from standard input (a hardware bridge's pipe) instead of the simulator.")
    var stdin = false

    @Option(name: .long, help: "Format of --stdin: native (.qtag stream) or csv (channel,time_ps lines).")
    var format: TagStreamFormat = .native

    @Flag(name: .long, help: "Replay or generate as fast as possible instead of at real-time pace.")
    var asFastAsPossible = false

    @Option(name: .long, help: "Seconds of link time the simulation produces (default: the simulation: section's duration_s).")
    var seconds: Double?

    @Option(name: .long, help: "Seed of the simulation (both labs must use the same; default: the simulation: section's seed).")
    var seed: UInt64?

    var seedOverride: UInt64? { seed }
}

/// `qlink node`: one lab's node service.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a lab's node service: stream tags to the coordinator over CURVE, receive heralds and status."
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "The link configuration (YAML).") var config: String
    @Option(name: .long, help: "The lab this node serves (a `labs:` entry of the configuration).") var lab: String
    @Option(name: .long, help: "Folder for the node's spool and herald log.") var data: String?
    @Option(name: .long, help: "Spool bound in MiB.") var spoolMiB: Int64 = 256
    @Option(name: .long, help: "The coordinator's control endpoint (overrides the configuration; e.g. an ephemeral port).")
    var control: String?
    @Option(name: .long, help: "The coordinator's publish endpoint (overrides the configuration).")
    var publish: String?
    @Option(name: .long, help: "Write the node's counters to this JSON file twice a second and at exit.")
    var statusFile: String?
    @Flag(name: .long, help: "Exit once the source has finished and every batch is acknowledged.")
    var exitWhenDone = false
    @Option(name: .long, help: "Serve /status, /metrics and the dashboard here (tcp://HOST:PORT) instead of the lab's status_endpoint.")
    var status: String?
    @OptionGroup var source: SourceOptions

    func run() async throws {
        let logger = global.makeLogger("qlink.node")
        let configuration = try LinkConfiguration.load(from: URL(fileURLWithPath: config).standardizedFileURL.path)
        guard let labIndex = configuration.labs.firstIndex(where: { $0.name == lab }) else {
            throw CommandFailure("no lab named '\(lab)' in \(config) (labs: \(configuration.labs.map(\.name).joined(separator: ", ")))")
        }
        let spec: TagSourceSpec
        if source.stdin, source.replay != nil {
            throw ValidationError("--stdin and --replay are alternatives; give one")
        }
        if source.stdin {
            spec = .stream(fileDescriptor: 0, format: source.format)
        } else if let replay = source.replay {
            spec = .file(path: replay, realTime: !source.asFastAsPossible)
        } else if configuration.model != nil {
            // The link simulator, from the configuration's model: and simulation: sections; lab A's
            // node also carries the midpoint station's stream.
            let simulated = try ConfiguredSimulation(configuration: configuration, durationPs: source.seconds.map { Int64($0 * 1e12) },
                                                     seed: source.seedOverride)
            guard let stream = simulated.streams.first(where: { $0.name == lab }) ?? (labIndex < min(2, simulated.streams.count) ? simulated.streams[labIndex] : nil) else {
                throw CommandFailure("the simulation of \(config) has no stream for lab '\(lab)'")
            }
            spec = .simulation(simulated, role: stream.role, withStation: stream.role == .labA, realTime: !source.asFastAsPossible)
        } else {
            throw CommandFailure("\(config) has no model: section to simulate; describe the link under model: "
                                  + "(docs/configuration.md), or give --replay FILE or --stdin")
        }
        let dataDirectory = data ?? URL(fileURLWithPath: configuration.coordinator.dataDirectory)
            .deletingLastPathComponent().appendingPathComponent(lab).path
        var settings = try ConfigurationMapping.node(configuration, lab: lab, dataDirectory: dataDirectory, source: spec)
        settings.spoolMaxBytes = spoolMiB << 20
        settings.stopWhenDone = exitWhenDone
        if let control { settings.controlEndpoint = control }
        if let publish { settings.publishEndpoint = publish }
        let transport = try ClientTransport.load(configuration, lab: lab)
        let node = NodeService(settings: settings, transport: transport, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: node, successTerminationBehavior: .gracefullyShutdownGroup)]
        let name = settings.node
        let writer = statusFile.map { StatusFileService(path: $0) { NodeStatusFile(pid: getpid(), node: name, state: node.monitor.current) } }
        if let writer { services.append(.init(service: writer)) }
        if let endpoint = try statusEndpoint(override: status, configured: configuration.labs[labIndex].statusEndpoint) {
            // The node's own status server: its spool and heralds, and the link as the coordinator reports it.
            let linkMonitor = try LinkMonitor(link: configuration, role: "node", history: InMemoryAlertHistory(), logger: logger)
            services.append(.init(service: NodeMonitoringService(node: node, monitor: linkMonitor, link: configuration)))
            services.append(.init(service: StatusServer(host: endpoint.address, port: endpoint.port, source: linkMonitor,
                                                        logger: logger).application()))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        defer { writer?.writeFinal() }
        try await group.run()
    }
}

/// `qlink coordinator`: the link coordinator.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the link coordinator: authenticate nodes, journal batches, decide heralds, analyse live."
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "The link configuration (YAML).") var config: String
    @Option(name: .long, help: "Write the bound endpoints and rolling status to this JSON file twice a second and at exit.")
    var statusFile: String?
    @Flag(name: .long, help: "Do not print the rolling status line every second.")
    var quiet = false
    @Option(name: .long, help: "Bind the control (ROUTER) socket here instead of the configuration's endpoint.")
    var control: String?
    @Option(name: .long, help: "Bind the publish (PUB) socket here instead of the configuration's endpoint.")
    var publish: String?
    @Option(name: .long, help: "Serve /status, /metrics and the dashboard here (tcp://HOST:PORT) instead of monitoring.status_endpoint.")
    var status: String?
    @Option(name: .long, help: "Propose this repetition rate (Hz) to both labs once every lab's node has sent tags: a one-off change both labs apply at the same link time or neither does (journaled; shown in the status).")
    var proposeRate: Double?

    func validate() throws {
        if let proposeRate, !(proposeRate.isFinite && proposeRate > 0) {
            throw ValidationError("--propose-rate \(proposeRate) is not a positive rate in Hz")
        }
    }

    func run() async throws {
        let logger = global.makeLogger("qlink.coordinator")
        let configuration = try LinkConfiguration.load(from: URL(fileURLWithPath: config).standardizedFileURL.path)
        // The configured link (the station and protocol of the model:): heralds for a heralded link only.
        let heralds = try ConfigurationMapping.heralds(configuration)
        var settings = ConfigurationMapping.coordinator(configuration, heralds: heralds)
        if let control { settings.controlEndpoint = control }
        if let publish { settings.publishEndpoint = publish }
        let transport = try ServerTransport.load(configuration, logger: logger)
        defer { transport.zap.stop() }
        let coordinator = CoordinatorService(settings: settings, transport: transport, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: coordinator)]
        if !quiet { services.append(.init(service: StatusPrinter(monitor: coordinator.monitor))) }
        if let proposeRate {
            services.append(.init(service: RateProposer(coordinator: coordinator, labs: settings.labs.count, rateHz: proposeRate),
                                  successTerminationBehavior: .ignore))
        }
        let endpoint = try statusEndpoint(override: status, configured: configuration.monitoring?.statusEndpoint)
        // The status server's port once it listens (`--status tcp://127.0.0.1:0` takes any free one), for the status file.
        let statusPort = ListeningPort()
        let writer = statusFile.map { path in
            StatusFileService(path: path) {
                var file = CoordinatorStatusFile(pid: getpid(), state: coordinator.monitor.current)
                if let endpoint, let port = statusPort.value { file.statusEndpoint = "tcp://\(endpoint.address):\(port)" }
                return file
            }
        }
        if let writer { services.append(.init(service: writer)) }
        if configuration.monitoring != nil || endpoint != nil {
            // Monitoring: metrics, alert rules (log, journal, webhook), re-tuning, status server and dashboard.
            let journal = try CoordinatorJournal(path: settings.journalPath)
            let linkMonitor = try LinkMonitor(link: configuration, role: "coordinator", history: JournalAlertHistory(journal: journal),
                                              logger: logger)
            services.append(.init(service: CoordinatorMonitoringService(coordinator: coordinator, monitor: linkMonitor,
                                                                        link: configuration, logger: logger)))
            if let endpoint {
                services.append(.init(service: StatusServer(host: endpoint.address, port: endpoint.port, source: linkMonitor,
                                                            logger: logger).application { port in statusPort.value = port }))
            }
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        defer { writer?.writeFinal() }
        try await group.run()
    }
}

/// The port a server reported once listening, read from other tasks.
final class ListeningPort: Sendable {
    private let port = Mutex<Int?>(nil)
    var value: Int? {
        get { port.withLock { $0 } }
        set { port.withLock { $0 = newValue } }
    }
}

/// `--propose-rate`: asks the coordinator for one repetition-rate change once every lab's node has sent tags.
struct RateProposer: Service {
    let coordinator: CoordinatorService
    let labs: Int
    let rateHz: Double

    func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            if (coordinator.monitor.current.status?.tagsByNode.count ?? 0) >= labs {
                coordinator.requestRepetitionRate(rateHz)
                return
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// Prints the coordinator's rolling status once a second until shut down (each status once).
struct StatusPrinter: Service {
    let monitor: CoordinatorMonitor

    func run() async throws {
        var printed: StatusReport?
        while !Task.isCancelledOrShuttingDown {
            try? await Task.sleep(for: .seconds(1))
            if let status = monitor.current.status, status.elapsedSeconds != printed?.elapsedSeconds {
                // Herald rate since the previous line, per second of link time ("—" while the feed stalls).
                print(StatusLine.format(status, previous: printed))
                printed = status
            }
        }
    }
}

/// Rewrites a JSON status file twice a second until shutdown.
struct StatusFileService<Value: Encodable & Sendable>: Service {
    let path: String
    let snapshot: @Sendable () -> Value

    init(path: String, snapshot: @escaping @Sendable () -> Value) {
        self.path = path
        self.snapshot = snapshot
    }

    func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            try? StatusFile.write(snapshot(), to: path)
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Writes the final snapshot (call after the service group has returned).
    func writeFinal() { try? StatusFile.write(snapshot(), to: path) }
}

extension Task where Success == Never, Failure == Never {
    static var isCancelledOrShuttingDown: Bool { Task.isCancelled || Task.isShuttingDownGracefully }
}

/// One line of rolling results, the coordinator's and the demo's: tag rates per node and heralds and their rate, per
/// second of link time (heralds since `previous`, else since the start), accepted batches, coincidences (a heralded
/// link: heralds whose readouts both labs recorded), fidelity ± error (≥ for the Z/X bound; per herald type on a
/// heralded link), clock offset, and any malformed, missing or duplicate batches.
enum StatusLine {
    /// One line; herald counts only on a `heralded` link (a pair source decides none). By default a link is heralded
    /// once the status reports the link time its heralds were decided through.
    static func format(_ status: StatusReport, previous: StatusReport? = nil, heralded: Bool? = nil) -> String {
        let rates = status.rateHzByNode.sorted { $0.key < $1.key }
            .map { "\($0.key) \(String(format: "%.0f", $0.value)) tags/s" }.joined(separator: ", ")
        // Heralds per second of the link time they cover (the station's), not of the coordinator's clock.
        let base = previous.flatMap { earlier in earlier.heraldLinkTimePs.map { (heralds: earlier.heraldSuccesses, atPs: $0) } } ?? (0, 0)
        let spanPs = (status.heraldLinkTimePs ?? 0) - base.atPs
        let heraldRate = spanPs > 0 ? String(format: "%.0f", Double(status.heraldSuccesses - base.heralds) / (Double(spanPs) * 1e-12)) : "—"
        var fidelity = "fidelity —"
        if let value = status.fidelity, let error = status.fidelityError {
            fidelity = "fidelity " + LinkAnalysisFormat.fidelity(Estimate(value, standardError: error), isLowerBound: status.fidelityIsLowerBound != false)
            if let byHerald = status.fidelityByHerald, let plus = byHerald["psi_plus"], let minus = byHerald["psi_minus"] {
                fidelity += String(format: " (ψ⁺ %.3f, ψ⁻ %.3f)", plus, minus)
            }
        }
        let offset = status.clockOffsetPs.map { String(format: "clock offset %.0f ps", $0) } ?? "clock offset —"
        let correlated = status.fidelityByHerald == nil ? "coincidences" : "heralds with readouts"
        let heralds = heralded ?? (status.heraldLinkTimePs != nil) ? " | heralds \(status.heraldSuccesses) "
            + "(\(heraldRate) /s, \(status.heralds - status.heraldSuccesses) failed)" : ""
        return String(format: "[%5.1f s] ", status.elapsedSeconds) + rates + heralds
            + " | batches \(status.batchesAccepted) | \(correlated) \(status.coincidences) | \(fidelity) | \(offset)"
            + (status.malformed + status.gaps + status.duplicates > 0 ? " | malformed \(status.malformed) gaps \(status.gaps) duplicates \(status.duplicates)" : "")
    }
}
