import Foundation
import LinkModel

/// Click statistics and heralded states of one round or attempt at the midpoint station, for
/// fixed parameters.
///
/// Patterns are bit masks of the station detectors that clicked (bit 0: detector 0, bit 1:
/// detector 1). Photons reach the beam splitter with probability η_A, η_B (detector efficiency
/// included); two photons that both arrive bunch onto one detector with probability (1+V)/2 and
/// split with probability (1−V)/2. Each detector independently clicks from noise (noise photons
/// and dark counts) with probability q_j. Detectors that are dark never click.
struct HeraldParameters: Sendable, Equatable {
    var etaA: Double
    var etaB: Double
    var visibility: Double
    var noiseClick: [Double]
    var live: [Bool]
    /// Product of both nodes' retained coherence (memory decoherence until readout).
    var coherenceRetained: Double = 1
}

struct HeraldTables: Sendable {
    /// Probability of each attempt outcome: single-click: pattern 0…3; Barrett–Kok: 4·r1 + r2.
    var outcomeProbabilities: [Double]
    /// Unnormalised heralded states; their traces are the herald probabilities.
    var psiPlus: ComplexMatrix4
    var psiMinus: ComplexMatrix4

    /// Herald class of an outcome: 1 Ψ+, 2 Ψ−, 0 none.
    static func herald(outcome: Int, isBarrettKok: Bool) -> Int {
        if !isBarrettKok { return outcome == 1 || outcome == 2 ? outcome : 0 }
        let r1 = outcome >> 2
        let r2 = outcome & 3
        guard (r1 == 1 || r1 == 2) && (r2 == 1 || r2 == 2) else { return 0 }
        return r1 == r2 ? 1 : 2
    }
}

enum HeraldModel {
    /// Distribution of observed click patterns in one round when node A / B emit a photon.
    static func roundPatterns(emitA: Bool, emitB: Bool, _ p: HeraldParameters) -> [Double] {
        var signal = [Double](repeating: 0, count: 4)
        switch (emitA, emitB) {
        case (false, false):
            signal[0] = 1
        case (true, false), (false, true):
            let eta = emitA ? p.etaA : p.etaB
            signal = [1 - eta, eta / 2, eta / 2, 0]
        case (true, true):
            let single = p.etaA * (1 - p.etaB) + p.etaB * (1 - p.etaA)
            let both = p.etaA * p.etaB
            signal[0] = (1 - p.etaA) * (1 - p.etaB)
            signal[1] = single / 2 + both * (1 + p.visibility) / 4
            signal[2] = signal[1]
            signal[3] = both * (1 - p.visibility) / 2
        }
        let liveMask = (p.live[0] ? 1 : 0) | (p.live[1] ? 2 : 0)
        var observed = [Double](repeating: 0, count: 4)
        for s in 0..<4 where signal[s] > 0 {
            for noise in 0..<4 {
                let pn = (noise & 1 != 0 ? p.noiseClick[0] : 1 - p.noiseClick[0])
                    * (noise & 2 != 0 ? p.noiseClick[1] : 1 - p.noiseClick[1])
                observed[(s | noise) & liveMask] += signal[s] * pn
            }
        }
        return observed
    }

    /// Probability that the other detector shows no click (the condition for which-path erasure).
    private static func quiet(_ detector: Int, _ p: HeraldParameters) -> Double {
        let other = 1 - detector
        return p.live[other] ? 1 - p.noiseClick[other] : 1
    }

    /// Tables for the single-click protocol with bright-state population α.
    static func singleClick(alpha: Double, _ p: HeraldParameters) -> HeraldTables {
        // Spin configurations |s_A s_B⟩ (index 2·s_A + s_B); |1⟩ is bright and emits.
        let weights = [(1 - alpha) * (1 - alpha), alpha * (1 - alpha), alpha * (1 - alpha), alpha * alpha]
        var outcomes = [Double](repeating: 0, count: 4)
        var plus = ComplexMatrix4.zero
        var minus = ComplexMatrix4.zero
        for config in 0..<4 {
            let patterns = roundPatterns(emitA: config & 2 != 0, emitB: config & 1 != 0, p)
            for pattern in 0..<4 { outcomes[pattern] += weights[config] * patterns[pattern] }
            plus[complex: config, config] = Complex(weights[config] * patterns[1])
            minus[complex: config, config] = Complex(weights[config] * patterns[2])
        }
        // Coherence between |01⟩ and |10⟩ from the branch where the one photon reached the
        // clicking detector: overlap √V, amplitude product α(1−α)√(η_A η_B)/2.
        let coherence = alpha * (1 - alpha) * (p.etaA * p.etaB).squareRoot() / 2 * p.visibility.squareRoot()
            * p.coherenceRetained
        let plusCoherence = p.live[0] ? coherence * quiet(0, p) : 0
        let minusCoherence = p.live[1] ? -coherence * quiet(1, p) : 0
        plus[complex: 1, 2] = Complex(plusCoherence); plus[complex: 2, 1] = Complex(plusCoherence)
        minus[complex: 1, 2] = Complex(minusCoherence); minus[complex: 2, 1] = Complex(minusCoherence)
        return HeraldTables(outcomeProbabilities: outcomes, psiPlus: plus, psiMinus: minus)
    }

    /// Tables for the Barrett–Kok protocol.
    static func barrettKok(_ p: HeraldParameters) -> HeraldTables {
        var outcomes = [Double](repeating: 0, count: 16)
        var plus = ComplexMatrix4.zero
        var minus = ComplexMatrix4.zero
        for config in 0..<4 {
            let brightA = config & 2 != 0
            let brightB = config & 1 != 0
            let round1 = roundPatterns(emitA: brightA, emitB: brightB, p)
            let round2 = roundPatterns(emitA: !brightA, emitB: !brightB, p)
            var same = 0.0
            var different = 0.0
            for r1 in 0..<4 {
                for r2 in 0..<4 {
                    let probability = 0.25 * round1[r1] * round2[r2]
                    outcomes[4 * r1 + r2] += probability
                    switch HeraldTables.herald(outcome: 4 * r1 + r2, isBarrettKok: true) {
                    case 1: same += probability
                    case 2: different += probability
                    default: break
                    }
                }
            }
            // Both qubits are flipped once between the rounds.
            let final = config ^ 3
            plus[complex: final, final] = Complex(same)
            minus[complex: final, final] = Complex(different)
        }
        // Coherence of |01⟩, |10⟩: both photons detected, one per round, overlap V; per detector
        // pair (x, y) the amplitude product is η_A η_B / 16 with the other detector quiet.
        let base = p.etaA * p.etaB / 16 * p.visibility * p.coherenceRetained
        var sameCoherence = 0.0
        var differentCoherence = 0.0
        for x in 0..<2 where p.live[x] {
            for y in 0..<2 where p.live[y] {
                let term = base * quiet(x, p) * quiet(y, p)
                if x == y { sameCoherence += term } else { differentCoherence += term }
            }
        }
        plus[complex: 1, 2] = Complex(sameCoherence); plus[complex: 2, 1] = Complex(sameCoherence)
        minus[complex: 1, 2] = Complex(-differentCoherence); minus[complex: 2, 1] = Complex(-differentCoherence)
        return HeraldTables(outcomeProbabilities: outcomes, psiPlus: plus, psiMinus: minus)
    }
}
