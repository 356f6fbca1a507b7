import Correlation
import Prometheus

/// The Prometheus metrics of a QLink coordinator or node, in one registry.
///
/// Every family of issue 9 is registered when the value is first set (labelled series appear with their
/// labels); the unlabelled ones are registered at once so that a scrape always shows them. Render the
/// exposition text with ``exposition()``. Other code can report into the same registry through
/// swift-metrics with ``metricsFactory``.
public final class LinkMetrics: Sendable {
    /// The registry the metrics live in.
    public let registry: PrometheusCollectorRegistry
    /// swift-metrics factory writing into ``registry`` (pass to `MetricsSystem.bootstrap` once per process,
    /// or to the `factory:` parameter of swift-metrics types).
    public let metricsFactory: PrometheusMetricsFactory

    private let heraldLatency: DurationHistogram
    private let batchLatency: DurationHistogram

    /// Latency histogram buckets: 50 µs to 10 s.
    public static let latencyBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(10),
    ]

    /// Series appear when first set; a value that was never measured is absent rather than NaN, and
    /// non-finite values are not written (the previous value stays).
    /// Metrics for the link `link` (shown in `qlink_link_info`) played by `role` (`coordinator` or `node`).
    public init(link: String, role: String, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        metricsFactory = PrometheusMetricsFactory(registry: registry)
        registry.makeGauge(descriptor: MetricFamily.linkInfo.descriptor, labels: [("link", link), ("role", role)]).set(to: 1.0)
        heraldLatency = registry.makeDurationHistogram(descriptor: MetricFamily.heraldLatency.descriptor,
                                                       buckets: Self.latencyBuckets)
        batchLatency = registry.makeDurationHistogram(descriptor: MetricFamily.batchLatency.descriptor,
                                                      buckets: Self.latencyBuckets)
    }

    // MARK: Setting values

    /// Sets every gauge that `observation` measured.
    public func update(with observation: LinkObservation) {
        for (channel, rate) in observation.channelRatesHz {
            gauge(.singlesRate, [("channel", String(channel))]).set(rate)
        }
        for (arm, rate) in observation.armRatesHz { gauge(.armRate, [("arm", arm)]).set(rate) }
        if let value = observation.coincidenceRateHz { gauge(.coincidenceRate).set(value.value) }
        if let value = observation.accidentalRateHz { gauge(.accidentalRate).set(value.value) }
        if let value = observation.car { gauge(.car).set(value.value) }
        for (basis, value) in observation.visibility { gauge(.visibility, [("basis", basis)]).set(value.value) }
        if let value = observation.fidelity {
            gauge(.fidelity).set(value.value)
            gauge(.fidelityError).set(value.standardError)
            gauge(.fidelityIsLowerBound).set(observation.fidelityIsLowerBound ? 1 : 0)
        }
        if let value = observation.heraldRateHz { gauge(.heraldRate).set(value.value) }
        if let value = observation.clockOffsetPs { gauge(.clockOffset).set(value / picosecondsPerSecond) }
        if let value = observation.clockDriftPpm { gauge(.clockDrift).set(value * 1e-6) }
        if let value = observation.clockResidualPs { gauge(.clockResidual).set(value / picosecondsPerSecond) }
        for (node, seen) in observation.nodeLastSeenPs {
            gauge(.nodeSilence, [("node", node)]).set(Double(max(0, observation.timePs - seen)) / picosecondsPerSecond)
        }
        for (name, days) in observation.certificateDaysLeft { gauge(.certificateExpiry, [("certificate", name)]).set(days * 86_400) }
        for (basis, value) in observation.qber ?? [:] {
            gauge(.qber, [("basis", basis)]).set(value.value)
            gauge(.qberError, [("basis", basis)]).set(value.standardError)
        }
        if let value = observation.keyRateBitsPerS { gauge(.secretKeyRate).set(value.value) }
        for (state, bases) in observation.heraldedQber ?? [:] {
            for (basis, value) in bases { gauge(.heraldedQber, [("state", state), ("basis", basis)]).set(value.value) }
        }
    }

    /// Sets the planner's predicted QBER per basis and secret key rate at the operating point in force.
    public func setPlanned(_ prediction: PlannedPrediction) {
        for (basis, value) in prediction.qberByBasis { gauge(.plannedQber, [("basis", basis)]).set(value) }
        if let value = prediction.keyRateBitsPerS { gauge(.plannedSecretKeyRate).set(value) }
    }

    /// Sets the tomography gauges from the maximum-likelihood state of `tomography`, one series per set of counts
    /// (label `state`: `all` for all coincidences, `psi_plus`, `psi_minus` for the heralds of that state) and count
    /// basis (label `counts`: `raw`, `accidentalSubtracted`).
    public func update(tomography: LinkTomography) {
        let estimates = [tomography.result.raw] + (tomography.result.accidentalSubtracted.map { [$0] } ?? [])
        // Spelt as the herald counter's outcomes are.
        let state = switch tomography.heraldedState {
        case nil: "all"
        case .phiPlus?: "phi_plus"
        case .phiMinus?: "phi_minus"
        case .psiPlus?: "psi_plus"
        case .psiMinus?: "psi_minus"
        }
        for estimate in estimates {
            let labels = [("state", state), ("counts", estimate.countBasis.rawValue)]
            let q = estimate.quantities
            gauge(.tomographyFidelity, labels).set(q.fidelityToTarget)
            gauge(.tomographyFidelityMaxEntangled, labels).set(q.fidelityMaxEntangled)
            gauge(.tomographyPurity, labels).set(q.purity)
            gauge(.tomographyConcurrence, labels).set(q.concurrence)
            gauge(.tomographyNegativity, labels).set(q.negativity)
            gauge(.tomographyCHSHMax, labels).set(q.chshMax)
        }
    }

    /// Counts `count` heralds with `outcome` (`fail`, `psi_plus`, `psi_minus`).
    public func recordHeralds(outcome: String, count: Int64 = 1) {
        counter(.heralds, [("outcome", outcome)]).increment(by: count)
    }

    /// Counts `count` batches missing from `node`'s sequence.
    public func recordSequenceGap(node: String, count: Int64 = 1) {
        counter(.sequenceGaps, [("node", node)]).increment(by: count)
    }

    /// Counts one refused message after the handshake, by reason (`malformed`, `unauthenticated`).
    public func recordRejectedConnection(reason: String) {
        counter(.rejectedConnections, [("reason", reason)]).increment()
    }

    /// Counts `count` refused handshakes with `reason` (`wrong-mechanism`, `handshake-failed`, `unknown-key`,
    /// `untrusted-issuer`, `expired`, `revoked`, `wrong-role`, …).
    public func recordRefusedHandshakes(reason: String, count: Int64 = 1) {
        counter(.refusedHandshakes, [("reason", reason)]).increment(by: count)
    }

    /// Counts `count` refused hellos with `reason` (`wrong-lab`, `unlisted-node`, `node-mismatch`, `wrong-role`).
    public func recordRefusedHellos(reason: String, count: Int64 = 1) {
        counter(.refusedHellos, [("reason", reason)]).increment(by: count)
    }

    /// Counts `count` tags dropped with `reason` (`foreign-channel`, `station-channel`).
    public func recordRefusedTags(reason: String, count: Int64 = 1) {
        counter(.refusedTags, [("reason", reason)]).increment(by: count)
    }

    /// Counts `count` tag batches the live analysis dropped because its queue was full.
    public func recordAnalysisDroppedBatches(count: Int64) {
        counter(.analysisDroppedBatches).increment(by: count)
    }

    /// Sets the size of `node`'s disk spool (bytes when known).
    public func setSpool(node: String, bytes: Int64?, batches: Int64) {
        if let bytes { gauge(.spoolBytes, [("node", node)]).set(Double(bytes)) }
        gauge(.spoolBatches, [("node", node)]).set(Double(batches))
    }

    /// Sets the depth of an internal queue (`tags`, `heralds`, `journal`, …).
    public func setQueueDepth(queue: String, depth: Int) {
        gauge(.queueDepth, [("queue", queue)]).set(Double(depth))
    }

    /// Records one herald latency: station tag at the coordinator to herald at a node.
    public func recordHeraldLatency(nanoseconds: Int64) { heraldLatency.recordNanoseconds(nanoseconds) }

    /// Records one batch latency: batch sent by a node to batch analysed by the coordinator.
    public func recordBatchLatency(nanoseconds: Int64) { batchLatency.recordNanoseconds(nanoseconds) }

    /// Sets the repetition rate in force and the planner's recommendation.
    public func setRepetitionRate(currentHz: Double, recommendedHz: Double?) {
        gauge(.repetitionRate).set(currentHz)
        if let recommendedHz { gauge(.recommendedRate).set(recommendedHz) }
    }

    /// Sets the alert gauges: one series per rule and subject with the severity as 0, 1 or 2.
    public func setAlerts(_ states: [AlertState]) {
        var counts: [Severity: Int] = [:]
        for state in states {
            gauge(.alertSeverity, [("rule", state.rule.rawValue), ("subject", state.subject)]).set(Double(state.severity.level))
            counts[state.severity, default: 0] += 1
        }
        for severity in [Severity.warning, .critical] {
            gauge(.alertsActive, [("severity", severity.rawValue)]).set(Double(counts[severity] ?? 0))
        }
    }

    // MARK: Output

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    public func exposition() -> String { registry.emitToString() }

    /// The content type of ``exposition()``.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    // MARK: Registration

    private func gauge(_ family: MetricFamily, _ labels: [(String, String)] = []) -> FiniteGauge {
        FiniteGauge(gauge: registry.makeGauge(descriptor: family.descriptor, labels: labels))
    }

    private func counter(_ family: MetricFamily, _ labels: [(String, String)] = []) -> Prometheus.Counter {
        registry.makeCounter(descriptor: family.descriptor, labels: labels)
    }
}

extension Severity {
    /// 0 for ok, 1 for warning, 2 for critical (the value of the `qlink_alert_severity` gauge).
    public var level: Int {
        switch self {
        case .ok: 0
        case .warning: 1
        case .critical: 2
        }
    }
}

/// A gauge that ignores non-finite values, so the exposition never carries NaN or ±Inf samples.
private struct FiniteGauge {
    let gauge: Prometheus.Gauge

    func set(_ value: Double) {
        guard value.isFinite else { return }
        gauge.set(to: value)
    }
}
