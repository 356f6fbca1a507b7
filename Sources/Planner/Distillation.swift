import Foundation
import LinkModel

/// A two-qubit state diagonal in the Bell basis, written in the frame where the target is |Φ⁺⟩ and in
/// the order of Deutsch et al. (1996): ``a`` = ⟨Φ⁺|ρ|Φ⁺⟩ (the fidelity), ``b`` = ⟨Ψ⁻|ρ|Ψ⁻⟩,
/// ``c`` = ⟨Ψ⁺|ρ|Ψ⁺⟩, ``d`` = ⟨Φ⁻|ρ|Φ⁻⟩.
///
/// A heralded |Ψ±⟩ pair is brought to this frame by a local bit flip; a memory's phase flip then swaps
/// a ↔ d and b ↔ c.
public struct BellDiagonalState: Sendable, Equatable, Encodable {
    public var a: Double, b: Double, c: Double, d: Double

    public init(a: Double, b: Double, c: Double, d: Double) {
        self.a = a
        self.b = b
        self.c = c
        self.d = d
    }

    /// The Bell-diagonal part of a heralded state (twirling keeps the fidelity): the target weight is
    /// population + coherence, its phase-flipped partner population − coherence, and the |00⟩, |11⟩
    /// weight 1 − 2·population splits evenly between the two bit-flipped Bell states.
    public init(_ state: HeraldedState) {
        let flipped = max(0, 1 - 2 * state.population) / 2
        self.init(a: state.population + state.coherence, b: flipped, c: flipped, d: state.population - state.coherence)
    }

    /// A Werner state of fidelity `fidelity`.
    public static func werner(fidelity f: Double) -> BellDiagonalState {
        let other = (1 - f) / 3
        return BellDiagonalState(a: f, b: other, c: other, d: other)
    }

    /// Fidelity to the target Bell state.
    public var fidelity: Double { a }
    /// Probability that Z-basis outcomes of the two labs disagree (bit error), b + c.
    public var bitErrorRate: Double { b + c }
    /// Probability that X-basis outcomes of the two labs disagree (phase error), b + d.
    public var phaseErrorRate: Double { b + d }

    /// The state after both memories' coherence shrank by `factor`: a phase flip with probability
    /// (1 − factor)/2 swaps a ↔ d and b ↔ c.
    public func dephased(by factor: Double) -> BellDiagonalState {
        let flip = (1 - factor) / 2
        return BellDiagonalState(a: a + flip * (d - a), b: b + flip * (c - b), c: c + flip * (b - c), d: d + flip * (a - d))
    }

    /// The Werner state with the same fidelity (the depolarising twirl of BBPSSW).
    public var twirled: BellDiagonalState { .werner(fidelity: a) }

    /// The state with weight b exchanged with weight `slot` (1 = b: unchanged, 2 = c, 3 = d), a local Clifford
    /// relabelling of the three error Bell states.
    public func swapping(_ slot: Int) -> BellDiagonalState {
        switch slot {
        case 2: BellDiagonalState(a: a, b: c, c: b, d: d)
        case 3: BellDiagonalState(a: a, b: d, c: c, d: b)
        default: self
        }
    }
}

/// The closed forms of a distillation round (the scheme itself is described once, in `LinkModel`).
extension DistillationScheme {
    /// One round on the pair kept in memory `kept` and a fresh pair `fresh`: the probability that the
    /// two labs' measurement outcomes agree (the round succeeds) and the state kept then.
    ///
    /// DEJMPS (Deutsch et al. 1996, eq. for A′…D′, written for two different inputs x, y):
    /// N = (a_x + b_x)(a_y + b_y) + (c_x + d_x)(c_y + d_y), a′ = (a_x a_y + b_x b_y)/N,
    /// b′ = (c_x d_y + d_x c_y)/N, c′ = (c_x c_y + d_x d_y)/N, d′ = (a_x b_y + b_x a_y)/N.
    ///
    /// The error in the b slot is the one DEJMPS does not detect. Before the round both labs apply the same
    /// local Clifford to both pairs that moves the error giving the highest output fidelity into that slot
    /// (``undetectedSlot(_:_:)``), and undo it afterwards, so input and output stay in the link's frame.
    public func distil(_ kept: BellDiagonalState, _ fresh: BellDiagonalState) -> (successProbability: Double, output: BellDiagonalState) {
        if self == .bbpssw {
            let (n, output) = Self.round(kept.twirled, fresh.twirled)
            return (n, output.twirled)
        }
        let slot = Self.undetectedSlot(kept, fresh)
        let (n, output) = Self.round(kept.swapping(slot), fresh.swapping(slot))
        return (n, output.swapping(slot))
    }

    /// Which weight (1 = b, 2 = c, 3 = d) DEJMPS leaves undetected for the highest output fidelity.
    public static func undetectedSlot(_ x: BellDiagonalState, _ y: BellDiagonalState) -> Int {
        var best = (slot: 1, fidelity: -1.0)
        for slot in 1...3 {
            let (n, output) = round(x.swapping(slot), y.swapping(slot))
            if n > 0, output.a > best.fidelity + 1e-15 { best = (slot, output.a) }
        }
        return best.slot
    }

    /// One DEJMPS round in the frame as given.
    static func round(_ x: BellDiagonalState, _ y: BellDiagonalState) -> (Double, BellDiagonalState) {
        let n = (x.a + x.b) * (y.a + y.b) + (x.c + x.d) * (y.c + y.d)
        guard n > 0 else { return (0, x) }
        return (n, BellDiagonalState(a: (x.a * y.a + x.b * y.b) / n, b: (x.c * y.d + x.d * y.c) / n,
                                     c: (x.c * y.c + x.d * y.d) / n, d: (x.a * y.b + x.b * y.a) / n))
    }
}

/// What distillation delivers at one operating point.
public struct DistillationOutcome: Sendable, Equatable, Encodable {
    /// The protocol.
    public var scheme: DistillationScheme
    /// Fresh pairs merged per output (1 for 2→1).
    public var rounds: Int
    /// The cut-off in attempts at this rate, nil for none.
    public var cutoffAttempts: Int?
    /// Probability that a try, started from a first pair, passes every round (no cut-off, no failed round).
    public var successProbability: Double
    /// Fidelity of a distilled pair when both labs know it succeeded.
    public var fidelity: Double
    /// The distilled pair's Bell-diagonal state.
    public var state: BellDiagonalState
    /// Mean fidelity of the stored pair when the fresh one of the first round arrives.
    public var storedFidelity: Double
    /// Distilled pairs per second.
    public var pairRateHz: Double
    /// Mean time per distilled pair in seconds.
    public var meanTimePerPairS: Double
}

/// Distillation of the pairs a link delivers: time cost (waiting for each fresh pair with the stored
/// one decaying, the cut-off, the classical messages of every round), success probability and output
/// fidelity, in closed form (`docs/planner.md`, "Distillation").
public struct DistillationModel: Sendable, Equatable {
    /// The configuration.
    public var settings: DistillationSettings
    /// The memories that hold the kept pair, one per lab.
    public var memories: [Memory]
    /// Time for the labs to exchange their measurement outcomes, in picoseconds: the lab-to-lab
    /// light round trip plus the link's classical latency.
    public var classicalTimePs: Double

    public init(settings: DistillationSettings, memories: [Memory], classicalTimePs: Double) {
        self.settings = settings
        self.memories = memories
        self.classicalTimePs = classicalTimePs
    }

    /// The model for `description` (``ResolvedDistillation``: the storage memory of the settings, or each arm's
    /// memory stage, and the classical message time).
    /// - Returns: nil when an arm has no memory to hold the kept pair and the settings name none.
    public init?(settings: DistillationSettings, description: LinkDescription) {
        guard let resolved = ResolvedDistillation(settings: settings, description: description) else { return nil }
        self.init(settings: settings, memories: resolved.memories, classicalTimePs: Double(resolved.classicalTimePs))
    }

    /// The cut-off in attempts at `rateHz` (⌊t*·f⌋), nil for none.
    public func cutoffAttempts(cutoffPs: Int64?, rateHz: Double) -> Int? {
        cutoffPs.map { Int(min(Double($0) * 1e-12 * rateHz + 1e-9, 1e15)) }
    }

    /// The wait for each fresh pair (heralded with probability `p` per attempt at `rateHz`) with the stored pair
    /// decaying in ``memories``, under cut-off `cutoffPs` (the settings' by default).
    public func storageWait(successProbability p: Double, rateHz: Double, cutoffPs: Int64?? = nil) -> StorageWait {
        StorageWait(successProbability: p, cutoffAttempts: cutoffAttempts(cutoffPs: cutoffPs ?? settings.cutoffPs, rateHz: rateHz),
                    decay: StorageDecay(memories: memories, periodPs: 1e12 / rateHz))
    }

    /// Distillation of pairs in state `pair`, heralded with probability `p` per attempt at `rateHz`
    /// attempts per second, with cut-off `cutoffPs` (the settings' by default).
    public func outcome(pair: BellDiagonalState, successProbability p: Double, rateHz: Double,
                        cutoffPs: Int64?? = nil) -> DistillationOutcome {
        let cutoff = cutoffAttempts(cutoffPs: cutoffPs ?? settings.cutoffPs, rateHz: rateHz)
        let decay = StorageDecay(memories: memories, periodPs: 1e12 / rateHz)
        let wait = storageWait(successProbability: p, rateHz: rateHz, cutoffPs: cutoffPs)
        let messages = decay.factor(waitPs: classicalTimePs)
        let classicalS = classicalTimePs * 1e-12
        var kept = pair
        var reach = 1.0
        var timeS = p > 0 ? 1 / (p * rateHz) : .infinity
        var stored = 0.0
        for round in 1...settings.rounds {
            let waiting = kept.dephased(by: wait.meanCoherenceFactor)
            if round == 1 { stored = waiting.fidelity }
            let (success, output) = settings.scheme.distil(waiting, pair)
            timeS += reach * (wait.meanWaitAttempts / rateHz + wait.arrivalProbability * classicalS)
            reach *= wait.arrivalProbability * success
            kept = output.dephased(by: messages)
        }
        let meanTime = reach > 0 ? timeS / reach : .infinity
        return DistillationOutcome(scheme: settings.scheme, rounds: settings.rounds, cutoffAttempts: cutoff,
                                   successProbability: reach, fidelity: reach > 0 ? kept.fidelity : 0, state: kept,
                                   storedFidelity: stored, pairRateHz: meanTime.isFinite ? 1 / meanTime : 0,
                                   meanTimePerPairS: meanTime)
    }
}

/// The memory cut-off's trade-off at one operating point: distilled pair rate against fidelity as the
/// cut-off t* varies, and the cut-off that gives the most pairs at the fidelity target.
public struct CutoffTradeoff: Sendable, Equatable, Encodable {
    /// One cut-off.
    public struct Point: Sendable, Equatable, Encodable {
        /// The cut-off in picoseconds, nil for none.
        public var cutoffPs: Int64?
        /// The cut-off in attempts, nil for none.
        public var cutoffAttempts: Int?
        /// Distilled pairs per second.
        public var pairRateHz: Double
        /// Their fidelity.
        public var fidelity: Double
        /// Mean fidelity of the stored pair when the fresh one arrives.
        public var storedFidelity: Double
        /// Secret bits per second, when a key-rate function is given.
        public var secretBitRateHz: Double?
    }

    /// Where the trade-off was taken.
    public var point: OperatingPoint
    /// The curve, by increasing cut-off, the last without cut-off.
    public var curve: [Point]
    /// The highest-rate point at or above the fidelity target (the highest-fidelity point without one).
    public var best: Point?
    /// The point with the most secret bits per second, when a key-rate function is given.
    public var bestForKey: Point?
    /// A sentence for the user.
    public var message: String

    /// The trade-off of `model` on pairs `pair` heralded with probability `p` at `rateHz`, over `count`
    /// cut-offs from one attempt period to 30 mean waits, log-spaced, and no cut-off.
    public static func study(_ model: DistillationModel, pair: BellDiagonalState, successProbability p: Double,
                             point: OperatingPoint, targetFidelity: Double?, secretBitsPerPair: SecretBitsPerPair? = nil,
                             count: Int = 40) -> CutoffTradeoff {
        let rate = point.repetitionRateHz
        let periodPs = 1e12 / rate
        let longest = max(2, 30 / max(p, 1e-15))
        var seen = Set<Int>()
        var cutoffs: [Int64?] = []
        for attempts in SweepGrid.spaced(from: 1, to: longest, count: count) where seen.insert(Int(attempts.rounded())).inserted {
            cutoffs.append(Int64((attempts.rounded() * periodPs).rounded()))
        }
        cutoffs.append(nil)
        let curve = cutoffs.map { cutoff in
            let outcome = model.outcome(pair: pair, successProbability: p, rateHz: rate, cutoffPs: .some(cutoff))
            return Point(cutoffPs: cutoff, cutoffAttempts: outcome.cutoffAttempts, pairRateHz: outcome.pairRateHz,
                         fidelity: outcome.fidelity, storedFidelity: outcome.storedFidelity,
                         secretBitRateHz: secretBitsPerPair.map { outcome.pairRateHz * max(0, $0(outcome.state)) })
        }
        let passing = curve.filter { $0.pairRateHz > 0 && $0.fidelity >= (targetFidelity ?? 0) }
        let best = targetFidelity == nil ? curve.max { $0.fidelity < $1.fidelity } : passing.max { $0.pairRateHz < $1.pairRateHz }
        let bestForKey = secretBitsPerPair == nil ? nil : curve.max { ($0.secretBitRateHz ?? 0) < ($1.secretBitRateHz ?? 0) }
        var message: String
        if let best {
            message = "cut-off " + (best.cutoffPs.map { Format.seconds(Double($0) * 1e-12) } ?? "none")
                + ": distilled rate " + Format.hertz(best.pairRateHz) + ", fidelity " + Format.number(best.fidelity, digits: 4)
            if let targetFidelity { message += " (most pairs at fidelity ≥ \(Format.number(targetFidelity, digits: 4)))" }
        } else {
            let top = curve.map(\.fidelity).max() ?? 0
            message = "no cut-off reaches the fidelity target \(Format.number(targetFidelity ?? 0, digits: 4)) after distillation; the best is "
                + Format.number(top, digits: 4)
        }
        return CutoffTradeoff(point: point, curve: curve, best: best, bestForKey: bestForKey, message: message)
    }
}
