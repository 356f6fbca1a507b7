import LinkModel

/// Count, sum and sum of squares of a sample: its mean and the standard error of the mean.
public struct SampleMoments: Sendable, Equatable, Codable {
    /// Number of values.
    public var count: Int = 0
    /// Σx.
    public var sum: Double = 0
    /// Σx².
    public var sumOfSquares: Double = 0

    public init() {}

    /// Adds `value`.
    public mutating func add(_ value: Double) {
        count += 1
        sum += value
        sumOfSquares += value * value
    }

    /// The sample mean (0 without values).
    public var mean: Double { count > 0 ? sum / Double(count) : 0 }
    /// The standard error of the mean, √(s²/n) with the unbiased sample variance s² (infinite below two values).
    public var standardError: Double {
        guard count > 1 else { return .infinity }
        let n = Double(count)
        let variance = max(0, (sumOfSquares - sum * sum / n) / (n - 1))
        return (variance / n).squareRoot()
    }
}

/// What the distillation stage of a heralded link did over a run (`GroundTruth.distillation`): every stored
/// pair, wait, cut-off, round and delivered pair, counted on the true time axis.
///
/// A *try* starts when a heralded pair is stored and ends when it is discarded at the cut-off, a round fails,
/// or the last round succeeds (a delivered pair). A *wait* runs from the moment the kept pair is ready (its
/// herald, or the end of the previous round's messages) to the next herald (an *arrival*, when it comes within
/// the cut-off) or to the cut-off.
public struct DistillationTruth: Sendable, Equatable, Codable {
    /// The distillation simulated (scheme, rounds, cut-off, memories, classical message time).
    public var distillation: ResolvedDistillation
    /// Heralds that reached the stage while the memories could take a pair.
    public var heralds = 0
    /// Heralds while the labs were still exchanging a round's outcomes (not used).
    public var heraldsWhileBusy = 0
    /// Tries: pairs stored as the first of a try.
    public var tries = 0
    /// Waits ended by the cut-off (the stored pair discarded).
    public var cutoffDiscards = 0
    /// Waits ended by a fresh pair within the cut-off (a round was run).
    public var arrivals = 0
    /// Rounds whose two measurement outcomes agreed / disagreed.
    public var successfulRounds = 0
    public var failedRounds = 0
    /// Distilled pairs delivered (tries that passed every round).
    public var delivered = 0
    /// Attempts per finished wait: K for an arrival at attempt K, the attempts within the cut-off for a discard.
    public var waitAttempts = SampleMoments()
    /// Attempts from the moment the memories were free (the run's start, or the end of the messages of a round
    /// that left them free) to each fresh pair of a first round: the attempts until two pairs are held at once,
    /// counting the tries cut off on the way (the sequential scheme's ⟨N⟩ of Rozpędek et al. 2018 with p₁ = p₂).
    public var attemptsToArrival = SampleMoments()
    /// Product of both memories' coherence factors over each wait that ended in an arrival.
    public var storedCoherence = SampleMoments()
    /// Fidelity to Φ⁺ of the stored first pair when the fresh pair of the first round arrives.
    public var storedFidelity = SampleMoments()
    /// Fidelity to Φ⁺ of each delivered pair (exact, from its density matrix).
    public var deliveredFidelity = SampleMoments()
    /// Time between consecutive deliveries, the first counted from 0, in seconds.
    public var deliveryIntervalsS = SampleMoments()
    /// Time of the last delivery (its last round's outcomes known in both labs), in ps.
    public var lastDeliveryPs: Int64?
    /// Bit-error and phase-error indicators of the delivered pairs' Bell weights: P(Z outcomes differ) =
    /// w(Ψ⁻) + w(Ψ⁺), P(X outcomes differ) = w(Ψ⁻) + w(Φ⁻), per delivered pair.
    public var deliveredBitError = SampleMoments()
    public var deliveredPhaseError = SampleMoments()

    public init(distillation: ResolvedDistillation) {
        self.distillation = distillation
    }

    /// Fraction of tries that deliver a pair, with its binomial standard error.
    public var successFraction: (value: Double, standardError: Double) {
        guard tries > 0 else { return (0, .infinity) }
        let p = Double(delivered) / Double(tries)
        return (p, (max(p * (1 - p), 1 / Double(tries)) / Double(tries)).squareRoot())
    }

    /// Fraction of waits ended by an arrival, with its binomial standard error.
    public var arrivalFraction: (value: Double, standardError: Double) {
        let n = arrivals + cutoffDiscards
        guard n > 0 else { return (0, .infinity) }
        let p = Double(arrivals) / Double(n)
        return (p, (max(p * (1 - p), 1 / Double(n)) / Double(n)).squareRoot())
    }
}
