import Foundation
import LinkModel
import Planner

/// What the planner recommends for the link as measured now.
public struct Recommendation: Sendable, Encodable, Equatable {
    /// The arms as measured.
    public var arms: [ArmEstimate]
    /// The operating point in force and what the measured link achieves there.
    public var current: Performance
    /// The best operating point under the fidelity target, or nil when none meets it.
    public var best: Performance?
    /// Relative improvement of the cost per pair at `best` over `current` (0.2 = 20 % cheaper).
    public var improvement: Double
    /// True when the point in force still meets the fidelity target on the link as measured.
    public var currentMeetsTarget: Bool
    /// A sentence for people.
    public var message: String
}

/// Re-runs the planner for the configured link corrected by measured arm efficiencies and recommends the
/// repetition rate (and α or mean pairs) that minimises the cost per pair under the fidelity target.
public struct Retuner: Sendable {
    /// The configured link.
    public let model: LinkDescription
    /// Bounds, target and dwell.
    public let configuration: RetuneConfiguration

    public init(model: LinkDescription, configuration: RetuneConfiguration) {
        self.model = model
        self.configuration = configuration
    }

    /// The repetition rates searched: the configured bounds, capped by the link's limit, log-spaced.
    public func rateGrid(for link: LinkDescription) -> [Double] {
        let limit = link.maxRepetitionRateHz.isFinite ? link.maxRepetitionRateHz : (link.clock.repetitionRateHz ?? 1e6) * 10
        let high = min(configuration.maxRateHz ?? limit, limit)
        let low = min(configuration.minRateHz ?? high / 1000, high)
        return SweepGrid.spaced(from: low, to: high, count: configuration.ratePoints)
    }

    /// The knob values searched for `protocol`: the planner's default range, or only `current` when the
    /// configuration keeps the knob.
    public func knobGrid(for protocol: EntanglementProtocol, current: Double? = nil) -> [Double?] {
        if !configuration.tuneKnob {
            let kept: Double? = current ?? `protocol`.knob
            return [kept]
        }
        switch `protocol` {
        case .singleClick: return Planner.defaultAlpha.values
        case .doubleClick: return [nil]
        case .pairSource: return Planner.defaultMeanPairs.values
        }
    }

    /// The planner's best point for `link` (the configured model, or one corrected by measurements).
    /// With `tune_knob: false` the knob stays at `knob` (or the model's).
    public func optimum(for link: LinkDescription, knob: Double? = nil) -> PlanOptimum {
        let profile = LinkProfile(link)
        let points = profile.sweep(SweepGrid(ratesHz: rateGrid(for: link), knobs: knobGrid(for: link.protocol, current: knob)))
        return PlanOptimum.search(points, constraints: PlanConstraints(minFidelity: configuration.minFidelity),
                                  objective: .costPerPair, currency: link.costs.currency, knobName: Planner.symbol(link.protocol))
    }

    /// The recommendation for the link as measured by `measurement`.
    public func recommend(from measurement: RetuneMeasurement) throws(MonitoringError) -> Recommendation {
        let arms = try ArmEstimator.estimate(model: model, measurement: measurement)
        let measured = ArmEstimator.adjustedModel(model, estimates: arms)
        let point = OperatingPoint(repetitionRateHz: measurement.repetitionRateHz, knob: measurement.knob ?? model.protocol.knob)
        let current = LinkProfile(measured).evaluate(point)
        let optimum = optimum(for: measured, knob: point.knob)
        let improvement: Double
        if let best = optimum.best, current.costPerPair.isFinite, current.costPerPair > 0 {
            improvement = 1 - best.costPerPair / current.costPerPair
        } else if optimum.best != nil {
            improvement = 1
        } else {
            improvement = 0
        }
        let lossText = arms.map { "\($0.arm) \(String(format: "%+.2f", $0.extraLossDb)) dB" }.joined(separator: ", ")
        let message = "measured arm loss against the model: \(lossText); " + optimum.message
        return Recommendation(arms: arms, current: current, best: optimum.best, improvement: improvement,
                              currentMeetsTarget: current.fidelity >= configuration.minFidelity && current.withinRateLimit,
                              message: message)
    }
}

/// What the coordinator does with a recommendation.
public enum TuningDecision: Sendable, Equatable {
    /// Keep the setting in force.
    case keep(reason: String)
    /// Only tell people (auto-tune is off).
    case recommend(OperatingPoint, reason: String)
    /// Send the new setting to the nodes (and journal it).
    case change(OperatingPoint, reason: String)

    /// The reason, for logs and the journal.
    public var reason: String {
        switch self {
        case .keep(let reason), .recommend(_, let reason), .change(_, let reason): reason
        }
    }
}

/// Turns recommendations into changes: with auto-tune on, a change needs a point within the bounds, a
/// reason (the point in force misses the fidelity target, or the best point is at least `minImprovement`
/// cheaper per pair) and `minDwellSeconds` since the last change.
public struct AutoTuner: Sendable {
    /// The rules.
    public let configuration: RetuneConfiguration
    /// When the last change was made, in picoseconds.
    public private(set) var lastChangePs: Int64?

    public init(configuration: RetuneConfiguration, lastChangePs: Int64? = nil) {
        self.configuration = configuration
        self.lastChangePs = lastChangePs
    }

    /// Decides what to do at `timePs` with `recommendation`.
    public mutating func decide(_ recommendation: Recommendation, atPs timePs: Int64) -> TuningDecision {
        guard let best = recommendation.best else {
            return .keep(reason: "no operating point meets the fidelity target \(configuration.minFidelity); " + recommendation.message)
        }
        let rate = best.point.repetitionRateHz
        if let low = configuration.minRateHz, rate < low * (1 - 1e-9) {
            return .keep(reason: "the best rate \(Int(rate)) Hz is below min_rate_hz")
        }
        if let high = configuration.maxRateHz, rate > high * (1 + 1e-9) {
            return .keep(reason: "the best rate \(Int(rate)) Hz is above max_rate_hz")
        }
        let setting = String(format: "%.4g Hz", rate) + (best.point.knob.map { String(format: ", knob %.4g", $0) } ?? "")
        let why: String
        if !recommendation.currentMeetsTarget {
            if best.point == recommendation.current.point { return .keep(reason: "the point in force is already the best one") }
            why = String(format: ": the point in force gives fidelity %.4f, below the target %.4g", recommendation.current.fidelity,
                         configuration.minFidelity)
        } else if recommendation.improvement >= configuration.minImprovement {
            why = String(format: ": %.1f %% cheaper per pair", recommendation.improvement * 100)
        } else {
            return .keep(reason: String(format: "the best point is only %.1f %% cheaper per pair", recommendation.improvement * 100))
        }
        let summary = setting + why
        guard configuration.autoTune else { return .recommend(best.point, reason: "recommended " + summary) }
        if let last = lastChangePs, timePs - last < configuration.minDwellPs {
            return .keep(reason: "the last change was less than \(configuration.minDwellSeconds) s ago (recommended \(summary))")
        }
        lastChangePs = timePs
        return .change(best.point, reason: "changed to " + summary)
    }
}
