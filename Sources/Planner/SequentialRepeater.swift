import Foundation
import LinkModel

/// The single sequential quantum repeater of Rozpędek et al., "Parameter regimes for a single sequential quantum
/// repeater", Quantum Sci. Technol. 3, 034002 (2018), for quantum key distribution, with their memory cut-off and
/// figure of merit (`docs/planner.md`, "Memory cut-off").
///
/// A node between Alice and Bob first makes a pair with Alice (success probability p₁ per channel use, one
/// attempt), keeps its half in memory, then attempts a pair with Bob (p₂ per channel use) while the stored qubit
/// decays. When Bob's link has not come within the cut-off n* attempts, the stored pair is discarded and Alice's
/// link is made again. Once both links exist the node swaps them (a Bell measurement; Pauli errors of the two links
/// compose) and Alice and Bob measure for the key. Alice's and Bob's qubits are measured at once, so only the
/// node's qubit of the first link waits: ``storage`` holds that one memory.
///
/// The figure of merit is the secret-key rate per channel use R = Y·r: the yield Y = 1/⟨N⟩, ⟨N⟩ the mean channel
/// uses per delivered pair (``StorageWait/meanAttemptsForTwoPairs(first:second:cutoffAttempts:)``), and the
/// secret-key fraction r = max(0, 1 − f·h(e_Z) − h(e_X)) of the delivered pair averaged over its storage time
/// (asymptotic BB84 with the key basis chosen almost always, Lo, Chau & Ardehali 2005; f = 1 for error correction
/// at the Shannon limit).
public struct SequentialRepeater: Sendable, Equatable {
    /// Alice's link when it is made, in the frame where the target is |Φ⁺⟩.
    public var firstLink: BellDiagonalState
    /// Probability per channel use that Alice's link is made.
    public var firstSuccessProbability: Double
    /// Bob's link when it is made.
    public var secondLink: BellDiagonalState
    /// Probability per channel use that Bob's link is made.
    public var secondSuccessProbability: Double
    /// How the stored qubit's coherence shrinks per channel use of Bob's link.
    public var storage: StorageDecay
    /// Error-correction inefficiency f (1: the Shannon limit).
    public var errorCorrectionEfficiency: Double

    public init(firstLink: BellDiagonalState, firstSuccessProbability: Double, secondLink: BellDiagonalState,
                secondSuccessProbability: Double, storage: StorageDecay, errorCorrectionEfficiency: Double = 1) {
        self.firstLink = firstLink
        self.firstSuccessProbability = firstSuccessProbability
        self.secondLink = secondLink
        self.secondSuccessProbability = secondSuccessProbability
        self.storage = storage
        self.errorCorrectionEfficiency = errorCorrectionEfficiency
    }

    /// The repeater with cut-off n*.
    public struct Outcome: Sendable, Equatable, Encodable {
        /// The cut-off n* in channel uses of Bob's link, nil for none.
        public var cutoffAttempts: Int?
        /// Mean channel uses per delivered pair ⟨N⟩ (1/Y).
        public var meanChannelUses: Double
        /// Probability that Bob's link comes before the cut-off, 1 − (1 − p₂)^n*.
        public var arrivalProbability: Double
        /// The delivered pair after the swap, averaged over the storage time.
        public var state: BellDiagonalState
        /// Its QBER in Z and X.
        public var qberZ: Double
        public var qberX: Double
        /// The secret-key fraction r.
        public var secretFraction: Double
        /// The secret-key rate per channel use R = r/⟨N⟩.
        public var keyPerChannelUse: Double
    }

    /// The repeater with cut-off `cutoffAttempts` (nil: none).
    public func outcome(cutoffAttempts: Int?) -> Outcome {
        let wait = StorageWait(successProbability: secondSuccessProbability, cutoffAttempts: cutoffAttempts, decay: storage)
        let uses = StorageWait.meanAttemptsForTwoPairs(first: firstSuccessProbability, second: secondSuccessProbability,
                                                       cutoffAttempts: cutoffAttempts)
        // The swapped state is linear in the stored pair, so averaging the stored pair over the wait is exact.
        let state = firstLink.dephased(by: wait.meanCoherenceFactor).swapped(with: secondLink)
        let fraction = max(0, KeyRate.secretFraction(bitError: state.bitErrorRate, phaseError: state.phaseErrorRate,
                                                     errorCorrectionEfficiency: errorCorrectionEfficiency))
        return Outcome(cutoffAttempts: cutoffAttempts, meanChannelUses: uses, arrivalProbability: wait.arrivalProbability,
                       state: state, qberZ: state.bitErrorRate, qberX: state.phaseErrorRate, secretFraction: fraction,
                       keyPerChannelUse: uses.isFinite && uses > 0 ? fraction / uses : 0)
    }

    /// ⌈40/p₂⌉ channel uses, capped at 10⁶ (1 without a chance of success): beyond it the second segment's arrival
    /// probability differs from 1 by less than e⁻⁴⁰, so a longer cut-off changes nothing.
    public var longestUsefulCutoff: Int {
        let p = secondSuccessProbability
        return p > 0 ? Int(min((40 / p).rounded(.up), 1e6)) : 1
    }

    /// The cut-off with the highest secret-key rate per channel use, every n* from 1 to `largestCutoff` tried
    /// (default ⌈40/p₂⌉, beyond which the arrival probability differs from 1 by less than e⁻⁴⁰, capped at 10⁶), and
    /// the repeater without a cut-off; the smallest n* wins ties. The scan is one pass: the stored qubit's mean
    /// coherence factor on arrival for cut-off n is the running sum Σ_{k≤n} p₂(1−p₂)^(k−1) c(k) over the arrival
    /// probability, so every decay, Gaussian included, costs O(1) per n*; the returned outcome is then evaluated by
    /// ``outcome(cutoffAttempts:)``.
    public func optimalCutoff(largestCutoff: Int? = nil) -> (best: Outcome, withoutCutoff: Outcome) {
        let p = secondSuccessProbability
        let horizon = largestCutoff ?? longestUsefulCutoff
        let none = outcome(cutoffAttempts: nil)
        guard p > 0, firstSuccessProbability > 0, horizon >= 2 else { return (outcome(cutoffAttempts: 1), none) }
        let miss = 1 - min(p, 1)
        var weight = p, arrival = 0.0, coherence = 0.0
        var bestCutoff = 1, bestKey = -Double.infinity
        for n in 1...horizon {
            arrival += weight
            coherence += weight * storage.factor(attempts: Double(n))
            weight *= miss
            let uses = (1 / firstSuccessProbability + arrival / p) / arrival
            let state = firstLink.dephased(by: coherence / arrival).swapped(with: secondLink)
            let key = max(0, KeyRate.secretFraction(bitError: state.bitErrorRate, phaseError: state.phaseErrorRate,
                                                    errorCorrectionEfficiency: errorCorrectionEfficiency)) / uses
            if key > bestKey { bestKey = key; bestCutoff = n }
        }
        return (outcome(cutoffAttempts: bestCutoff), none)
    }
}

extension BellDiagonalState {
    /// The pair left after entanglement swapping of this pair with `other` by a perfect Bell measurement and
    /// Pauli-frame correction: each link's Bell-state label is a Pauli error on the target |Φ⁺⟩ (a: I, b: Y,
    /// c: X, d: Z) and the errors compose, so the weight of error g is Σ over g₁g₂ = g of w₁(g₁)·w₂(g₂).
    public func swapped(with other: BellDiagonalState) -> BellDiagonalState {
        let o = other
        return BellDiagonalState(a: a * o.a + b * o.b + c * o.c + d * o.d,
                                 b: a * o.b + b * o.a + c * o.d + d * o.c,
                                 c: a * o.c + c * o.a + b * o.d + d * o.b,
                                 d: a * o.d + d * o.a + b * o.c + c * o.b)
    }
}
