import Correlation
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Journal
import LinkHealth
import LinkModel
import Logging
import Messaging
import Monitoring
import Protocol
import QLinkTestSupport
import Services
import Simulation
import Synchronization
import Testing
import TimeTags

var quietLogger: Logger {
    var logger = Logger(label: "qlink.test")
    logger.logLevel = .critical
    return logger
}

/// The body of `GET url`, or nil when nothing answers. The request's timeout only guards against a hang: a loaded
/// machine may take seconds to answer, and several expectations read a single answer.
func httpBody(_ url: String) async -> Data? {
    guard let url = URL(string: url), let (data, _) = try? await URLSession.shared.data(for: URLRequest(url: url, timeoutInterval: 600)) else { return nil }
    return data
}

/// A link folder with the pair-source demo link (here at a tenth of its pair rate, 20 k pairs/s, in small chunks), a lab CA whose certificates are valid for `certificateDays`,
/// and extra configuration appended (faults under `simulation:`, a `monitoring:` section).
struct HealthLink {
    let directory: String
    let configuration: LinkConfiguration
    let certificates: RunCertificates

    init(appending extra: String, certificateDays: Int) throws {
        directory = NSTemporaryDirectory() + "qlink-health-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("configs/demo-pair-source.yaml"), encoding: .utf8)
        try (text + extra).write(toFile: directory + "/link.yaml", atomically: true, encoding: .utf8)
        certificates = try RunCertificates.create(directory: directory + "/pki", nodes: ["alice-node", "bob-node"], days: certificateDays)
        configuration = try LinkConfiguration.load(from: directory + "/link.yaml")
    }
}

@Suite("Health of a running coordinator fed by simulated nodes", .serialized)
struct RunningCoordinatorHealthTests {
    /// Lab B's detector 0 (channel 11) goes dark 8 s into the link (the feed holds there until the rules have learned
    /// the channel's baseline rate): the coordinator's per-channel rates drop and its /status shows the
    /// dead-detector alert (`channel_rate_drop` on channel 11) critical, and on no live channel however the
    /// machine stalls the feed (rates are per second of link time); /metrics shows the certificates' days left.
    @Test func deadDetectorRaisesItsAlertAndCertificateLifetimesAreExported() async throws {
        let link = try HealthLink(appending: """
              repetition_rate_hz: 1_000_000
              chunk_tags: 4_096
              faults:
                - { at_ps: 8_000_000_000_000, kind: detector_dark, stream: bob, detector: 0 }
            monitoring:
              window_s: 1
              alerts:
                channel_rate_drop_db: { warning: 3, critical: 10, for_s: 3 }
                baseline_s: 1
              planned: { enabled: false }

            """, certificateDays: 20)
        defer { try? FileManager.default.removeItem(atPath: link.directory) }
        let configuration = link.configuration
        let context = ZMQContext()
        let server = try link.certificates.serverTransport(context: context, logger: quietLogger)
        defer { server.zap.stop() }

        var settings = ConfigurationMapping.coordinator(configuration, heralds: nil)
        settings.controlEndpoint = "tcp://127.0.0.1:0"
        settings.publishEndpoint = "tcp://127.0.0.1:0"
        settings.journalPath = link.directory + "/journal.sqlite"
        settings.statusIntervalMs = 100
        let coordinator = CoordinatorService(settings: settings, transport: server, logger: quietLogger)
        let coordinatorTask = Task { try await coordinator.run() }
        #expect(await eventually { coordinator.monitor.current.controlEndpoint != nil && coordinator.monitor.current.publishEndpoint != nil })
        let control = try #require(coordinator.monitor.current.controlEndpoint), publish = try #require(coordinator.monitor.current.publishEndpoint)

        let journal = try CoordinatorJournal(path: settings.journalPath)
        let monitor = try LinkMonitor(link: configuration, role: "coordinator", history: JournalAlertHistory(journal: journal), logger: quietLogger)
        var watcher = CoordinatorMonitoringService(coordinator: coordinator, monitor: monitor, link: configuration, logger: quietLogger)
        watcher.observationIntervalSeconds = 0.2
        let watcherTask = Task { [watcher] in try await watcher.run() }
        let port = PortBox()
        let statusServer = StatusServer(host: "127.0.0.1", port: 0, source: monitor, logger: quietLogger)
        let serverTask = Task { try await statusServer.run { await port.set($0) } }
        #expect(await eventually { await port.value != nil })
        let base = "http://127.0.0.1:\(try #require(await port.value))"

        // Both nodes read their lab's 12 s of the simulated link from a pipe, which the test fills at the pace of a
        // tagger from the moment both nodes are connected, holding at the failure's link time until the rules
        // have learned channel 11's healthy rate (a stalled feed is no drop: rates are per second of link time).
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: 12_000_000_000_000, seed: 3)
        let pipes = [Pipe(), Pipe()]
        let nodes = try [("alice", 0), ("bob", 1)].map { lab, index in
            NodeService(settings: NodeSettings(node: "\(lab)-node", lab: lab, controlEndpoint: control, publishEndpoint: publish,
                                               spoolPath: link.directory + "/\(lab)-spool.sqlite",
                                               source: .stream(fileDescriptor: pipes[index].fileHandleForReading.fileDescriptor, format: .csv)),
                        transport: try link.certificates.clientTransport(node: "\(lab)-node", context: context), logger: quietLogger)
        }
        let nodeTasks = nodes.map { node in Task { try await node.run() } }
        defer {
            for task in nodeTasks + [coordinatorTask, watcherTask, serverTask] { task.cancel() }
        }
        #expect(await eventually(600) { nodes.allSatisfy { $0.monitor.current.connected } }, "waited for both nodes to connect")
        let feeding = TaggerFeed(simulation: simulation, writers: pipes.map(\.fileHandleForWriting), holdingAtPs: 8_000_000_000_000)
        defer { feeding.release() }

        // The coordinator's status counts tags per channel.
        #expect(await eventually(600) { (coordinator.monitor.current.status?.tagsByChannel?["12"] ?? 0) > 0 },
                "waited for channel 12's tags in the coordinator's status")
        #expect(await eventually(600) { await monitor.baselineRatesHz["channel 11"] != nil },
                "waited for the rules to learn channel 11's baseline before its detector goes dark")
        feeding.release()
        var dead: AlertState?
        var healthy: [String] = []
        let raised = await eventually(600) {
            guard let data = await httpBody(base + "/status"), let status = try? StatusCoding.decoder().decode(LinkStatus.self, from: data) else { return false }
            dead = status.alerts.first { $0.rule == .channelRateDrop && $0.subject == "channel 11" }
            // Only the dead channel falls by the critical 10 dB; a stall of the machine drops no rate of link time.
            healthy = status.alerts.filter { $0.rule == .channelRateDrop && $0.subject != "channel 11" && $0.severity == .critical }.map(\.subject)
            return dead?.severity == .critical
        }
        let last = await monitor.currentStatus()
        let detail = "waited for a critical channel_rate_drop alert on channel 11 in /status: \(String(describing: dead)); "
            + "alerts \(last.alerts.map { "\($0.rule) \($0.subject) \($0.severity)" }); "
            + "channel rates \(String(describing: last.observation?.channelRatesHz))"
        #expect(raised, "\(detail)")
        #expect(healthy.isEmpty, "critical alerts on live channels: \(healthy)")

        let metrics = String(decoding: await httpBody(base + "/metrics") ?? Data(), as: UTF8.self)
        for name in ["coordinator", "alice-node", "bob-node"] {
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("qlink_certificate_expiry_seconds{") && $0.contains("\"\(name)\"") }
            let days = line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 / 86_400 }
            #expect(days.map { $0 > 19.9 && $0 <= 20 } == true, "certificate \(name): \(String(describing: line))")
        }
        #expect(metrics.contains("qlink_singles_rate_hertz{"), "per-channel singles rates in /metrics")
        // Accidentals and CAR from the live analysis; the coordinator's own latencies and its receive backlog.
        #expect(await eventually(600) { String(decoding: await httpBody(base + "/metrics") ?? Data(), as: UTF8.self).contains("qlink_coincidences_to_accidentals_ratio ") },
                "waited for the CAR in /metrics")
        let batchCount = metrics.split(separator: "\n").first { $0.hasPrefix("qlink_batch_latency_seconds_count") }
        #expect(batchCount.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 > 0 } == true, "\(String(describing: batchCount))")
        #expect(metrics.contains("qlink_queue_depth{queue=\"coordinator_round\"}"))
        // The live analysis in /status, its rows as LinkAnalysisFormat words them, the Z/X bound shown as a bound.
        var shown: LinkStatus?
        #expect(await eventually(600) {
            guard let data = await httpBody(base + "/status") else { return false }
            shown = try? StatusCoding.decoder().decode(LinkStatus.self, from: data)
            return shown?.analysis?.fidelityLowerBound != nil && shown?.fidelityText != nil
        }, "waited for the live analysis' fidelity bound in /status: \(String(describing: shown?.analysisRows))")
        if let shown, let analysis = shown.analysis {
            #expect(shown.analysisRows == LinkAnalysisFormat.rows(analysis))
            #expect(shown.analysisRows.contains { $0.value.hasPrefix("F ≥ ") && $0.value.hasSuffix(" (Z/X bound)") }, "\(shown.analysisRows)")
            #expect(shown.observation?.fidelityIsLowerBound == true)
            #expect(shown.fidelityText?.hasPrefix("F ≥ ") == true, "\(String(describing: shown.fidelityText))")
        }
        // Visibility per basis from the live analysis, in the observation and as qlink_visibility.
        var visibility: [String: Estimate] = [:]
        #expect(await eventually(600) {
            guard let data = await httpBody(base + "/status"), let status = try? StatusCoding.decoder().decode(LinkStatus.self, from: data) else { return false }
            visibility = status.observation?.visibility ?? [:]
            return !visibility.isEmpty
        }, "waited for per-basis visibility in /status")
        for (basis, value) in visibility {
            // Lab B's dark detector spoils the correlation here: a visibility, whatever its size, with an error.
            #expect(value.value >= 0 && value.value <= 1.01 && value.standardError > 0, "\(basis): \(value)")
            #expect(String(decoding: await httpBody(base + "/metrics") ?? Data(), as: UTF8.self).contains("qlink_visibility{basis=\"\(basis)\"}"))
        }
        // Per-channel singles are a JSON object keyed by channel number, not a flat array.
        if let data = await httpBody(base + "/status"), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let observation = json["observation"] as? [String: Any] {
            #expect(observation["channelRatesHz"] is [String: Any], "\(String(describing: observation["channelRatesHz"]))")
        }
        // Twenty days left is below the default warning level (30 days).
        let status = await monitor.currentStatus()
        #expect(status.alerts.contains { $0.rule == .certificateExpiry && $0.subject == "coordinator" && $0.severity == .warning })

        // The pipes are read to their end before the nodes stop (a writer never blocks on a closed reader).
        #expect(await eventually(600) { feeding.finished }, "waited for the test's tagger feed to write its 12 s")
        for task in nodeTasks { task.cancel() }
        for task in nodeTasks { try await task.value }
        watcherTask.cancel()
        try await watcherTask.value
        serverTask.cancel()
        _ = try? await serverTask.value
        coordinatorTask.cancel()
        try await coordinatorTask.value
    }
}

/// The status server's bound port, set from its listening callback.
actor PortBox {
    private(set) var value: Int?
    func set(_ port: Int) { value = port }
}

/// A tagger stand-in: writes each lab's stream of `simulation` (lab A's to `writers[0]`, lab B's to `writers[1]`)
/// as CSV lines (tags and basis markers in time order), each simulation step once the wall clock since the feed
/// started has reached the step's end, on a thread of its own; closes the writers at the end. Before the first
/// step that ends after `holdingAtPs` it waits for ``release()``, then goes on at its pace from there.
final class TaggerFeed: Sendable {
    private let done = Mutex(false)
    private let released = Mutex(false)

    /// Whether every step has been written and the writers closed.
    var finished: Bool { done.withLock { $0 } }

    /// Lets the feed write past its hold.
    func release() { released.withLock { $0 = true } }

    init(simulation: ConfiguredSimulation, writers: [FileHandle], holdingAtPs holdPs: Int64 = .max) {
        Thread.detachNewThread { [self] in
            defer {
                for writer in writers { try? writer.close() }
                self.done.withLock { $0 = true }
            }
            guard var simulator = try? simulation.makeSimulator() else { return }
            for writer in writers { writer.write(Data("channel,time_ps\n".utf8)) }
            let clock = ContinuousClock()
            var started = clock.now, held = false
            while let step = simulator.next() {
                if !held, step.endPs > holdPs {
                    held = true
                    while !released.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.005) }
                    started = clock.now - .nanoseconds(step.startPs / 1000)
                }
                let texts = [StreamRole.labA, .labB].map { TaggerFeed.csv(step.chunk($0)?.batch ?? TagBatch()) }
                let due = started + .nanoseconds(step.endPs / 1000)
                while clock.now < due { Thread.sleep(forTimeInterval: 0.005) }
                for (writer, text) in zip(writers, texts) where !text.isEmpty { writer.write(Data(text.utf8)) }
            }
        }
    }

    /// `batch` as CSV lines: `channel,time_ps` for tags, `M<n>,time_ps` for markers, in time order.
    static func csv(_ batch: TagBatch) -> String {
        var text = "", marker = 0
        for index in 0..<batch.count {
            while marker < batch.markers.count, batch.markers[marker].timePs <= batch.timesPs[index] {
                text += "M\(batch.markers[marker].marker),\(batch.markers[marker].timePs)\n"
                marker += 1
            }
            text += "\(batch.channels[index]),\(batch.timesPs[index])\n"
        }
        for event in batch.markers[marker...] { text += "M\(event.marker),\(event.timePs)\n" }
        return text
    }
}
