import Correlation
import Foundation
import LinkModel

/// What the planner predicts for the link as configured, for the measured-versus-planned checks.
public struct PlannedPrediction: Sendable, Codable, Equatable {
    /// Heralded (or coincident) pairs per second.
    public var pairRateHz: Double?
    /// Delivered fidelity.
    public var fidelity: Double?
    /// Predicted QBER in Z and X of the delivered state.
    public var qberZ: Double?
    public var qberX: Double?
    /// Predicted asymptotic secret key rate in bits per second.
    public var keyRateBitsPerS: Double?

    public init(pairRateHz: Double? = nil, fidelity: Double? = nil, qberZ: Double? = nil, qberX: Double? = nil,
                keyRateBitsPerS: Double? = nil) {
        self.pairRateHz = pairRateHz
        self.fidelity = fidelity
        self.qberZ = qberZ
        self.qberX = qberX
        self.keyRateBitsPerS = keyRateBitsPerS
    }
}

/// Evaluates the alert rules of a link against a stream of timestamped observations.
///
/// Pure: it keeps its own state, reads time only from the observations and returns the transitions; the
/// caller sends them to the sinks. Baselines of the arm and channel rates are learned over the first
/// `baselineSeconds` of observations unless given.
public struct AlertEvaluator: Sendable {
    private let rules: AlertRulesConfiguration
    private let plannedConfiguration: PlannedComparisonConfiguration
    /// The planner's prediction, if the link has a model.
    public var prediction: PlannedPrediction?
    /// Nodes that must be heard from (node names).
    public let expectedNodes: [String]
    private var trackers: [String: (rule: AlertRule, subject: String, tracker: ThresholdTracker, value: Double)] = [:]
    private var baselines: [String: Double]
    private var learning: [String: (sum: Double, count: Int)] = [:]
    private var startPs: Int64?

    /// An evaluator for `rules`, expecting `expectedNodes`, with optional known baselines (keys `arm NAME`
    /// and `channel N`, rates in Hz).
    public init(rules: AlertRulesConfiguration, planned: PlannedComparisonConfiguration = .init(enabled: false),
                prediction: PlannedPrediction? = nil, expectedNodes: [String] = [], baselinesHz: [String: Double] = [:]) {
        self.rules = rules
        plannedConfiguration = planned
        self.prediction = prediction
        self.expectedNodes = expectedNodes
        baselines = baselinesHz
    }

    /// The learned or given baseline rates (keys `arm NAME`, `channel N`).
    public var baselineRatesHz: [String: Double] { baselines }

    /// Every rule and subject seen so far with its state, worst first.
    public var states: [AlertState] {
        trackers.values.map { entry in
            AlertState(rule: entry.rule, subject: entry.subject, severity: entry.tracker.severity,
                       sincePs: entry.tracker.sincePs, value: entry.value,
                       message: Self.message(entry.rule, entry.subject, entry.tracker.severity, entry.value,
                                             entry.tracker.threshold(of: entry.tracker.severity)))
        }.sorted { ($0.severity, $1.rule.rawValue, $1.subject) > ($1.severity, $0.rule.rawValue, $0.subject) }
    }

    /// The alerts that are not ok.
    public var activeAlerts: [AlertState] { states.filter { $0.severity != .ok } }

    /// Feeds one observation; returns the severity changes it caused.
    public mutating func evaluate(_ observation: LinkObservation) -> [AlertTransition] {
        let now = observation.timePs
        if startPs == nil { startPs = now }
        var changes: [AlertTransition] = []
        func feed(_ rule: AlertRule, _ subject: String, _ value: Double, _ configuration: ThresholdRule) {
            guard configuration.enabled else { return }
            feedTracker(rule, subject, value, now, &changes) { ThresholdTracker(rule: configuration, badWhenLow: rule.badWhenLow) }
        }
        if let fidelity = observation.fidelity { feed(.fidelityLow, "link", fidelity.value, rules.fidelityBelow) }
        if let car = observation.car { feed(.carLow, "link", car.value, rules.carBelow) }
        if let residual = observation.clockResidualPs { feed(.clockResidual, "link", abs(residual), rules.clockResidualAbovePs) }
        for (arm, rate) in observation.armRatesHz.sorted(by: { $0.key < $1.key }) {
            if let drop = dropDb(key: "arm \(arm)", rate: rate, now: now) { feed(.armRateDrop, arm, drop, rules.armRateDropDb) }
        }
        for (channel, rate) in observation.channelRatesHz.sorted(by: { $0.key < $1.key }) {
            if let drop = dropDb(key: "channel \(channel)", rate: rate, now: now) {
                feed(.channelRateDrop, "channel \(channel)", drop, rules.channelRateDropDb)
            }
        }
        // Silence is measured on the observations' clock (the coordinator's), not on link time: a node that sends
        // nothing reaches no link time, and its silence is a fact of the wall clock. Every rate above is on link time.
        for node in Set(expectedNodes).union(observation.nodeLastSeenPs.keys).sorted() {
            let seen = observation.nodeLastSeenPs[node] ?? startPs ?? now
            feed(.nodeSilent, node, Double(max(0, now - seen)) / picosecondsPerSecond, rules.nodeSilentS)
        }
        for (name, days) in observation.certificateDaysLeft.sorted(by: { $0.key < $1.key }) {
            feed(.certificateExpiry, name, days, rules.certificateExpiryDays)
        }
        if plannedConfiguration.enabled, let prediction {
            let planned = ThresholdRule(warning: plannedConfiguration.kSigma, critical: nil,
                                        forSeconds: plannedConfiguration.forSeconds,
                                        clearForSeconds: plannedConfiguration.clearForSeconds, hysteresis: 0.5)
            // Pairs per second of link time (LinkHealth's StatusObserver): a stalled feed is no shortfall.
            let measuredRate = observation.heraldRateHz ?? observation.coincidenceRateHz
            if let expected = prediction.pairRateHz, let measured = measuredRate, let z = shortfall(expected, measured) {
                feed(.rateBelowPlan, "pair_rate", z, planned)
            }
            // The planner predicts the fidelity itself; a Z/X lower bound below it says nothing about a shortfall.
            if let expected = prediction.fidelity, let measured = observation.fidelity, !observation.fidelityIsLowerBound,
               let z = shortfall(expected, measured) {
                feed(.fidelityBelowPlan, "link", z, planned)
            }
        }
        return changes
    }

    /// Standard errors by which `measured` falls below `expected` (negative when above), nil without an error bar.
    private func shortfall(_ expected: Double, _ measured: Estimate) -> Double? {
        guard measured.standardError > 0, measured.standardError.isFinite else { return nil }
        return (expected - measured.value) / measured.standardError
    }

    /// The drop of `rate` below its baseline in dB, learning the baseline first.
    private mutating func dropDb(key: String, rate: Double, now: Int64) -> Double? {
        guard rate.isFinite, rate >= 0 else { return nil }
        if let baseline = baselines[key] {
            guard baseline > 0 else { return nil }
            return min(100, 10 * log10(baseline / max(rate, baseline * 1e-10)))
        }
        var sums = learning[key] ?? (0, 0)
        sums.sum += rate
        sums.count += 1
        learning[key] = sums
        if Double(now - (startPs ?? now)) >= rules.baselineSeconds * picosecondsPerSecond {
            baselines[key] = sums.sum / Double(sums.count)
            learning[key] = nil
        }
        return nil
    }

    private mutating func feedTracker(_ rule: AlertRule, _ subject: String, _ value: Double, _ now: Int64,
                                      _ changes: inout [AlertTransition], make: () -> ThresholdTracker) {
        let key = rule.rawValue + "/" + subject
        var entry = trackers[key] ?? (rule, subject, make(), value)
        let before = entry.tracker.severity
        entry.value = value
        if let after = entry.tracker.observe(value, atPs: now) {
            let threshold = entry.tracker.threshold(of: max(before, after))
            changes.append(AlertTransition(rule: rule, subject: subject, from: before, to: after, atPs: now, value: value,
                                           threshold: threshold, message: Self.message(rule, subject, after, value, threshold)))
        }
        trackers[key] = entry
    }

    static func message(_ rule: AlertRule, _ subject: String, _ severity: Severity, _ value: Double, _ threshold: Double?) -> String {
        let shown = value.isFinite ? String(format: abs(value) >= 100 ? "%.0f" : "%.3g", value) : "\(value)"
        let about = subject == "link" ? "" : " (\(subject))"
        guard severity != .ok else { return "\(rule.quantity)\(about) is back to normal: \(shown)\(rule.unit)" }
        let side = rule.badWhenLow ? "below" : "above"
        let level = threshold.map { " \(side) the \(severity.rawValue) level \(String(format: "%.4g", $0))\(rule.unit)" } ?? ""
        return "\(rule.quantity)\(about) is \(shown)\(rule.unit)\(level)"
    }
}

import Planner

extension PlannedPrediction {
    /// The prediction of the planner's `performance` at the operating point in force.
    public init(_ performance: Performance) {
        self.init(pairRateHz: performance.pairRateHz, fidelity: performance.fidelity, qberZ: performance.key.qberZ,
                  qberX: performance.key.qberX, keyRateBitsPerS: performance.key.keyRateBitsPerS)
    }

    /// The planner's prediction for `model` at `point` (the configured link at the rate in force).
    public init(model: LinkDescription, point: OperatingPoint) {
        self.init(LinkProfile(model).evaluate(point))
    }
}
