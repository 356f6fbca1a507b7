import ArgumentParser
import Foundation
import Journal
import LinkModel
import Logging
import Monitoring
import OpenSSLKit
import Planner
import Protocol
import ServiceLifecycle
import Services

/// The coordinator journal's `alert` table as the monitoring alert history: one row per transition, the new
/// severity as its level and the transition as JSON in its message.
struct JournalAlertHistory: AlertHistoryStore {
    let journal: CoordinatorJournal

    init(journal: CoordinatorJournal) { self.journal = journal }

    func appendAlertTransitions(_ transitions: [AlertTransition], link: String) throws(MonitoringError) {
        let encoder = StatusCoding.encoder()
        for transition in transitions {
            do {
                let json = String(decoding: try encoder.encode(transition), as: UTF8.self)
                try journal.recordAlert(level: transition.to.rawValue, message: json)
            } catch {
                throw MonitoringError(.deliveryFailed, "cannot journal an alert transition: \(error)",
                                      hint: "check the journal's disk and permissions")
            }
        }
    }

    func recentAlertTransitions(limit: Int) throws(MonitoringError) -> [AlertTransition] {
        let decoder = StatusCoding.decoder()
        do {
            return try journal.alerts(limit: limit).compactMap { try? decoder.decode(AlertTransition.self, from: Data($0.message.utf8)) }
        } catch {
            throw MonitoringError(.deliveryFailed, "cannot read the journal's alerts: \(error)", hint: "check the journal file")
        }
    }
}

/// Turns the coordinator's successive status reports into monitoring observations: rates over the window
/// from the cumulative counters, fidelity, clock, and when each node was last heard from.
struct StatusObserver: Sendable {
    private var rates: CumulativeRates
    private var lastSeenPs: [String: Int64] = [:]
    private var previousTags: [String: Int64] = [:]
    private var previousHeralds: Int64 = 0
    private var previousSuccesses: Int64 = 0
    private let labByNode: [String: String]

    /// An observer for `link` over windows of `windowSeconds`.
    init(link: LinkConfiguration, windowSeconds: Double) {
        rates = CumulativeRates(windowPs: Int64(windowSeconds * 1e12))
        labByNode = Dictionary(link.labs.map { ($0.node, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// The observation for `status` (time on the coordinator's run clock).
    mutating func observation(from status: StatusReport) -> LinkObservation {
        let now = Int64(status.elapsedSeconds * 1e12)
        var observation = LinkObservation(timePs: now)
        for (node, tags) in status.tagsByNode {
            rates.record("tags " + node, tags, atPs: now)
            if tags > (previousTags[node] ?? -1) { lastSeenPs[node] = now }
            previousTags[node] = tags
            if let rate = rates.rateHz("tags " + node) { observation.armRatesHz[labByNode[node] ?? node] = rate.value }
        }
        for (channel, tags) in status.tagsByChannel ?? [:] {
            guard let number = Int32(channel) else { continue }
            rates.record("channel " + channel, tags, atPs: now)
            if let rate = rates.rateHz("channel " + channel) { observation.channelRatesHz[number] = rate.value }
        }
        rates.record("coincidences", status.coincidences, atPs: now)
        rates.record("heralds", status.heraldSuccesses, atPs: now)
        observation.coincidenceRateHz = rates.rateHz("coincidences")
        observation.heraldRateHz = rates.rateHz("heralds")
        let successes = status.heraldSuccesses - previousSuccesses
        let failures = (status.heralds - previousHeralds) - successes
        if successes > 0 { observation.heraldOutcomes["success"] = successes }
        if failures > 0 { observation.heraldOutcomes["fail"] = failures }
        previousHeralds = status.heralds
        previousSuccesses = status.heraldSuccesses
        if let fidelity = status.fidelity { observation.fidelity = Measured(fidelity, standardError: status.fidelityError ?? 0) }
        observation.clockOffsetPs = status.clockOffsetPs
        observation.clockDriftPpm = status.clockDriftPpm
        observation.nodeLastSeenPs = lastSeenPs
        return observation
    }
}

/// Days until each certificate of the link expires (the coordinator's and every lab node's, by name), read
/// from the configured PEM files; a file that cannot be read is left out (and logged by the caller).
enum CertificateLifetimes {
    static func daysLeft(_ link: LinkConfiguration, now: Date = Date()) -> (days: [String: Double], unreadable: [String]) {
        var days: [String: Double] = [:], unreadable: [String] = []
        let files = [(link.coordinator.name, link.coordinator.certificate)] + link.labs.map { ($0.node, $0.certificate) }
        for (name, path) in files {
            guard let pem = try? String(contentsOfFile: path, encoding: .utf8),
                  let certificate = try? X509Certificate(pem: pem, context: path), let notAfter = certificate.notAfter else {
                unreadable.append(path)
                continue
            }
            days[name] = notAfter.timeIntervalSince(now) / 86_400
        }
        return (days, unreadable)
    }
}

/// Watches a running coordinator: once a second it turns the status into an observation for the
/// ``LinkMonitor`` (metrics, alert rules, log, journal, webhook), counts refusals and gaps into the metrics,
/// and every `retuneIntervalSeconds` asks the planner; with auto-tune a change is sent to the nodes as the
/// set-repetition-rate message and journaled.
struct CoordinatorMonitoringService: Service {
    let coordinator: CoordinatorService
    let monitor: LinkMonitor
    let journal: CoordinatorJournal?
    let link: LinkConfiguration
    let retuneIntervalSeconds: Double
    let logger: Logger

    init(coordinator: CoordinatorService, monitor: LinkMonitor, journal: CoordinatorJournal?, link: LinkConfiguration,
                retuneIntervalSeconds: Double = 60, logger: Logger) {
        self.coordinator = coordinator
        self.monitor = monitor
        self.journal = journal
        self.link = link
        self.retuneIntervalSeconds = retuneIntervalSeconds
        self.logger = logger
    }

    func run() async throws {
        var observer = StatusObserver(link: link, windowSeconds: link.monitoring?.windowSeconds ?? 10)
        var seen: Double?
        var previous = (gaps: Int64(0), malformed: Int64(0), unauthenticated: Int64(0), refused: 0)
        var lastRetune = 0.0
        var certificates = CertificateLifetimes.daysLeft(link)
        for path in certificates.unreadable {
            logger.warning("monitoring.certificate.unreadable", metadata: ["certificate.path": "\(path)"])
        }
        var certificatesReadAt = Date()
        while !Task.isCancelledOrShuttingDown {
            try? await Task.sleep(for: .seconds(1))
            let state = coordinator.monitor.current
            guard let status = state.status, status.elapsedSeconds != seen else { continue }
            seen = status.elapsedSeconds
            let metrics = monitor.metrics
            if status.gaps > previous.gaps { metrics.recordSequenceGap(node: "any", count: status.gaps - previous.gaps) }
            for _ in 0..<max(0, Int(status.malformed - previous.malformed)) { metrics.recordRejectedConnection(reason: "malformed") }
            for _ in 0..<max(0, Int(status.unauthenticated - previous.unauthenticated)) { metrics.recordRejectedConnection(reason: "unauthenticated") }
            for _ in 0..<max(0, state.refusedHandshakes - previous.refused) { metrics.recordRejectedConnection(reason: "handshake_refused") }
            previous = (status.gaps, status.malformed, status.unauthenticated, state.refusedHandshakes)
            if Date().timeIntervalSince(certificatesReadAt) > 3_600 {
                certificates = CertificateLifetimes.daysLeft(link)
                certificatesReadAt = Date()
            }
            var observation = observer.observation(from: status)
            observation.certificateDaysLeft = certificates.days.mapValues { $0 - Date().timeIntervalSince(certificatesReadAt) / 86_400 }
            await monitor.observe(observation)
            await monitor.setNodes(link.labs.map { lab in
                NodeStatus(name: lab.node, lab: lab.name, connected: observation.nodeLastSeenPs[lab.node].map { observation.timePs - $0 < 5_000_000_000_000 } ?? false,
                           lastSeenPs: observation.nodeLastSeenPs[lab.node])
            })
            if status.elapsedSeconds - lastRetune >= retuneIntervalSeconds, let model = link.model, let tuning = await monitor.currentStatus().tuning,
               let rate = tuning.repetitionRateHz, let clicks = observation.heraldRateHz, clicks.value > 0 {
                lastRetune = status.elapsedSeconds
                // Heralds are single station clicks; at low click probability per attempt they are the click rate.
                let measurement = RetuneMeasurement(repetitionRateHz: rate, knob: tuning.knob ?? model.protocol.knob,
                                                    windowSeconds: link.monitoring?.windowSeconds ?? 10, stationClickRateHz: clicks.value)
                if case .change(let point, let reason) = await monitor.retune(measurement, atPs: observation.timePs) {
                    coordinator.requestRepetitionRate(point.repetitionRateHz)
                    try? journal?.recordConfigurationChange(key: "repetition_rate_hz", value: "\(point.repetitionRateHz)")
                    logger.notice("retune.change", metadata: ["retune.rate_hz": "\(point.repetitionRateHz)", "retune.reason": "\(reason)"])
                    await monitor.applied(point)
                }
            }
        }
        await monitor.markStopped()
    }
}

/// Watches a running node: its spool, unacknowledged batches, heralds, refusals, and the coordinator's
/// status as the node received it, for the node's own status server and metrics.
struct NodeMonitoringService: Service {
    let node: NodeService
    let monitor: LinkMonitor
    let link: LinkConfiguration

    func run() async throws {
        var observer = StatusObserver(link: link, windowSeconds: link.monitoring?.windowSeconds ?? 10)
        let name = node.settings.node
        var previous = (heralds: Int64(0), gaps: Int64(0), rejected: Int64(0))
        while !Task.isCancelledOrShuttingDown {
            try? await Task.sleep(for: .seconds(1))
            let state = node.monitor.current
            let metrics = monitor.metrics
            metrics.setSpool(node: name, bytes: nil, batches: Int64(state.spoolBatches))
            metrics.setQueueDepth(queue: "unacknowledged", depth: Int(max(0, state.batchesSent - state.batchesAcknowledged)))
            if state.heraldsReceived > previous.heralds { metrics.recordHeralds(outcome: "received", count: state.heraldsReceived - previous.heralds) }
            if state.heraldGaps > previous.gaps { metrics.recordSequenceGap(node: "heralds", count: state.heraldGaps - previous.gaps) }
            let rejected = Int64(state.rejected.total)
            for _ in 0..<max(0, rejected - previous.rejected) { metrics.recordRejectedConnection(reason: "malformed") }
            previous = (state.heraldsReceived, state.heraldGaps, rejected)
            if let rate = state.repetitionRateHz { metrics.setRepetitionRate(currentHz: rate, recommendedHz: nil) }
            if let status = state.lastStatus { await monitor.observe(observer.observation(from: status)) }
            await monitor.setNodes([NodeStatus(name: name, lab: node.settings.lab, connected: state.connected,
                                               spoolBatches: Int64(state.spoolBatches))])
        }
        await monitor.markStopped()
    }
}

/// The status endpoint to serve: the command line's, else the configuration's.
func statusEndpoint(override: String?, configured: Endpoint?) throws -> Endpoint? {
    guard let override else { return configured }
    do {
        let endpoint = try Endpoint(parsing: override)
        guard endpoint.transport == .tcp else { throw ValidationError("--status must be tcp://HOST:PORT") }
        return endpoint
    } catch let error as EndpointParseError {
        throw ValidationError("--status: \(error)")
    }
}
