import Foundation

/// The grid of operating points a plan explores.
public struct SweepGrid: Sendable, Equatable {
    /// Repetition rates in Hz.
    public var ratesHz: [Double]
    /// Knob values (α or mean pairs); `[nil]` for double-click.
    public var knobs: [Double?]

    public init(ratesHz: [Double], knobs: [Double?]) {
        self.ratesHz = ratesHz
        self.knobs = knobs.isEmpty ? [nil] : knobs
    }

    /// `count` values from `low` to `high`, evenly spaced on a log scale (`logarithmic`) or linearly.
    public static func spaced(from low: Double, to high: Double, count: Int, logarithmic: Bool = true) -> [Double] {
        guard count > 1, high > low else { return [low] }
        return (0..<count).map { index in
            let fraction = Double(index) / Double(count - 1)
            return logarithmic ? exp(log(low) + fraction * (log(high) - log(low))) : low + fraction * (high - low)
        }
    }

    /// Every operating point of the grid, knob-major.
    public var points: [OperatingPoint] {
        knobs.flatMap { knob in ratesHz.map { OperatingPoint(repetitionRateHz: $0, knob: knob) } }
    }
}

extension LinkProfile {
    /// Evaluates every point of `grid`.
    public func sweep(_ grid: SweepGrid) -> [Performance] {
        grid.points.map(evaluate)
    }
}

/// The cost-per-pair against fidelity trade-off: points no other point beats on both.
public enum ParetoFront {
    /// The points of `performances` (within the rate limit, with a finite cost) for which no other point
    /// has both a lower-or-equal cost per pair and a higher-or-equal fidelity with one strictly better,
    /// sorted by increasing fidelity.
    public static func costAgainstFidelity(_ performances: [Performance]) -> [Performance] {
        front(performances.filter { $0.withinRateLimit && $0.costPerPair.isFinite && $0.pairRateHz > 0 },
              cost: \.costPerPair, fidelity: \.fidelity)
    }

    /// The non-dominated `candidates` by `cost` (lower is better) and `fidelity` (higher), by increasing fidelity.
    static func front(_ candidates: [Performance], cost: (Performance) -> Double, fidelity: (Performance) -> Double) -> [Performance] {
        let sorted = candidates.sorted { (fidelity($0), -cost($0)) > (fidelity($1), -cost($1)) }
        var front: [Performance] = []
        var cheapest = Double.infinity
        for candidate in sorted where cost(candidate) < cheapest {
            front.append(candidate)
            cheapest = cost(candidate)
        }
        return front.reversed()
    }
}
