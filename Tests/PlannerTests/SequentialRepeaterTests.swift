import Foundation
import LinkModel
import Simulation
import Testing
@testable import Planner

/// The simulator's seeded generator, with the draws this protocol's Monte Carlo needs (the two-link sequential
/// scheme is not a link the simulator runs: it has one link).
private struct MonteCarloRandom {
    var generator: Xoshiro256StarStar
    init(state: UInt64) { generator = Xoshiro256StarStar(seed: state) }
    /// Uniform in (0, 1].
    mutating func uniform() -> Double { 1 - generator.nextUniform() }
    /// Attempts until the first success with probability p per attempt.
    mutating func geometric(_ p: Double) -> Int { max(1, Int((log(uniform()) / log1p(-p)).rounded(.up))) }
}

/// Mean and standard error of a sample.
private func meanAndError(_ values: [Double]) -> (mean: Double, error: Double) {
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    return (mean, (variance / Double(values.count)).squareRoot())
}


/// The single sequential repeater of Rozpędek et al. (2018) written out from its description, independently of the
/// planner's closed forms: the renewal of tries summed attempt by attempt, and the QBERs of the swapped pair from
/// the Pauli-error marginals of the two links (bit and phase errors of independent links add modulo 2, so
/// e = e₁ + e₂ − 2e₁e₂), the stored link's phase error growing as e₁ₓ + (1 − λᵏ)/2 · (1 − 2e₁ₓ) after k channel uses.
enum SequentialReference {
    struct Link { var bitError: Double; var phaseError: Double }

    /// R(n*) = max(0, 1 − f h(e_Z) − h(e_X)) / ⟨N⟩ for every cut-off n* = 1…`horizon`, with ⟨N⟩ and e_X.
    static func curve(p1: Double, p2: Double, lambda: Double, first: Link, second: Link, f: Double, horizon: Int)
        -> [(uses: Double, qberZ: Double, qberX: Double, key: Double)] {
        let h = { (e: Double) -> Double in e <= 0 || e >= 1 ? 0 : -(e * log2(e) + (1 - e) * log2(1 - e)) }
        let qberZ = first.bitError + second.bitError - 2 * first.bitError * second.bitError
        var result: [(uses: Double, qberZ: Double, qberX: Double, key: Double)] = []
        var arrive = 0.0, spentOnArrival = 0.0, phaseErrors = 0.0
        var miss = 1.0, factor = 1.0
        for k in 1...horizon {
            let weight = p2 * miss            // Bob's link comes at channel use k
            factor *= lambda
            let stored = first.phaseError + (1 - factor) / 2 * (1 - 2 * first.phaseError)
            arrive += weight
            spentOnArrival += Double(k) * weight
            phaseErrors += weight * (stored + second.phaseError - 2 * stored * second.phaseError)
            miss *= 1 - p2
            // A try: Alice's link (1/p₁ uses on average), then Bob's until it comes or n* = k uses have passed.
            let usesPerTry = 1 / p1 + spentOnArrival + Double(k) * miss
            let uses = usesPerTry / arrive
            let qberX = phaseErrors / arrive
            result.append((uses, qberZ, qberX, max(0, 1 - f * h(qberZ) - h(qberX)) / uses))
        }
        return result
    }
}

@Suite("Single sequential repeater with a memory cut-off (Rozpędek et al. 2018): planner against an independent implementation")
struct SequentialRepeaterTests {
    /// Both links a = 0.93, b = 0.01, c = 0.02, d = 0.04 (e_Z = 0.03, e_X = 0.05), p₁ = p₂ = 2 × 10⁻³ per channel use,
    /// the stored qubit dephasing with N₁/ₑ = 800 channel uses (coherence factor e^(−k/800) after k uses, a phase flip
    /// with probability ε = (1 − e^(−1/800))/2 per use). Parameters chosen for the test: the paper's tables could not
    /// be consulted (docs/planner.md, "Checks").
    static let link = BellDiagonalState(a: 0.93, b: 0.01, c: 0.02, d: 0.04)
    static let p = 2e-3, lifetimeUses = 800.0
    static var epsilon: Double { -expm1(-1 / lifetimeUses) / 2 }
    static var repeater: SequentialRepeater {
        SequentialRepeater(firstLink: link, firstSuccessProbability: p, secondLink: link, secondSuccessProbability: p,
                           storage: StorageDecay(memories: [Memory(dephasingPerAttempt: epsilon)], periodPs: 1e6))
    }
    static var referenceLink: SequentialReference.Link { .init(bitError: link.b + link.c, phaseError: link.b + link.d) }
    static func reference(horizon: Int) -> [(uses: Double, qberZ: Double, qberX: Double, key: Double)] {
        SequentialReference.curve(p1: p, p2: p, lambda: exp(-1 / lifetimeUses), first: referenceLink, second: referenceLink,
                                  f: 1, horizon: horizon)
    }

    @Test("swapping composes the links' Pauli errors: Werner inputs give the product of their visibilities")
    func swapping() {
        let x = BellDiagonalState.werner(fidelity: 0.9), y = BellDiagonalState.werner(fidelity: 0.8)
        let out = x.swapped(with: y)
        // Werner visibility V = (4F − 1)/3 multiplies under swapping.
        let v = (4 * 0.9 - 1) / 3 * (4 * 0.8 - 1) / 3
        #expect(abs(out.a - (3 * v + 1) / 4) < 1e-12)
        #expect(abs(out.a + out.b + out.c + out.d - 1) < 1e-12)
        // A perfect link changes nothing.
        let perfect = BellDiagonalState(a: 1, b: 0, c: 0, d: 0)
        #expect(Self.link.swapped(with: perfect) == Self.link)
    }

    @Test("⟨N⟩, the averaged QBERs and R = r/⟨N⟩ equal the attempt-by-attempt sums for every cut-off", arguments: [1, 7, 120, 900, 4000])
    func againstSums(_ cutoff: Int) {
        let planned = Self.repeater.outcome(cutoffAttempts: cutoff)
        let sums = Self.reference(horizon: cutoff)[cutoff - 1]
        #expect(abs(planned.meanChannelUses / sums.uses - 1) < 1e-9, "\(planned.meanChannelUses) vs \(sums.uses)")
        #expect(abs(planned.qberZ - sums.qberZ) < 1e-12)
        #expect(abs(planned.qberX - sums.qberX) < 1e-9, "\(planned.qberX) vs \(sums.qberX)")
        #expect(abs(planned.keyPerChannelUse - sums.key) <= 1e-9 * max(sums.key, 1e-12), "\(planned.keyPerChannelUse) vs \(sums.key)")
    }

    @Test("the optimal cut-off is the brute-force optimum of the independent sums; without a cut-off there is no key")
    func optimum() throws {
        let horizon = Int((40 / Self.p).rounded(.up))
        let sums = Self.reference(horizon: horizon)
        let bestIndex = try #require(sums.indices.max { sums[$0].key < sums[$1].key || (sums[$0].key == sums[$1].key && $0 > $1) })
        let (best, none) = Self.repeater.optimalCutoff()
        #expect(best.cutoffAttempts == bestIndex + 1, "planner n* = \(String(describing: best.cutoffAttempts)), sums n* = \(bestIndex + 1)")
        #expect(abs(best.keyPerChannelUse / sums[bestIndex].key - 1) < 1e-9)
        // The optimum is interior: a cut-off of one use wastes the first link, none lets the stored qubit dephase.
        #expect(bestIndex > 0 && bestIndex + 1 < horizon)
        // Without a cut-off the mean wait (500 uses) dephases the stored qubit so far that no key is left; with
        // the optimal cut-off a key remains (the effect the cut-off was introduced for).
        #expect(none.keyPerChannelUse == 0 && none.qberX > sums[horizon - 1].qberX - 1e-9)
        #expect(best.keyPerChannelUse > 1e-5)
        #expect(abs(none.meanChannelUses - 2 / Self.p) < 1e-6)
    }

    @Test("a Monte Carlo of the protocol at the optimal cut-off agrees with ⟨N⟩ and the QBERs within 3σ")
    func monteCarlo() throws {
        let (best, _) = Self.repeater.optimalCutoff()
        let cutoff = try #require(best.cutoffAttempts)
        var rng = MonteCarloRandom(state: 17)
        let weights = [Self.link.a, Self.link.b, Self.link.c, Self.link.d]
        func label() -> Int {
            var u = rng.uniform(), index = 0
            while index < 3, u > weights[index] { u -= weights[index]; index += 1 }
            return index
        }
        // Labels 0 = I (a), 1 = Y (b), 2 = X (c), 3 = Z (d): bit flip for Y and X, phase flip for Y and Z.
        let bit = [0, 1, 1, 0], phase = [0, 1, 0, 1]
        var uses: [Double] = [], bitErrors = 0, phaseErrors = 0
        let pairs = 40_000
        for _ in 0..<pairs {
            var n = 0
            while true {
                n += rng.geometric(Self.p)
                let k = rng.geometric(Self.p)
                if k > cutoff { n += cutoff; continue }
                n += k
                var first = label()
                // The stored qubit's phase flips with probability (1 − e^(−k/N₁/ₑ))/2.
                if rng.uniform() <= -expm1(-Double(k) / Self.lifetimeUses) / 2 { first = [3, 2, 1, 0][first] }
                let second = label()
                bitErrors += bit[first] ^ bit[second]
                phaseErrors += phase[first] ^ phase[second]
                break
            }
            uses.append(Double(n))
        }
        let mc = meanAndError(uses)
        #expect(abs(best.meanChannelUses - mc.mean) < 3 * mc.error, "⟨N⟩ \(best.meanChannelUses) vs \(mc)")
        for (planned, errors) in [(best.qberZ, bitErrors), (best.qberX, phaseErrors)] {
            let e = Double(errors) / Double(pairs), sigma = (e * (1 - e) / Double(pairs)).squareRoot()
            #expect(abs(planned - e) < 3 * sigma, "QBER \(planned) vs \(e) ± \(sigma)")
        }
    }
}
