import Foundation
import LinkModel

/// A distilled pair the stage hands to the labs' readout.
struct DeliveredPair {
    /// The pair's state in the Φ⁺ frame (normalised).
    var state: ComplexMatrix4
}

/// The memories and distillation of a heralded link (`simulation.distillation`, ``ResolvedDistillation``): each
/// herald's pair is stored, decoheres in the labs' memories while they wait for the next one, is discarded at the
/// cut-off, and is distilled with fresh pairs by the configured protocol; the measurement outcomes are drawn by the
/// Born rule from the two pairs' actual state.
///
/// Written from the circuits on density matrices (``ComplexMatrix4``), sharing no algebra with the planner:
/// - a herald's state is brought to the Φ⁺ frame (lab B applies X after Ψ+, ZX after Ψ−) and twirled: both labs
///   apply the same random Pauli; BBPSSW twirls both pairs of a round and its output to Werner states (a random
///   Pauli and a random cyclic relabelling of the three error Bell states);
/// - waiting: lab X's qubit keeps the coherence factor of its memory (`Memory.coherenceFactor`) over the wait and
///   the attempts made in it; a fresh herald later than the cut-off after the wait began finds the pair discarded
///   and becomes the first pair of a new try;
/// - a round (DEJMPS): both labs apply the local Clifford that leaves undetected the error giving the highest
///   expected output fidelity for their calibration (the mean Bell weights of the stored pairs of this round and of
///   the fresh pairs, over the run so far), lab A Rx(π/2) and lab B Rx(−π/2) on both
///   pairs, a CNOT from the kept pair's qubit onto the fresh one's, and measure the fresh pair in Z; the round
///   succeeds when the outcomes agree; the relabelling is undone on the kept pair, the rotation is not (the frame
///   of Deutsch et al.'s recursion);
/// - the labs then exchange their outcomes (the classical time, during which the kept pair decoheres without
///   attempts and no herald is used); a failed round discards the pair; after the last round the pair is delivered.
struct DistillationStage {
    let resolved: ResolvedDistillation
    private var rng: DistributionSampler
    private(set) var truth: DistillationTruth

    /// The kept pair, nil when the memories are free.
    private var kept: ComplexMatrix4?
    /// When the current wait began (the kept pair ready), in ps.
    private var waitStartPs: Int64 = 0
    /// Heralds at or before this time are not used (the labs are exchanging a round's outcomes; −1 at the start).
    private var busyUntilPs: Int64 = -1
    /// Rounds passed by the kept pair.
    private var roundsDone = 0
    /// When the memories were last left free by a round (−1 at the start, before attempt 0), in ps.
    private var freeSincePs: Int64 = -1
    /// The labs' calibration for DEJMPS's relabelling: sums of the Bell weights of the stored pairs when a fresh one
    /// arrived, per round, and of the fresh pairs.
    private var storedWeights: [[Double]]
    private var freshWeights = [0.0, 0, 0, 0]

    init(_ resolved: ResolvedDistillation, seed: UInt64) {
        self.resolved = resolved
        rng = DistributionSampler(seed: seed, stream: RandomStream.distillation.rawValue)
        truth = DistillationTruth(distillation: resolved)
        storedWeights = [[Double]](repeating: [0, 0, 0, 0], count: resolved.settings.rounds)
    }

    private var scheme: DistillationScheme { resolved.settings.scheme }

    /// Grid attempts in (fromPs, throughPs] for attempts at originPs + k·periodPs.
    private static func attempts(fromPs: Int64, throughPs: Int64, originPs: Int64, periodPs: Int64) -> Int64 {
        func index(_ t: Int64) -> Int64 {
            let d = t - originPs
            return d >= 0 ? d / periodPs : -((-d + periodPs - 1) / periodPs)
        }
        return max(0, index(throughPs) - index(fromPs))
    }

    /// A herald at `timePs` of class `heraldClass` (1: Ψ+, 2: Ψ−) with normalised state `state`; attempts are at
    /// `originPs + k·periodPs`. Returns the distilled pair when this herald completes one.
    mutating func herald(timePs t: Int64, heraldClass: Int, state: ComplexMatrix4, originPs: Int64, periodPs: Int64) -> DeliveredPair? {
        guard t > busyUntilPs else {
            truth.heraldsWhileBusy += 1
            return nil
        }
        truth.heralds += 1
        let fresh = twirled(toPhiPlusFrame(state, heraldClass: heraldClass))
        guard var stored = kept else {
            store(fresh, at: t)
            return nil
        }
        let waitedPs = t - waitStartPs
        if let cutoff = resolved.settings.cutoffPs, waitedPs > cutoff {
            truth.cutoffDiscards += 1
            truth.waitAttempts.add(Double(Self.attempts(fromPs: waitStartPs, throughPs: waitStartPs + cutoff, originPs: originPs,
                                                        periodPs: periodPs)))
            store(fresh, at: t)
            return nil
        }
        let attempts = Double(Self.attempts(fromPs: waitStartPs, throughPs: t, originPs: originPs, periodPs: periodPs))
        truth.arrivals += 1
        truth.waitAttempts.add(attempts)
        let factorA = resolved.memories[0].coherenceFactor(waitPs: Double(waitedPs), attempts: attempts)
        let factorB = resolved.memories[1].coherenceFactor(waitPs: Double(waitedPs), attempts: attempts)
        truth.storedCoherence.add(factorA * factorB)
        stored = stored.dephased(factorA: factorA, factorB: factorB)
        if roundsDone == 0 {
            truth.storedFidelity.add(stored.bellWeights[0])
            truth.attemptsToArrival.add(Double(Self.attempts(fromPs: freeSincePs, throughPs: t, originPs: originPs, periodPs: periodPs)))
        }
        busyUntilPs = t + resolved.classicalTimePs
        let keptWeights = stored.bellWeights, arrivedWeights = fresh.bellWeights
        for index in 0..<4 {
            storedWeights[roundsDone][index] += keptWeights[index]
            freshWeights[index] += arrivedWeights[index]
        }
        guard var output = distilRound(kept: stored, fresh: fresh) else {
            truth.failedRounds += 1
            kept = nil
            freeSincePs = busyUntilPs
            return nil
        }
        truth.successfulRounds += 1
        roundsDone += 1
        let messagesPs = Double(resolved.classicalTimePs)
        output = output.dephased(factorA: resolved.memories[0].coherenceFactor(waitPs: messagesPs, attempts: 0),
                                 factorB: resolved.memories[1].coherenceFactor(waitPs: messagesPs, attempts: 0))
        guard roundsDone == resolved.settings.rounds else {
            kept = output
            waitStartPs = busyUntilPs
            return nil
        }
        kept = nil
        freeSincePs = busyUntilPs
        let weights = output.bellWeights
        truth.delivered += 1
        truth.deliveredFidelity.add(weights[0])
        truth.deliveredBitError.add(weights[1] + weights[2])
        truth.deliveredPhaseError.add(weights[1] + weights[3])
        truth.deliveryIntervalsS.add(Double(busyUntilPs - (truth.lastDeliveryPs ?? -1)) * 1e-12)
        truth.lastDeliveryPs = busyUntilPs
        return DeliveredPair(state: output)
    }

    private mutating func store(_ pair: ComplexMatrix4, at t: Int64) {
        truth.tries += 1
        kept = pair
        waitStartPs = t
        roundsDone = 0
    }

    /// Lab B's correction after a Ψ+ (X) or Ψ− (Z·X) herald: the target becomes Φ⁺.
    private func toPhiPlusFrame(_ state: ComplexMatrix4, heraldClass: Int) -> ComplexMatrix4 {
        let correction = heraldClass == 2 ? QubitGate.z.times(.x) : QubitGate.x
        return state.conjugated(by: .local(.identity, correction))
    }

    /// A twirl: a random bilateral Pauli (the Bell-diagonal part), and with `werner` a random cyclic relabelling of
    /// the three errors too (a Werner state).
    private mutating func twirled(_ state: ComplexMatrix4, werner: Bool = false) -> ComplexMatrix4 {
        let bits = rng.bits()
        var out = state.conjugated(by: Self.paulis[Int(bits & 3)])
        if werner {
            for _ in 0..<Int((bits >> 2) % 3) { out = out.conjugated(by: Self.cycle) }
        }
        return out
    }

    /// The bilateral Paulis P ⊗ P*.
    private static let paulis = QubitGate.paulis.map { ComplexMatrix4.bilateral($0) }
    /// Rx(π/2)·Rz(π/2) maps X → Z → Y → X under conjugation: its powers 0, 1, 2 cycle the three error Bell states.
    private static let cycle = ComplexMatrix4.bilateral(QubitGate.rxHalfPi.times(.rzHalfPi))
    /// DEJMPS's rotation, Rx(π/2) in lab A and Rx(−π/2) in lab B.
    private static let rotation = ComplexMatrix4.bilateral(.rxHalfPi)

    /// The Clifford that moves error weight `slot` (1: Ψ⁻, 2: Ψ⁺ via Rz(π/2), 3: Φ⁻ via Rx(π/2)) into the Ψ⁻ slot.
    private static func relabelling(_ slot: Int) -> QubitGate {
        switch slot {
        case 2: .rzHalfPi
        case 3: .rxHalfPi
        default: .identity
        }
    }

    /// The success probability and unnormalised output of a DEJMPS round on `kept` (source) and `fresh` (target),
    /// in the frame given: the rotation, the bilateral CNOT, the agreeing outcomes summed.
    static func expectedRound(kept: ComplexMatrix4, fresh: ComplexMatrix4) -> ComplexMatrix4 {
        let sigma = kept.conjugated(by: rotation).bilateralCNOTMeasured(target: fresh.conjugated(by: rotation))
        return sigma[0] + sigma[3]
    }

    /// The slot (1…3) whose error DEJMPS leaves undetected for the highest expected output fidelity of two pairs
    /// with (unnormalised) Bell weights `kept` and `fresh` (ties: the lowest slot).
    private static func undetectedSlot(kept: [Double], fresh: [Double]) -> Int {
        let keptDiagonal = ComplexMatrix4.bellDiagonal(kept).normalized
        let freshDiagonal = ComplexMatrix4.bellDiagonal(fresh).normalized
        var best = (slot: 1, fidelity: -1.0)
        for slot in 1...3 {
            let relabel = ComplexMatrix4.bilateral(relabelling(slot))
            let output = expectedRound(kept: keptDiagonal.conjugated(by: relabel), fresh: freshDiagonal.conjugated(by: relabel))
            guard output.trace > 0 else { continue }
            let fidelity = output.normalized.bellWeights[0]
            if fidelity > best.fidelity + 1e-12 { best = (slot, fidelity) }
        }
        return best.slot
    }

    /// One round: the kept pair's state after it, or nil when the labs' outcomes disagree.
    private mutating func distilRound(kept: ComplexMatrix4, fresh: ComplexMatrix4) -> ComplexMatrix4? {
        var source = kept, target = fresh
        var relabel: ComplexMatrix4?
        if scheme == .bbpssw {
            source = twirled(source, werner: true)
            target = twirled(target, werner: true)
        } else {
            // The labs' calibration: the mean stored and fresh pairs of this round so far (this pair included).
            let slot = Self.undetectedSlot(kept: storedWeights[roundsDone], fresh: freshWeights)
            if slot != 1 {
                let gate = ComplexMatrix4.bilateral(Self.relabelling(slot))
                source = source.conjugated(by: gate)
                target = target.conjugated(by: gate)
                relabel = gate.adjoint
            }
        }
        let sigma = source.conjugated(by: Self.rotation).bilateralCNOTMeasured(target: target.conjugated(by: Self.rotation))
        // Draw the labs' outcomes m = 2·m_A + m_B by the Born rule.
        let u = rng.uniform()
        var cumulative = 0.0
        var outcome = 3
        for m in 0..<4 {
            cumulative += max(0, sigma[m].trace)
            if u < cumulative { outcome = m; break }
        }
        guard outcome == 0 || outcome == 3, sigma[outcome].trace > 0 else { return nil }
        var output = sigma[outcome].normalized
        if let relabel { output = output.conjugated(by: relabel) }
        if scheme == .bbpssw { output = twirled(output, werner: true) }
        return output
    }
}
