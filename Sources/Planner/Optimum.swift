/// What a plan must achieve.
public struct PlanConstraints: Sendable, Equatable, Encodable {
    /// Lowest acceptable delivered fidelity.
    public var minFidelity: Double?
    /// Lowest acceptable pair rate in Hz.
    public var minPairRateHz: Double?
    /// Highest acceptable running cost per hour.
    public var maxCostPerHour: Double?

    public init(minFidelity: Double? = nil, minPairRateHz: Double? = nil, maxCostPerHour: Double? = nil) {
        self.minFidelity = minFidelity
        self.minPairRateHz = minPairRateHz
        self.maxCostPerHour = maxCostPerHour
    }

    /// One constraint.
    public enum Kind: String, Sendable, CaseIterable, Encodable {
        case fidelity, pairRate = "pair_rate", budget
    }

    /// The constraints that are set.
    public var active: [Kind] {
        Kind.allCases.filter { bound($0) != nil }
    }

    func bound(_ kind: Kind) -> Double? {
        switch kind {
        case .fidelity: minFidelity
        case .pairRate: minPairRateHz
        case .budget: maxCostPerHour
        }
    }

    /// True when `performance` meets constraint `kind` (an unset constraint is always met).
    public func meets(_ kind: Kind, _ performance: Performance) -> Bool {
        switch kind {
        case .fidelity: minFidelity.map { performance.deliveredFidelity >= $0 } ?? true
        case .pairRate: minPairRateHz.map { performance.deliveredPairRateHz >= $0 } ?? true
        case .budget: maxCostPerHour.map { performance.costPerHour <= $0 } ?? true
        }
    }

    /// True when `performance` meets every constraint except those in `ignoring`.
    public func meetsAll(_ performance: Performance, ignoring: Set<Kind> = []) -> Bool {
        Kind.allCases.allSatisfy { ignoring.contains($0) || meets($0, performance) }
    }
}

/// What "best" means among the points that meet the constraints.
public enum PlanObjective: String, Sendable, Equatable, Encodable, CaseIterable {
    /// Lowest cost per pair (ties broken by higher pair rate).
    case costPerPair = "cost_per_pair"
    /// Highest pair rate.
    case pairRate = "pair_rate"
    /// Highest fidelity (ties broken by higher pair rate).
    case fidelity

    /// True when `a` is better than `b`, judged on the pairs each delivers (distilled where the plan distils).
    public func prefers(_ a: Performance, over b: Performance) -> Bool {
        let (costA, costB) = (a.deliveredCostPerPair, b.deliveredCostPerPair)
        let (rateA, rateB) = (a.deliveredPairRateHz, b.deliveredPairRateHz)
        let (fidelityA, fidelityB) = (a.deliveredFidelity, b.deliveredFidelity)
        return switch self {
        case .costPerPair: costA != costB ? costA < costB : rateA > rateB
        case .pairRate: rateA != rateB ? rateA > rateB : fidelityA > fidelityB
        case .fidelity: fidelityA != fidelityB ? fidelityA > fidelityB : rateA > rateB
        }
    }
}

/// The result of a constrained search.
public struct PlanOptimum: Sendable, Equatable, Encodable {
    /// The best point, or nil when no point meets the constraints.
    public var best: Performance?
    /// Constraints that limit the choice: at the optimum, those within 2 % of their bound; without an
    /// optimum, those whose removal would let some point through.
    public var binding: [PlanConstraints.Kind]
    /// A sentence for the user.
    public var message: String
}

extension PlanOptimum {
    /// Finds the best point of `performances` under `constraints`, or explains which constraint binds.
    public static func search(_ performances: [Performance], constraints: PlanConstraints,
                              objective: PlanObjective, currency: String = "", knobName: String = "knob") -> PlanOptimum {
        let usable = performances.filter { $0.withinRateLimit && $0.pairRateHz > 0 }
        guard !usable.isEmpty else {
            return PlanOptimum(best: nil, binding: [], message:
                "no operating point of the sweep is usable: every rate exceeds the link's rate limit or no attempt ever succeeds; lower the sweep's rates or check the arm efficiencies")
        }
        let passing = usable.filter { constraints.meetsAll($0) }
        var chosen: Performance?
        for candidate in passing where chosen.map({ objective.prefers(candidate, over: $0) }) ?? true {
            chosen = candidate
        }
        if let best = chosen {
            let tight = constraints.active.filter { kind in
                switch kind {
                case .fidelity: best.deliveredFidelity <= (constraints.minFidelity ?? 0) * 1.02
                case .pairRate: best.deliveredPairRateHz <= (constraints.minPairRateHz ?? 0) * 1.02
                case .budget: best.costPerHour >= (constraints.maxCostPerHour ?? .infinity) * 0.98
                }
            }
            var message = "best operating point by \(objective.rawValue.replacingOccurrences(of: "_", with: " ")): "
                + Format.point(best.point, knobName: knobName) + ", " + Format.summary(best, currency: currency)
            if let useful = best.useful, useful.distils || useful.secretBitRateHz != nil {
                message += "; " + Format.useful(useful, currency: currency)
            }
            if !tight.isEmpty {
                message += "; limited by the \(tight.map(Format.name).joined(separator: " and ")) constraint"
            }
            return PlanOptimum(best: best, binding: tight, message: message)
        }
        // Nothing passes: find which constraints bind.
        var reasons: [String] = []
        var binding: [PlanConstraints.Kind] = []
        for kind in constraints.active {
            let others = usable.filter { constraints.meetsAll($0, ignoring: [kind]) }
            guard !others.isEmpty else { continue }
            binding.append(kind)
            reasons.append(Format.shortfall(kind, among: others, constraints: constraints, currency: currency, knobName: knobName))
        }
        if binding.isEmpty {
            // No single constraint is to blame: report each one's best alone.
            for kind in constraints.active {
                binding.append(kind)
                reasons.append(Format.shortfall(kind, among: usable, constraints: constraints, currency: currency, knobName: knobName))
            }
        }
        return PlanOptimum(best: nil, binding: binding, message:
            "no operating point meets the constraints; " + reasons.joined(separator: "; "))
    }
}
