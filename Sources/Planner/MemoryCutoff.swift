import Foundation
import LinkModel

/// How the coherence of a stored pair shrinks while the link keeps attempting: the product of both
/// memories' ``Memory/coherenceFactor(waitPs:attempts:)`` after k attempts of period 1/f.
public struct StorageDecay: Sendable, Equatable {
    /// The memories that hold the stored pair, one per lab.
    public var memories: [Memory]
    /// Attempt period in picoseconds (1/f).
    public var periodPs: Double

    public init(memories: [Memory], periodPs: Double) {
        self.memories = memories
        self.periodPs = periodPs
    }

    /// The coherence factor after `attempts` attempts (and as many periods) in storage.
    public func factor(attempts: Double) -> Double {
        memories.reduce(1) { $0 * $1.coherenceFactor(waitPs: attempts * periodPs, attempts: attempts) }
    }

    /// The coherence factor after `waitPs` without attempts (waiting for classical messages).
    public func factor(waitPs: Double) -> Double {
        memories.reduce(1) { $0 * $1.coherenceFactor(waitPs: waitPs, attempts: 0) }
    }

    /// ln of the factor per attempt when the decay is geometric in the number of attempts (exponential
    /// decay, phase flips per attempt, or none), nil for Gaussian decay.
    public var logFactorPerAttempt: Double? {
        var total = 0.0
        for memory in memories {
            if let time = memory.coherenceTimePs {
                guard memory.decay == .exponential else { return nil }
                total -= periodPs / Double(time)
            }
            if memory.dephasingPerAttempt > 0 { total += log1p(-2 * memory.dephasingPerAttempt) }
        }
        return total
    }
}

/// One pair held in memory while the link makes a second one, with a cut-off: when the second pair has
/// not come after n* attempts the stored pair is discarded (the cut-off policy of Rozpędek et al.,
/// Quantum Sci. Technol. 3, 034002 (2018); see `docs/planner.md`, "Memory cut-off").
///
/// Attempts are independent and succeed with probability p, so the wait K for the second pair is
/// geometric: P(K = k) = p(1−p)^(k−1).
public struct StorageWait: Sendable, Equatable {
    /// Probability per attempt that the second pair is heralded.
    public var successProbability: Double
    /// The cut-off in attempts, nil for none.
    public var cutoffAttempts: Int?
    /// Probability that the second pair comes before the cut-off, 1 − (1−p)^n*.
    public var arrivalProbability: Double
    /// Mean attempts spent per wait, E[min(K, n*)] = (1 − (1−p)^n*)/p.
    public var meanWaitAttempts: Double
    /// Mean coherence factor of the stored pair when the second pair arrives, E[c(K) | K ≤ n*].
    public var meanCoherenceFactor: Double

    /// The wait with success probability `p` per attempt, cut-off `cutoffAttempts` (nil: none) and decay `decay`.
    public init(successProbability p: Double, cutoffAttempts: Int?, decay: StorageDecay) {
        successProbability = p
        self.cutoffAttempts = cutoffAttempts
        guard p > 0, cutoffAttempts.map({ $0 > 0 }) ?? true else {
            arrivalProbability = 0
            meanWaitAttempts = Double(cutoffAttempts ?? 0)
            meanCoherenceFactor = 0
            return
        }
        let logMiss = log1p(-min(p, 1))   // ln(1−p), −∞ at p = 1
        let n = cutoffAttempts.map(Double.init)
        let arrival = n.map { -expm1($0 * logMiss) } ?? 1
        arrivalProbability = arrival
        meanWaitAttempts = arrival / p
        meanCoherenceFactor = Self.meanFactor(p: p, logMiss: logMiss, cutoff: n, arrival: arrival, decay: decay)
    }

    /// E[c(K) | K ≤ n*]: a geometric series in closed form when c(k) = λᵏ, else a sum.
    static func meanFactor(p: Double, logMiss: Double, cutoff n: Double?, arrival: Double, decay: StorageDecay) -> Double {
        if let logLambda = decay.logFactorPerAttempt {
            // Σ_{k=1}^{n} p(1−p)^{k−1} λ^k = pλ (1 − ((1−p)λ)^n) / (1 − (1−p)λ).
            guard logLambda < 0 else { return 1 }
            let logRatio = logMiss + logLambda
            let head = -expm1(logRatio)
            let tail = n.map { -expm1($0 * logRatio) } ?? 1
            return p * exp(logLambda) * tail / head / arrival
        }
        guard logMiss > -.infinity else { return decay.factor(attempts: 1) }
        // Gaussian decay: sum the series, exactly up to 4096 terms, else over 1024 blocks of equal length
        // with each block's exact geometric weight and the factor at its middle. Terms past e^(−40) of
        // the geometric weight are dropped.
        let horizon = (40 / -logMiss).rounded(.up)
        let last = min(n ?? horizon, horizon)
        var sum = 0.0
        if last <= 4096 {
            var weight = p
            for k in 1...Int(last) {
                sum += weight * decay.factor(attempts: Double(k))
                weight *= exp(logMiss)
            }
            return sum / arrival
        }
        let blocks = 1024.0
        let length = last / blocks
        for index in 0..<Int(blocks) {
            let start = Double(index) * length
            // P(start < K ≤ start + length) = (1−p)^start − (1−p)^(start+length).
            let weight = exp(start * logMiss) * -expm1(length * logMiss)
            sum += weight * decay.factor(attempts: start + length / 2 + 0.5)
        }
        return sum / arrival
    }

    /// Mean attempts until the second of two pairs is held, when the first pair succeeds with
    /// probability `first` per attempt and the second with `second` under cut-off `cutoffAttempts`
    /// (a discarded first pair is made again): ⟨N⟩ = (1/p₁ + (1 − (1−p₂)^n*)/p₂) / (1 − (1−p₂)^n*),
    /// the expected number of channel uses of the sequential scheme with cut-off (Rozpędek et al. 2018).
    public static func meanAttemptsForTwoPairs(first: Double, second: Double, cutoffAttempts: Int?) -> Double {
        guard first > 0, second > 0 else { return .infinity }
        let arrival = cutoffAttempts.map { -expm1(Double($0) * log1p(-min(second, 1))) } ?? 1
        guard arrival > 0 else { return .infinity }
        return (1 / first + arrival / second) / arrival
    }
}
