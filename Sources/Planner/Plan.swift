import LinkModel

/// Everything `qlink plan` reports for one link.
public struct PlanReport: Sendable, Encodable {
    /// The plan's name.
    public var name: String
    /// The protocol (`single_click`, `double_click`, `pair_source`).
    public var `protocol`: String
    /// What the knob is called (`alpha`, `mean_pairs_per_attempt`), nil for double-click.
    public var knobName: String?
    /// The currency of the costs.
    public var currency: String
    /// Highest attempt rate the link allows, in Hz.
    public var maxRepetitionRateHz: Double
    /// Arm transmissions (emitter to station, or source to memory).
    public var armTransmissions: [Double]
    /// Herald waiting time of each arm's qubit in picoseconds.
    public var heraldWaitPs: [Int64]
    /// Every evaluated point.
    public var points: [Performance]
    /// What the plan must achieve (min fidelity, min pair rate, budget).
    public var constraints: PlanConstraints
    /// The constrained optimum, or the reason there is none.
    public var optimum: PlanOptimum
    /// The Pareto front of cost per pair against fidelity.
    public var paretoFront: [Performance]
    /// Where the sensitivities were taken: the optimum, or the highest-rate usable point.
    public var sensitivityPoint: OperatingPoint?
    /// The "improve this first" table.
    public var sensitivities: [Sensitivity]
    /// How the key figures of ``points`` were computed.
    public var key: KeySettings
    /// The Pareto front of cost per pair at or above the fidelity target against the delivered fidelity
    /// (distilled where that pays).
    public var usefulParetoFront: [Performance] = []
    /// Whether distillation lowers the cost per pair above the target, when the plan configures it.
    public var distillation: DistillationVerdict? = nil
    /// Distilled rate against fidelity as the memory cut-off varies, at the sensitivity point, when the
    /// plan configures distillation.
    public var cutoffTradeoff: CutoffTradeoff? = nil
    /// The link as each segment of a single sequential repeater at the sensitivity point, when the plan has a
    /// `sequential_repeater` section.
    public var sequentialRepeater: SequentialRepeaterStudy? = nil
}

/// Runs a plan: sweep, optimum, Pareto front and sensitivities.
public enum Planner {
    /// BBM92 asymptotic secret bits per delivered pair (``KeyRate/asymptoticBitsPerPair(qberZ:qberX:settings:)``)
    /// from a Bell-diagonal state's QBERs, e_Z = b + c and e_X = b + d.
    public static func bbm92SecretBitsPerPair(_ settings: KeySettings) -> SecretBitsPerPair {
        { KeyRate.asymptoticBitsPerPair(qberZ: $0.bitErrorRate, qberX: $0.phaseErrorRate, settings: settings) }
    }

    /// The default α sweep for single-click.
    public static let defaultAlpha = SweepRange(min: 0.02, max: 0.5, points: 25, logarithmic: false)
    /// The default mean-pairs sweep for a pair source.
    public static let defaultMeanPairs = SweepRange(min: 1e-4, max: 0.5, points: 25, logarithmic: true)

    /// The grid a plan sweeps: the configured ranges or the defaults.
    public static func grid(for configuration: PlanConfiguration) -> SweepGrid {
        let model = configuration.model
        let rates: [Double]
        if let range = configuration.plan.repetitionRateHz {
            rates = range.values
        } else {
            let top = model.maxRepetitionRateHz.isFinite ? model.maxRepetitionRateHz : (model.clock.repetitionRateHz ?? 1e6) * 10
            rates = SweepGrid.spaced(from: top / 1000, to: top, count: 60)
        }
        let knobs: [Double?]
        switch model.protocol {
        case .singleClick: knobs = (configuration.plan.alpha ?? defaultAlpha).values
        case .doubleClick: knobs = [nil]
        case .pairSource: knobs = (configuration.plan.meanPairsPerAttempt ?? defaultMeanPairs).values
        }
        return SweepGrid(ratesHz: rates, knobs: knobs)
    }

    /// The knob's YAML name for `protocol`.
    public static func knobName(_ protocol: EntanglementProtocol) -> String? {
        switch `protocol` {
        case .singleClick: "alpha"
        case .doubleClick: nil
        case .pairSource: "mean_pairs_per_attempt"
        }
    }

    /// The knob's symbol in messages: α, μ, or "knob".
    public static func symbol(_ protocol: EntanglementProtocol) -> String {
        switch `protocol` {
        case .singleClick: "α"
        case .doubleClick: "knob"
        case .pairSource: "μ"
        }
    }

    /// Runs the whole plan. Every point gets secret bits and their cost and energy from `secretBitsPerPair`;
    /// by default the BBM92 asymptotic key of the plan's `key:` settings (``bbm92SecretBitsPerPair(_:)``).
    public static func run(_ configuration: PlanConfiguration, secretBitsPerPair: SecretBitsPerPair? = nil) -> PlanReport {
        let model = configuration.model
        var profile = LinkProfile(model)
        profile.keySettings = configuration.plan.key
        let useful = UsefulOutputModel(configuration,
                                       secretBitsPerPair: secretBitsPerPair ?? bbm92SecretBitsPerPair(configuration.plan.key))
        let points = useful.attach(profile.sweep(grid(for: configuration)), profile: profile)
        let optimum = PlanOptimum.search(points, constraints: configuration.plan.constraints,
                                         objective: configuration.plan.objective, currency: model.costs.currency,
                                         knobName: symbol(model.protocol))
        let fallback = points.filter { $0.withinRateLimit }.max { $0.pairRateHz < $1.pairRateHz }
        let at = optimum.best?.point ?? fallback?.point
        let sensitivities = at.map { SensitivityAnalysis(model, useful: useful).table(at: $0) } ?? []
        var tradeoff: CutoffTradeoff?
        if let distillation = useful.distillation, let at, let reference = points.first(where: { $0.point == at }) {
            tradeoff = CutoffTradeoff.study(distillation, pair: BellDiagonalState(reference.deliveredState),
                                            successProbability: reference.successProbability, point: at,
                                            targetFidelity: useful.targetFidelity, secretBitsPerPair: secretBitsPerPair)
        }
        var repeater: SequentialRepeaterStudy?
        if let settings = configuration.plan.sequentialRepeater, let at, let reference = points.first(where: { $0.point == at }),
           let resolved = ResolvedSequentialRepeater(settings: settings, description: model) {
            repeater = SequentialRepeaterStudy.study(memory: resolved.memory, pair: BellDiagonalState(reference.deliveredState),
                                                     successProbability: reference.successProbability, point: at,
                                                     segmentTransmissivity: reference.key.transmissivity,
                                                     errorCorrectionEfficiency: configuration.plan.key.errorCorrectionEfficiency)
        }
        return PlanReport(
            name: configuration.name, protocol: model.protocol.kindName, knobName: knobName(model.protocol),
            currency: model.costs.currency, maxRepetitionRateHz: model.maxRepetitionRateHz,
            armTransmissions: [profile.armA.transmission, profile.armB.transmission],
            heraldWaitPs: [model.heraldWaitPs(arm: 0), model.heraldWaitPs(arm: 1)],
            points: points, constraints: configuration.plan.constraints, optimum: optimum, paretoFront: ParetoFront.costAgainstFidelity(points),
            sensitivityPoint: at, sensitivities: sensitivities, key: configuration.plan.key,
            usefulParetoFront: ParetoFront.usefulCostAgainstFidelity(points),
            distillation: DistillationVerdict.judge(points, currency: model.costs.currency), cutoffTradeoff: tradeoff,
            sequentialRepeater: repeater)
    }
}
