import Foundation
import LinkModel
import Logging
import Monitoring
import Planner
import Protocol
import ServiceLifecycle
import Services

/// Watches a running coordinator: once a second it turns the status into an observation for the
/// ``LinkMonitor`` (metrics, alert rules, log, journal, webhook), counts refusals and gaps into the metrics,
/// and every `retuneIntervalSeconds` asks the planner; with auto-tune a change is requested from the coordinator,
/// which agrees it with both labs' nodes (a two-phase change, journaled). The monitor predicts from the rate
/// schedule in force: a committed change (or one a restarted coordinator replayed from its journal) becomes the
/// operating point; an aborted one leaves it as it was.
public struct CoordinatorMonitoringService: Service {
    /// The coordinator watched.
    public let coordinator: CoordinatorService
    /// Metrics, alert rules, status server source.
    public let monitor: LinkMonitor
    /// The link: labs, nodes, certificates, monitoring settings, model for re-tuning.
    public let link: LinkConfiguration
    /// Seconds between re-tuning runs of the planner.
    public let retuneIntervalSeconds: Double
    /// Seconds between observations (once a second in a running coordinator).
    public var observationIntervalSeconds = 1.0
    /// Where re-tuning and unreadable certificates are logged.
    public let logger: Logger

    /// Watches `coordinator` for `monitor`, re-tuning every `retuneIntervalSeconds`.
    public init(coordinator: CoordinatorService, monitor: LinkMonitor, link: LinkConfiguration,
                retuneIntervalSeconds: Double = 60, logger: Logger) {
        self.coordinator = coordinator
        self.monitor = monitor
        self.link = link
        self.retuneIntervalSeconds = retuneIntervalSeconds
        self.logger = logger
    }

    /// Observes once per `observationIntervalSeconds` until cancelled or shut down, then marks the monitor stopped.
    public func run() async throws {
        var observer = StatusObserver(link: link, windowSeconds: link.monitoring?.windowSeconds ?? 10)
        var seen: Double?
        var previous = (gaps: Int64(0), malformed: Int64(0), unauthenticated: Int64(0), analysisDropped: Int64(0))
        var counted = RefusalCounts()
        var lastRetune = 0.0
        // Link time from which the rate in force runs: a re-tune window starts there or later.
        var settledPs: Int64 = 0
        var scheduleSeen = 0
        var requested: OperatingPoint?
        var certificates = CertificateLifetimes.daysLeft(link)
        for path in certificates.unreadable {
            logger.warning("monitoring.certificate.unreadable", metadata: ["certificate.path": "\(path)"])
        }
        var certificatesReadAt = Date()
        var lastHerald: UInt64 = 0
        while !(Task.isCancelled || Task.isShuttingDownGracefully) {
            try? await Task.sleep(for: .seconds(observationIntervalSeconds))
            let state = coordinator.monitor.current
            guard let status = state.status, status.elapsedSeconds != seen else { continue }
            seen = status.elapsedSeconds
            let metrics = monitor.metrics
            if status.gaps > previous.gaps { metrics.recordSequenceGap(node: "any", count: status.gaps - previous.gaps) }
            for _ in 0..<max(0, Int(status.malformed - previous.malformed)) { metrics.recordRejectedConnection(reason: "malformed") }
            for _ in 0..<max(0, Int(status.unauthenticated - previous.unauthenticated)) { metrics.recordRejectedConnection(reason: "unauthenticated") }
            let analysisDropped = status.analysisDroppedBatches ?? 0
            if analysisDropped > previous.analysisDropped {
                metrics.recordAnalysisDroppedBatches(count: analysisDropped - previous.analysisDropped)
            }
            previous = (status.gaps, status.malformed, status.unauthenticated, analysisDropped)
            let refusals = RefusalCounts(handshakes: state.refusedHandshakesByReason, hellos: state.refusedHellos, tags: state.refusedTags)
            for (reason, count) in refusals.handshakes where count > counted.handshakes[reason] ?? 0 {
                metrics.recordRefusedHandshakes(reason: reason, count: Int64(count - (counted.handshakes[reason] ?? 0)))
            }
            for (reason, count) in refusals.hellos where count > counted.hellos[reason] ?? 0 {
                metrics.recordRefusedHellos(reason: reason, count: Int64(count - (counted.hellos[reason] ?? 0)))
            }
            for (reason, count) in refusals.tags where count > counted.tags[reason] ?? 0 {
                metrics.recordRefusedTags(reason: reason, count: Int64(count - (counted.tags[reason] ?? 0)))
            }
            counted = refusals
            await monitor.setRefusals(refusals)
            let measured = coordinator.monitor.takeMeasurements()
            for ns in measured.batchAckNs { metrics.recordBatchLatency(nanoseconds: ns) }
            for ns in measured.heraldDecisionNs { metrics.recordHeraldLatency(nanoseconds: ns) }
            metrics.setQueueDepth(queue: "coordinator_round", depth: measured.largestRound)
            if Date().timeIntervalSince(certificatesReadAt) > 3_600 {
                certificates = CertificateLifetimes.daysLeft(link)
                certificatesReadAt = Date()
            }
            var observation = observer.observation(from: status)
            // Visibility per basis from the live analysis (the engine of qlink correlate), raw counts.
            for basis in state.analysis?.bases ?? [] where basis.countBasis == .raw {
                observation.visibility[basis.basis.lowercased()] = basis.visibility
            }
            // QBER per basis and the measured secret key rate from the same analysis.
            if let analysis = state.analysis { observation.addKey(from: analysis) }
            observation.certificateDaysLeft = certificates.days.mapValues { $0 - Date().timeIntervalSince(certificatesReadAt) / 86_400 }
            await monitor.observe(observation)
            await monitor.setAnalysis(state.analysis)
            for herald in state.recentHeralds where herald.sequence > lastHerald {
                await monitor.recordHerald(HeraldSummary(herald))
                lastHerald = herald.sequence
            }
            await monitor.setNodes(link.labs.map { lab in
                NodeStatus(name: lab.node, lab: lab.name, connected: observation.nodeLastSeenPs[lab.node].map { observation.timePs - $0 < 5_000_000_000_000 } ?? false,
                           lastSeenPs: observation.nodeLastSeenPs[lab.node])
            })
            if state.rateSchedule.count != scheduleSeen, let inForce = state.rateSchedule.last {
                scheduleSeen = state.rateSchedule.count
                let knob = await monitor.currentStatus().tuning?.knob
                await monitor.applied(OperatingPoint(repetitionRateHz: inForce.rateHz, knob: requested?.knob ?? knob))
                requested = nil
                // Rates counted while the window still holds the old rate would read as a changed link.
                settledPs = inForce.atPs
            } else if requested != nil, let change = state.rateChange, case .aborted(let reason) = change.state {
                logger.warning("retune.aborted", metadata: ["retune.rate_hz": "\(change.rateHz)", "retune.reason": "\(reason)"])
                requested = nil
            }
            let open = state.rateChange.flatMap { $0.isOpen ? $0 : nil }
            await monitor.setRateSchedule(rateHz: state.rateSchedule.last?.rateHz, sincePs: state.rateSchedule.last?.atPs,
                                          pendingChangeId: open?.id, pendingRateHz: open?.rateHz)
            if requested == nil, status.elapsedSeconds - lastRetune >= retuneIntervalSeconds,
               let window = observer.retuneWindow, window.startPs >= settledPs,
               let model = link.model, let tuning = await monitor.currentStatus().tuning,
               let rate = tuning.repetitionRateHz,
               let measurement = RetuneMeasurement(window: window, link: link, model: model, repetitionRateHz: rate,
                                                   knob: tuning.knob ?? model.protocol.knob) {
                lastRetune = status.elapsedSeconds
                if case .change(let point, let reason) = await monitor.retune(measurement, atPs: observation.timePs) {
                    // In force once both labs agreed (the schedule above); no re-tuning until it is decided.
                    coordinator.requestRepetitionRate(point.repetitionRateHz)
                    requested = point
                    logger.notice("retune.change", metadata: ["retune.rate_hz": "\(point.repetitionRateHz)", "retune.reason": "\(reason)"])
                }
            }
        }
        await monitor.markStopped()
    }
}

extension HeraldSummary {
    /// A decided herald as the status page lists it (outcome `fail`, `psi_plus` or `psi_minus`).
    public init(_ herald: Herald) {
        let outcome = switch herald.outcome {
        case .failure: "fail"
        case .psiPlus: "psi_plus"
        case .psiMinus: "psi_minus"
        }
        self.init(sequence: herald.sequence, attemptId: herald.attemptId, outcome: outcome, timePs: herald.timePs)
    }
}
