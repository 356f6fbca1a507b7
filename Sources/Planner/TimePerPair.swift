import Foundation

/// The time between delivered pairs: attempts until success are geometric with the success
/// probability p, each attempt lasting 1/f.
public struct TimePerPair: Sendable, Equatable, Encodable {
    /// Mean time per pair in seconds, 1/(p f).
    public var meanS: Double
    /// Median time per pair in seconds.
    public var medianS: Double
    /// 95th percentile of the time per pair in seconds.
    public var percentile95S: Double

    public init(meanS: Double, medianS: Double, percentile95S: Double) {
        self.meanS = meanS
        self.medianS = medianS
        self.percentile95S = percentile95S
    }

    /// The distribution for success probability `probability` per attempt at `rateHz` attempts per second.
    public init(successProbability probability: Double, rateHz: Double) {
        guard probability > 0, rateHz > 0 else {
            self.init(meanS: .infinity, medianS: .infinity, percentile95S: .infinity)
            return
        }
        self.init(meanS: 1 / (probability * rateHz),
                  medianS: Self.attempts(quantile: 0.5, probability: probability) / rateHz,
                  percentile95S: Self.attempts(quantile: 0.95, probability: probability) / rateHz)
    }

    /// The smallest number of attempts n with P(N ≤ n) = 1 − (1−p)ⁿ ≥ q.
    public static func attempts(quantile q: Double, probability p: Double) -> Double {
        guard p < 1 else { return 1 }
        let n = log1p(-q) / log1p(-p)
        // Guard against n landing a hair above an integer through rounding.
        let nearest = n.rounded()
        if abs(n - nearest) < 1e-9 * max(1, n) { return max(1, nearest) }
        return max(1, n.rounded(.up))
    }
}
