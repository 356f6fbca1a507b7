import Foundation
import LinkModel

/// Secret bits one delivered pair yields, from its Bell-diagonal state (QBERs
/// ``BellDiagonalState/bitErrorRate`` and ``BellDiagonalState/phaseErrorRate``); a value ≤ 0 means no key.
/// `Planner.run` uses BBM92 (``Planner/bbm92SecretBitsPerPair(_:)``) unless given another function.
public typealias SecretBitsPerPair = @Sendable (BellDiagonalState) -> Double

/// What a link delivers to an application at one operating point: pairs at or above the fidelity target
/// (after distillation where that gives more of them), secret bits, and what each costs in money and energy.
public struct UsefulOutput: Sendable, Equatable, Encodable {
    /// The fidelity a pair must reach to count, nil when every pair counts.
    public var targetFidelity: Double?
    /// Distillation at this point, when the plan configures it.
    public var distillation: DistillationOutcome?
    /// True when the planner distils at this point because it yields more pairs above the target.
    public var distils: Bool
    /// Pairs per second at or above the target (0 when none reaches it).
    public var pairRateHz: Double
    /// Fidelity of the pairs delivered (distilled or not).
    public var fidelity: Double
    /// Pairs at or above the target per hour.
    public var pairsPerHour: Double
    /// Cost per pair at or above the target (∞ when none reaches it).
    public var costPerPair: Double
    /// Mean electrical power of the link: continuous power plus energy per attempt × rate, in watts.
    public var powerW: Double
    /// Electrical energy per hour of running, in kWh.
    public var energyPerHourKwh: Double
    /// Energy per pair at or above the target, in joules.
    public var energyPerPairJ: Double
    /// Secret bits per second, nil without a key-rate function.
    public var secretBitRateHz: Double?
    /// Cost per secret bit, nil without a key-rate function (∞ when no key is made).
    public var costPerSecretBit: Double?
    /// Energy per secret bit in joules, nil without a key-rate function.
    public var energyPerSecretBitJ: Double?
}

/// Turns a link's performance into ``UsefulOutput``: the fidelity target, optional distillation and an
/// optional key-rate function.
public struct UsefulOutputModel: Sendable {
    /// The fidelity a pair must reach to count (the plan's `constraints.min_fidelity`).
    public var targetFidelity: Double?
    /// Distillation, when the plan configures it.
    public var distillation: DistillationModel?
    /// Secret bits per pair, when known.
    public var secretBitsPerPair: SecretBitsPerPair?

    public init(targetFidelity: Double?, distillation: DistillationModel? = nil, secretBitsPerPair: SecretBitsPerPair? = nil) {
        self.targetFidelity = targetFidelity
        self.distillation = distillation
        self.secretBitsPerPair = secretBitsPerPair
    }

    /// The model of a plan: its fidelity target and distillation section.
    public init(_ configuration: PlanConfiguration, secretBitsPerPair: SecretBitsPerPair? = nil) {
        let distillation = configuration.plan.distillation.flatMap {
            DistillationModel(settings: $0, description: configuration.model)
        }
        self.init(targetFidelity: configuration.plan.constraints.minFidelity, distillation: distillation,
                  secretBitsPerPair: secretBitsPerPair)
    }

    /// The useful output of `performance`, a point of `profile`.
    public func output(for performance: Performance, profile: LinkProfile) -> UsefulOutput {
        let f = performance.point.repetitionRateHz
        let direct = BellDiagonalState(performance.deliveredState)
        let distilled = distillation.map {
            $0.outcome(pair: direct, successProbability: performance.successProbability, rateHz: f)
        }
        func useful(_ rate: Double, _ fidelity: Double) -> Double {
            fidelity >= (targetFidelity ?? 0) ? rate : 0
        }
        let directRate = useful(performance.pairRateHz, direct.fidelity)
        let distilledRate = distilled.map { useful($0.pairRateHz, $0.fidelity) } ?? 0
        let distils = distilledRate > directRate
        let rate = distils ? distilledRate : directRate
        let state = distils ? distilled!.state : direct
        let spendPerSecond = profile.fixedCostPerSecond + profile.costPerAttempt * f
        let power = profile.powerW + profile.energyPerAttemptJ * f
        let secretRate = secretBitsPerPair.map { rate * max(0, $0(state)) }
        return UsefulOutput(
            targetFidelity: targetFidelity, distillation: distilled, distils: distils, pairRateHz: rate,
            fidelity: state.fidelity, pairsPerHour: rate * 3600, costPerPair: rate > 0 ? spendPerSecond / rate : .infinity,
            powerW: power, energyPerHourKwh: power / 1000, energyPerPairJ: rate > 0 ? power / rate : .infinity,
            secretBitRateHz: secretRate, costPerSecretBit: secretRate.map { $0 > 0 ? spendPerSecond / $0 : .infinity },
            energyPerSecretBitJ: secretRate.map { $0 > 0 ? power / $0 : .infinity })
    }

    /// `performances` of `profile` with their useful output attached.
    public func attach(_ performances: [Performance], profile: LinkProfile) -> [Performance] {
        performances.map { performance in
            var copy = performance
            copy.useful = output(for: performance, profile: profile)
            return copy
        }
    }
}

/// Whether distillation pays, over a whole sweep.
public struct DistillationVerdict: Sendable, Equatable, Encodable {
    /// Lowest cost per pair at or above the target without distillation (∞ when no point reaches it).
    public var bestDirectCostPerPair: Double
    /// Lowest cost per pair at or above the target with distillation (∞ when no point reaches it).
    public var bestDistilledCostPerPair: Double
    /// True when distilling gives a lower cost per pair above the target.
    public var distillationPays: Bool
    /// A sentence for the user.
    public var message: String

    /// Compares the cheapest pair above the target with and without distillation among usable `performances`.
    public static func judge(_ performances: [Performance], currency: String) -> DistillationVerdict? {
        let usable = performances.filter(\.withinRateLimit)
        guard let first = usable.first?.useful, first.distillation != nil else { return nil }
        var direct = Double.infinity, distilled = Double.infinity
        let target = first.targetFidelity ?? 0
        for p in usable {
            guard let useful = p.useful, let outcome = useful.distillation else { continue }
            let spend = p.costPerHour / 3600
            if p.fidelity >= target, p.pairRateHz > 0 { direct = min(direct, spend / p.pairRateHz) }
            if outcome.fidelity >= target, outcome.pairRateHz > 0 { distilled = min(distilled, spend / outcome.pairRateHz) }
        }
        let pays = distilled < direct
        let unit = currency.isEmpty ? "" : " \(currency)"
        let goal = first.targetFidelity.map { " at fidelity ≥ \(Format.number($0, digits: 4))" } ?? ""
        let message: String
        switch (direct.isFinite, distilled.isFinite) {
        case (false, false):
            message = "neither direct nor distilled pairs reach the target\(goal)"
        case (false, true):
            message = "distillation pays: only distilled pairs reach the target\(goal), from " + Format.number(distilled) + unit + " per pair"
        case (true, false):
            message = "distillation does not pay: distilled pairs never reach the target\(goal); direct pairs cost from " + Format.number(direct) + unit
        case (true, true):
            message = (pays ? "distillation pays: " : "distillation does not pay: ") + "cheapest pair\(goal) "
                + Format.number(distilled) + unit + " distilled against " + Format.number(direct) + unit + " direct"
        }
        return DistillationVerdict(bestDirectCostPerPair: direct, bestDistilledCostPerPair: distilled,
                                   distillationPays: pays, message: message)
    }
}

extension Performance {
    /// The distilled output when the plan distils at this point, else nil.
    var distilled: UsefulOutput? { useful?.distils == true ? useful : nil }
    /// Pairs per second the link delivers: distilled where the plan distils, else heralded.
    public var deliveredPairRateHz: Double { distilled?.pairRateHz ?? pairRateHz }
    /// Fidelity of the pairs the link delivers.
    public var deliveredFidelity: Double { distilled?.fidelity ?? fidelity }
    /// Cost per pair the link delivers.
    public var deliveredCostPerPair: Double { distilled?.costPerPair ?? costPerPair }
}

extension Format {
    /// The useful output in a phrase: rate and fidelity of pairs above the target, their cost and energy.
    public static func useful(_ useful: UsefulOutput, currency: String) -> String {
        let unit = currency.isEmpty ? "" : " \(currency)"
        var text = (useful.distils ? "distilled " : "") + "pairs above target " + hertz(useful.pairRateHz)
            + " at fidelity " + number(useful.fidelity, digits: 4) + ", " + number(useful.costPerPair) + unit
            + " and " + number(useful.energyPerPairJ) + " J per pair"
        if let bits = useful.secretBitRateHz, let cost = useful.costPerSecretBit {
            text += ", " + number(bits) + " secret bits/s at " + number(cost) + unit + " per bit"
        }
        return text
    }
}

extension ParetoFront {
    /// The points of `performances` (within the rate limit, with pairs above the target) for which no other
    /// point has both a lower-or-equal cost per useful pair and a higher-or-equal delivered fidelity, one
    /// strictly, sorted by increasing fidelity.
    public static func usefulCostAgainstFidelity(_ performances: [Performance]) -> [Performance] {
        front(performances.filter { $0.withinRateLimit && ($0.useful?.pairRateHz ?? 0) > 0 },
              cost: { $0.useful?.costPerPair ?? .infinity }, fidelity: { $0.useful?.fidelity ?? 0 })
    }
}
