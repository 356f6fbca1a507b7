import ArgumentParser
import Correlation
import Foundation
import LinkModel
import Logging
import Protocol
import Services

/// `qlink demo`: a whole two-lab link on 127.0.0.1 — a coordinator and two nodes as separate `qlink`
/// processes over CURVE+ZAP with a lab CA created for the run, live progress, a drained end and a run folder.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a two-lab link on loopback: lab CA, coordinator and two node processes over CURVE+ZAP, live results, report.",
        discussion: """
        Starts `qlink coordinator` and one `qlink node` per lab (this same executable) on ephemeral 127.0.0.1 ports,
        prints progress once a second, lets the nodes drain (every batch acknowledged, every herald received),
        stops the coordinator and writes a run folder: demo.yaml, pki/, coordinator/journal.sqlite, node spools,
        logs/, summary.json, SVG plots and report.html. The nodes stream the link simulator run from the configuration's
        model: and simulation: sections.
        """
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Seconds of link time the nodes stream.") var seconds: Double = 20
    @Option(name: .long, help: "The demo link configuration (copied into the run folder; paths in it are relative to the run folder).")
    var config: String = "configs/demo.yaml"
    @Option(name: .long, help: "Run folder. Default: a new folder under ./run.") var runDirectory: String?
    @Option(name: .long, help: "Seed of the simulation (both nodes run the same seeded simulation).") var seed: UInt64 = 1

    func validate() throws {
        guard seconds > 0, seconds <= 86_400 else { throw ValidationError("--seconds must be between 0 and 86400") }
    }

    func run() async throws {
        _ = global.makeLogger("qlink.demo")
        let run = try DemoRun.prepare(configPath: config, runDirectory: runDirectory)
        print("QLink demo: two labs and a coordinator as separate processes on 127.0.0.1 — run folder \(run.directory)")
        print("  lab CA and certificates: \(run.directory)/pki (\(run.configuration.coordinator.name), "
              + run.configuration.labs.map(\.node).joined(separator: ", ") + ")")
        let expected = try DemoExpectation(configuration: run.configuration, seed: seed, seconds: seconds)
        if expected.heralded {
            print(String(format: "  simulated link (model: and simulation: of the configuration): heralded at a midpoint station, "
                         + "%.0f heralds/s, fidelity %.3f, lab B readout offset %lld ps, %.0f s of link time\n",
                         expected.heraldRateHz, expected.liveFidelity, expected.clockOffsetBPs, seconds))
        } else {
            print(String(format: "  simulated link (model: and simulation: of the configuration): %.0f coincidences/s, visibility %.3f, "
                         + "lab B clock offset %lld ps, %.0f s of link time\n",
                         expected.coincidenceRateHz, expected.liveFidelity, expected.clockOffsetBPs, seconds))
        }

        let children = DemoChildren()
        let interrupt = InterruptForwarder(children: children)
        defer { interrupt.cancel() }
        // The status server on any free port of 127.0.0.1, read back from the status file.
        let coordinator = try children.start(name: "coordinator", arguments: [
            "coordinator", "--config", run.configPath, "--quiet", "--log-level", logLevel,
            "--status-file", run.coordinatorStatusPath, "--status", "tcp://127.0.0.1:0",
        ], logPath: run.logPath("coordinator"))
        let endpoints = try await waitForEndpoints(run: run, coordinator: coordinator)
        print("  coordinator (pid \(coordinator.pid)): control \(endpoints.control), publish \(endpoints.publish)")
        let monitoring = endpoints.monitoring
        print("  monitoring: dashboard \(monitoring.base)/ — JSON \(monitoring.base)/status — Prometheus \(monitoring.base)/metrics")

        var nodes: [ChildProcess] = []
        for lab in run.configuration.labs.prefix(2) {
            let node = try children.start(name: lab.node, arguments: [
                "node", "--config", run.configPath, "--lab", lab.name, "--control", endpoints.control, "--publish", endpoints.publish,
                "--data", run.directory + "/\(lab.name)", "--seconds", "\(seconds)", "--seed", "\(seed)", "--log-level", logLevel,
                "--status-file", run.nodeStatusPath(lab.name),
            ], logPath: run.logPath(lab.name))
            print("  \(lab.node) (pid \(node.pid)) for lab \(lab.name)")
            nodes.append(node)
        }
        print("")

        let progress = DemoProgress(run: run, heralded: expected.heralded)
        // Stream until every node's source has finished its link time and its spool is empty, or a process exits.
        var stalled = HangGuard(awaiting: "both nodes to stream \(seconds) s of link time and drain (every batch acknowledged)")
        while true {
            try? await Task.sleep(for: .milliseconds(250))
            progress.printIfNew()
            if let failed = (nodes + [coordinator]).first(where: { !$0.isRunning }) {
                children.terminateAll()
                throw CommandFailure("\(failed.name) exited early (status \(failed.exitStatus ?? -1)); its log ends:\n\(failed.logTail())")
            }
            let states = run.configuration.labs.prefix(2).map { StatusFile.read(NodeStatusFile.self, from: run.nodeStatusPath($0.name)) }
            if states.allSatisfy({ $0?.drained == true }) { break }
            let linkTimes = StatusFile.read(CoordinatorStatusFile.self, from: run.coordinatorStatusPath)?.status?.linkTimeByNode ?? [:]
            let progressed = stalled.observe(states.map { "\($0?.batchesSpooled ?? -1)/\($0?.batchesAcknowledged ?? -1)" } + linkTimes.sorted { $0.key < $1.key }.map { "\($0.value)" })
            if !progressed {
                children.terminateAll()
                throw CommandFailure(stalled.failure + "; the nodes spooled/acknowledged " + states.map { "\($0?.batchesSpooled ?? 0)/\($0?.batchesAcknowledged ?? 0)" }.joined(separator: ", ")
                                     + "; logs in \(run.directory)/logs")
            }
        }
        // The monitoring view while the link is still up (before the nodes go silent).
        let monitored = await monitoring.snapshot()
        // Nodes stop gracefully: they catch up on heralds before exiting; then the coordinator stops. Their exits are
        // awaited; the guard only catches a hang.
        for node in nodes { node.terminate() }
        for node in nodes where !(await node.wait(seconds: HangGuard.limitSeconds)) {
            print("  \(node.name) did not stop within \(Int(HangGuard.limitSeconds)) s of being asked to (catching up on heralds); killed")
            node.killNow()
        }
        coordinator.terminate()
        if !(await coordinator.wait(seconds: HangGuard.limitSeconds)) {
            print("  coordinator did not stop within \(Int(HangGuard.limitSeconds)) s of being asked to (journal and final analysis); killed")
            coordinator.killNow()
        }
        progress.printIfNew()
        let failed = try DemoReport(run: run, expected: expected, monitoring: monitored).write()
        if !failed.isEmpty {
            throw CommandFailure("\(failed.count) check(s) FAILED: \(failed.joined(separator: "; ")); the run folder \(run.directory) holds the logs")
        }
    }

    private var logLevel: String { global.logLevel == .info ? "notice" : global.logLevel.rawValue }

    /// Waits for the coordinator to write its endpoints into its status file, or to exit (a failure named at once
    /// with its exit status and the end of its log); the guard only catches a hang.
    private func waitForEndpoints(run: DemoRun, coordinator: ChildProcess) async throws -> (control: String, publish: String, monitoring: DemoMonitoring) {
        var waiting = HangGuard(awaiting: "the coordinator to write its endpoints to \(run.coordinatorStatusPath)")
        while true {
            if let state = StatusFile.read(CoordinatorStatusFile.self, from: run.coordinatorStatusPath),
               let control = state.controlEndpoint, let publish = state.publishEndpoint,
               let port = state.statusEndpoint?.split(separator: ":").last.flatMap({ Int($0) }) {
                return (control, publish, DemoMonitoring(port: port))
            }
            guard coordinator.isRunning else {
                throw CommandFailure("the coordinator exited (status \(coordinator.exitStatus ?? -1)); its log ends:\n\(coordinator.logTail())")
            }
            guard waiting.observe([]) else {
                coordinator.killNow()
                throw CommandFailure(waiting.failure + "; its log \(coordinator.logPath) ends:\n\(coordinator.logTail())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// The last resort of the demo's waits, which wait on events (a file written, a process exited, a count advanced):
/// a wait that has seen no progress for ``limitSeconds`` of the wall clock, far above any load, is a hang.
struct HangGuard {
    /// Wall-clock seconds without progress that make a hang.
    static let limitSeconds: Double = 300
    /// What the wait awaits, for the message.
    let awaiting: String
    private var progress: [String]?
    private var since = Date()

    init(awaiting: String) { self.awaiting = awaiting }

    /// Notes the waited-on counts `progress` (any change is progress); false once none has come for ``limitSeconds``.
    mutating func observe(_ progress: [String]) -> Bool {
        if progress != self.progress {
            self.progress = progress
            since = Date()
        }
        return Date().timeIntervalSince(since) < Self.limitSeconds
    }

    /// The failure message of a hang.
    var failure: String { "no progress in \(Int(Self.limitSeconds)) s while waiting for \(awaiting)" }
}

/// The run folder and its files.
struct DemoRun {
    let directory: String
    let configPath: String
    let configuration: LinkConfiguration

    var coordinatorStatusPath: String { directory + "/coordinator-status.json" }
    var journalPath: String { URL(fileURLWithPath: configuration.coordinator.dataDirectory).appendingPathComponent("journal.sqlite").path }
    func nodeStatusPath(_ lab: String) -> String { directory + "/\(lab)-status.json" }
    func logPath(_ name: String) -> String { directory + "/logs/\(name).log" }

    /// Creates the run folder, copies the configuration into it and creates the run's lab CA.
    /// The run folder: `requested` when it does not exist or is empty (a second run into a folder that holds one
    /// would mix journals, spools and certificates), else a refusal; by default a new `run/demo-<time>[-n]`.
    static func freshDirectory(_ requested: String?) throws -> String {
        let manager = FileManager.default
        if let requested {
            let path = URL(fileURLWithPath: requested).standardizedFileURL.path
            if let entries = try? manager.contentsOfDirectory(atPath: path), !entries.isEmpty {
                throw CommandFailure("the run folder \(path) is not empty (it holds an earlier run: \(entries.sorted().prefix(4).joined(separator: ", "))); "
                                  + "pass a new --run-directory, remove that folder, or leave the option out for a fresh run/demo-<time> folder")
            }
            var isDirectory: ObjCBool = false
            if manager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                throw CommandFailure("--run-directory \(path) is a file, not a folder")
            }
            return path
        }
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let base = URL(fileURLWithPath: manager.currentDirectoryPath + "/run/demo-\(stamp)").standardizedFileURL.path
        var candidate = base
        var suffix = 1
        while manager.fileExists(atPath: candidate) {
            suffix += 1
            candidate = base + "-\(suffix)"
        }
        return candidate
    }

    static func prepare(configPath: String, runDirectory: String?) throws -> DemoRun {
        let source = URL(fileURLWithPath: configPath).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: source) else {
            throw CommandFailure("no demo configuration at \(source); run qlink demo from the QLink folder or pass --config FILE")
        }
        let original = try LinkConfiguration.load(from: source)
        guard original.labs.count >= 2 else {
            throw CommandFailure("\(source) has \(original.labs.count) lab(s); the demo needs two")
        }
        let directory = try freshDirectory(runDirectory)
        try FileManager.default.createDirectory(atPath: directory + "/logs", withIntermediateDirectories: true)
        let copy = directory + "/demo.yaml"
        try FileManager.default.copyItem(atPath: source, toPath: copy)
        // Valid for 90 days: well clear of the certificate-expiry alert's default levels (30 and 7 days).
        _ = try RunCertificates.create(directory: directory + "/pki", coordinator: original.coordinator.name,
                                       nodes: original.labs.map(\.node), days: 90)
        return DemoRun(directory: directory, configPath: copy, configuration: try LinkConfiguration.load(from: copy))
    }
}

/// Prints one progress line per new coordinator status, with the nodes' spools.
final class DemoProgress {
    let run: DemoRun
    /// The latest status printed; the latest that advanced the herald link time, and the one it advanced from.
    private var printed: StatusReport?
    private var latest: StatusReport?
    private var previous: StatusReport?

    /// Whether herald counts mean something (a heralded link).
    let heralded: Bool

    init(run: DemoRun, heralded: Bool) {
        self.run = run
        self.heralded = heralded
    }

    func printIfNew() {
        guard let status = StatusFile.read(CoordinatorStatusFile.self, from: run.coordinatorStatusPath)?.status,
              status.elapsedSeconds != printed?.elapsedSeconds else { return }
        printed = status
        // Rates are counted from the latest status whose link time is behind this one's: a stalled feed is no dip.
        if status.heraldLinkTimePs != latest?.heraldLinkTimePs { (previous, latest) = (latest, status) }
        let spools = run.configuration.labs.prefix(2).compactMap { lab -> String? in
            guard let node = StatusFile.read(NodeStatusFile.self, from: run.nodeStatusPath(lab.name)) else { return nil }
            return "\(lab.name) spool \(node.spoolBatches)"
        }
        print(StatusLine.format(status, previous: previous, heralded: heralded) + (spools.isEmpty ? "" : " | " + spools.joined(separator: ", ")))
    }
}

/// The child processes, so an interrupt can stop them all.
final class DemoChildren: @unchecked Sendable {
    // @unchecked: `list` is guarded by `lock`.
    private let lock = NSLock()
    private var list: [ChildProcess] = []

    func start(name: String, arguments: [String], logPath: String) throws -> ChildProcess {
        let child = try ChildProcess(name: name, arguments: arguments, logPath: logPath)
        lock.withLock { list.append(child) }
        return child
    }

    func terminateAll() {
        for child in lock.withLock({ list }) { child.terminate() }
    }
}

/// Forwards SIGINT/SIGTERM to the children (graceful stop) and then ends the demo.
final class InterruptForwarder: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    init(children: DemoChildren) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                children.terminateAll()
                printError("qlink demo: interrupted; the coordinator and nodes were asked to stop")
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
