import Foundation
import LinkModel

/// A range of values to sweep.
public struct SweepRange: Decodable, Sendable, Equatable {
    public var min: Double
    public var max: Double
    public var points: Int
    /// Logarithmic (default for rates) or linear spacing.
    public var logarithmic: Bool

    public init(min: Double, max: Double, points: Int, logarithmic: Bool) {
        self.min = min
        self.max = max
        self.points = points
        self.logarithmic = logarithmic
    }

    enum CodingKeys: String, CodingKey {
        case min, max, points, scale
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        min = try container.decode(Double.self, forKey: .min, in: 1e-12...1e12, what: "a lower end")
        max = try container.decode(Double.self, forKey: .max, in: 1e-12...1e12, what: "an upper end")
        guard max >= min else { throw container.invalid(.max, "\(max) is below min (\(min)); expected max ≥ min") }
        points = try container.decode(Int.self, forKey: .points, in: 1...100_000, default: 40, what: "a number of points")
        let scale = try container.decodeIfPresent(String.self, forKey: .scale) ?? "log"
        switch scale {
        case "log": logarithmic = true
        case "linear": logarithmic = false
        default: throw container.invalid(.scale, "'\(scale)' is not a scale; expected log or linear")
        }
    }

    /// The values of the range.
    public var values: [Double] { SweepGrid.spaced(from: min, to: max, count: points, logarithmic: logarithmic) }
}

/// The `plan:` section of a plan file: what to sweep, what must hold and what to optimise.
public struct PlanSettings: Decodable, Sendable, Equatable {
    /// Repetition rates to sweep; by default 60 log-spaced rates up to the link's limit, over three decades.
    public var repetitionRateHz: SweepRange?
    /// α values to sweep (single-click only); default 0.02…0.5 in 25 linear steps.
    public var alpha: SweepRange?
    /// Mean pairs per attempt to sweep (pair source only); default 10⁻⁴…0.5 in 25 log steps.
    public var meanPairsPerAttempt: SweepRange?
    /// Constraints on the chosen point.
    public var constraints: PlanConstraints
    /// What the chosen point optimises.
    public var objective: PlanObjective
    /// Distillation of the delivered pairs (`docs/planner.md`, "Distillation"), nil for none.
    public var distillation: DistillationSettings?
    /// How secret key is made (basis choice, error correction, finite-key block); defaults when absent.
    public var key: KeySettings
    /// The link as each segment of a single sequential repeater (`docs/planner.md`, "The single sequential
    /// repeater"), nil for none.
    public var sequentialRepeater: SequentialRepeaterSettings?

    public init(repetitionRateHz: SweepRange? = nil, alpha: SweepRange? = nil, meanPairsPerAttempt: SweepRange? = nil,
                constraints: PlanConstraints = PlanConstraints(), objective: PlanObjective = .costPerPair,
                distillation: DistillationSettings? = nil, key: KeySettings = KeySettings(),
                sequentialRepeater: SequentialRepeaterSettings? = nil) {
        self.repetitionRateHz = repetitionRateHz
        self.alpha = alpha
        self.meanPairsPerAttempt = meanPairsPerAttempt
        self.constraints = constraints
        self.objective = objective
        self.distillation = distillation
        self.key = key
        self.sequentialRepeater = sequentialRepeater
    }

    enum CodingKeys: String, CodingKey {
        case repetitionRateHz, alpha, meanPairsPerAttempt, constraints, objective, distillation, key, sequentialRepeater
    }

    enum ConstraintKeys: String, CodingKey {
        case minFidelity, minPairRateHz, maxCostPerHour
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        repetitionRateHz = try container.decodeIfPresent(SweepRange.self, forKey: .repetitionRateHz)
        alpha = try container.decodeIfPresent(SweepRange.self, forKey: .alpha)
        if let alpha, alpha.max > 0.5 {
            throw container.invalid(.alpha, "α up to \(alpha.max) is out of range; expected α between 0 and 0.5")
        }
        meanPairsPerAttempt = try container.decodeIfPresent(SweepRange.self, forKey: .meanPairsPerAttempt)
        constraints = PlanConstraints()
        if container.contains(.constraints) {
            let nested = try container.nestedContainer(keyedBy: ConstraintKeys.self, forKey: .constraints)
            if nested.contains(.minFidelity) {
                constraints.minFidelity = try nested.decode(Double.self, forKey: .minFidelity, in: 0...1, what: "a fidelity")
            }
            if nested.contains(.minPairRateHz) {
                constraints.minPairRateHz = try nested.decode(Double.self, forKey: .minPairRateHz, in: 0...1e12, what: "a pair rate in Hz")
            }
            if nested.contains(.maxCostPerHour) {
                constraints.maxCostPerHour = try nested.decode(Double.self, forKey: .maxCostPerHour, in: 0...1e12,
                                                               what: "a budget per hour")
            }
        }
        let objectiveName = try container.decodeIfPresent(String.self, forKey: .objective) ?? PlanObjective.costPerPair.rawValue
        guard let objective = PlanObjective(rawValue: objectiveName) else {
            throw container.invalid(.objective, "'\(objectiveName)' is not an objective; expected one of "
                + PlanObjective.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self.objective = objective
        distillation = try container.decodeIfPresent(DistillationSettings.self, forKey: .distillation)
        key = try container.decodeIfPresent(KeySettings.self, forKey: .key) ?? KeySettings()
        sequentialRepeater = try container.decodeIfPresent(SequentialRepeaterSettings.self, forKey: .sequentialRepeater)
    }
}

/// A plan file: a link description and what to plan for it.
///
/// ```yaml
/// name: nv-637nm
/// model: { arms: …, midpoint: …, protocol: …, clock: …, costs: … }
/// plan: { repetition_rate_hz: {min, max, points}, alpha: {…}, constraints: {…}, objective: cost_per_pair }
/// ```
public struct PlanConfiguration: Decodable, Sendable, Equatable {
    /// A short name used in reports and file names.
    public var name: String
    /// The link.
    public var model: LinkDescription
    /// The sweep, constraints and objective.
    public var plan: PlanSettings

    public init(name: String, model: LinkDescription, plan: PlanSettings = PlanSettings()) {
        self.name = name
        self.model = model
        self.plan = plan
    }

    enum CodingKeys: String, CodingKey {
        case name, model, plan
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw container.invalid(.name, "'\(name)' is not a valid plan name; use letters, digits, '-' and '_'")
        }
        model = try container.decode(LinkDescription.self, forKey: .model)
        plan = try container.decodeIfPresent(PlanSettings.self, forKey: .plan) ?? PlanSettings()
        let knobPoints = (plan.alpha?.points ?? 1) * (plan.meanPairsPerAttempt?.points ?? 1)
        let total = (plan.repetitionRateHz?.points ?? 60) * knobPoints
        guard total <= 1_000_000 else {
            throw container.invalid(.plan, "the sweep has \(total) operating points; keep rates × knob values at or below 1 000 000")
        }
        if plan.distillation != nil, plan.distillation?.storage == nil,
           let arm = model.arms.first(where: { $0.memory == nil }) {
            throw container.invalid(.plan, "plan.distillation stores a pair in each lab, but arm '\(arm.name)' has no memory stage; add one or give plan.distillation.storage")
        }
        if let repeater = plan.sequentialRepeater, ResolvedSequentialRepeater(settings: repeater, description: model) == nil {
            throw container.invalid(.plan, "plan.sequential_repeater keeps the node's qubit in lab A, but arm '\(model.arms[0].name)' has no memory stage; add one or give plan.sequential_repeater.storage")
        }
        switch model.protocol {
        case .singleClick:
            if plan.meanPairsPerAttempt != nil {
                throw container.invalid(.plan, "plan.mean_pairs_per_attempt applies to the pair_source protocol; this link is single_click (sweep plan.alpha instead)")
            }
        case .doubleClick:
            if plan.alpha != nil || plan.meanPairsPerAttempt != nil {
                throw container.invalid(.plan, "the double_click protocol has no brightness knob; remove plan.alpha and plan.mean_pairs_per_attempt")
            }
        case .pairSource:
            if plan.alpha != nil {
                throw container.invalid(.plan, "plan.alpha applies to the single_click protocol; this link uses a pair source (sweep plan.mean_pairs_per_attempt instead)")
            }
        }
    }

    /// Loads a plan file.
    ///
    /// A link configuration with a `model:` section is accepted too; it is then planned with the
    /// default sweep and no constraints.
    /// - Throws: ``ConfigurationError`` naming the file, key path and problem.
    public static func load(from path: String) throws(ConfigurationError) -> PlanConfiguration {
        let text = try ConfigurationError.readFile(path)
        return try parse(text, file: path)
    }

    /// Parses plan text (or link-configuration text with a `model:` section, resolved by ``ResolvedLink``: its
    /// clock runs at the link's attempt rate).
    public static func parse(_ yaml: String, file: String = "<string>") throws(ConfigurationError) -> PlanConfiguration {
        do {
            return try StrictYAMLDecoder().decode(PlanConfiguration.self, from: yaml, file: file)
        } catch let planError {
            // A link configuration has `labs:`; fall back to it when that is what the file is.
            let looksLikeLink = yaml.hasPrefix("labs:") || yaml.contains("\nlabs:")
            let linkKeys = ["labs", "security", "coordinator", "model", "simulation"]
            guard looksLikeLink, planError.kind == .unknownKey || planError.kind == .missingKey,
                  linkKeys.contains(planError.keyPath) else { throw planError }
            let link = try LinkConfiguration.parse(yaml, file: file)
            // The resolved model runs at the link's attempt rate (simulation.repetition_rate_hz first).
            guard let model = try ResolvedLink(link).model else {
                throw ConfigurationError(kind: .missingKey, file: file, keyPath: "model",
                                         message: "the link configuration has no 'model:' section; add one (see docs/configuration.md) to plan it")
            }
            return PlanConfiguration(name: link.name, model: model)
        }
    }
}
