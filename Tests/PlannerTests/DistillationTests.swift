import Foundation
import LinkModel
import Simulation
import Testing
@testable import Planner

/// The simulator's seeded generator, with the draws the Monte-Carlo checks need.
struct MonteCarloRandom {
    var generator: Xoshiro256StarStar
    init(state: UInt64) { generator = Xoshiro256StarStar(seed: state) }
    mutating func next() -> UInt64 { generator.next() }
    /// Uniform in (0, 1].
    mutating func uniform() -> Double { 1 - generator.nextUniform() }
    /// Attempts until the first success with probability p per attempt.
    mutating func geometric(_ p: Double) -> Int { max(1, Int((log(uniform()) / log1p(-p)).rounded(.up))) }
}

/// Mean and standard error of a sample.
func meanAndError(_ values: [Double]) -> (mean: Double, error: Double) {
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    return (mean, (variance / Double(values.count)).squareRoot())
}

/// Event-by-event distillation on Bell-state labels (0 = a = Φ⁺, 1 = b = Ψ⁻, 2 = c = Ψ⁺, 3 = d = Φ⁻),
/// written from the circuits, not from the recursion: the DEJMPS rotation (Rx(π/2) ⊗ Rx(−π/2)) maps a Pauli
/// P on Alice's side to Rx P Rx†, which keeps Φ⁺ and Ψ⁺ and swaps Ψ⁻ (Y) with Φ⁻ (Z); a Bell state is then
/// (phase bit, parity bit) with Φ⁺ = (0,0), Φ⁻ = (1,0), Ψ⁺ = (0,1), Ψ⁻ = (1,1). The bilateral CNOT adds the
/// source's parity to the target's and the target's phase to the source's; the round succeeds when the target's
/// measured parity is even. BBPSSW twirls (a label other than Φ⁺ becomes a uniformly random one of the other three).
enum LabelDistillation {
    static let afterRotation = [(0, 0), (1, 0), (0, 1), (1, 1)]   // a, b (Ψ⁻ → Φ⁻), c, d (Φ⁻ → Ψ⁻)
    static func label(phase: Int, parity: Int) -> Int {
        switch (phase, parity) {
        case (0, 0): 0      // Φ⁺ = a
        case (1, 0): 3      // Φ⁻ = d
        case (0, 1): 2      // Ψ⁺ = c
        default: 1          // Ψ⁻ = b
        }
    }
    /// Output label, or nil when the round fails.
    static func distil(_ source: Int, _ target: Int) -> Int? {
        let s = afterRotation[source], t = afterRotation[target]
        guard s.1 ^ t.1 == 0 else { return nil }
        return label(phase: s.0 ^ t.0, parity: s.1)
    }
    static func sample(_ state: BellDiagonalState, _ rng: inout MonteCarloRandom) -> Int {
        let u = rng.uniform()
        if u <= state.a { return 0 }
        if u <= state.a + state.b { return 1 }
        if u <= state.a + state.b + state.c { return 2 }
        return 3
    }
    static func twirl(_ label: Int, _ rng: inout MonteCarloRandom) -> Int {
        label == 0 ? 0 : 1 + Int(rng.next() % 3)
    }
    /// A memory phase flip swaps a ↔ d and b ↔ c.
    static func phaseFlip(_ label: Int) -> Int { 3 - label }
}

@Suite("Distillation: DEJMPS and BBPSSW recursions, pumping, cut-off, against the published recursions and a Monte Carlo")
struct DistillationTests {
    @Test("DEJMPS on a Werner input follows the recursion of Deutsch et al. (PRL 77, 2818 (1996)) round after round")
    func dejmpsRecursion() {
        for f in [0.55, 0.7, 0.8, 0.95] {
            // The published map, written out: N = (A+B)² + (C+D)², A′ = (A²+B²)/N, B′ = 2CD/N, C′ = (C²+D²)/N, D′ = 2AB/N.
            var (a, b, c, d) = (f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3)
            var state = BellDiagonalState.werner(fidelity: f)
            for _ in 0..<4 {
                let n = (a + b) * (a + b) + (c + d) * (c + d)
                (a, b, c, d) = ((a * a + b * b) / n, 2 * c * d / n, (c * c + d * d) / n, 2 * a * b / n)
                let (success, output) = DistillationScheme.dejmps.distil(state, state)
                #expect(abs(success - n) < 1e-14)
                #expect(abs(output.a - a) < 1e-14 && abs(output.b - b) < 1e-14)
                #expect(abs(output.c - c) < 1e-14 && abs(output.d - d) < 1e-14)
                state = output
            }
            #expect(state.a > f)
        }
        // F = 0.7: N = 0.8² + 0.2² = 0.68 and A′ = (0.49 + 0.01)/0.68.
        let once = DistillationScheme.dejmps.distil(.werner(fidelity: 0.7), .werner(fidelity: 0.7))
        #expect(abs(once.successProbability - 0.68) < 1e-15)
        #expect(abs(once.output.a - 0.5 / 0.68) < 1e-15)
    }

    @Test("BBPSSW follows Bennett et al. (PRL 76, 722 (1996)): F′ = (F² + ((1−F)/3)²)/(F² + 2F(1−F)/3 + 5((1−F)/3)²)")
    func bbpsswRecursion() {
        var f = 0.7
        var state = BellDiagonalState.werner(fidelity: f)
        for _ in 0..<4 {
            let e = (1 - f) / 3
            let n = f * f + 2 * f * e + 5 * e * e
            f = (f * f + e * e) / n
            let (success, output) = DistillationScheme.bbpssw.distil(state, state)
            #expect(abs(success - n) < 1e-14)
            #expect(abs(output.a - f) < 1e-14)
            #expect(abs(output.b - (1 - f) / 3) < 1e-14)
            state = output
        }
        // DEJMPS keeps the non-Werner structure and converges faster (Deutsch et al. 1996).
        var dejmps = BellDiagonalState.werner(fidelity: 0.7)
        for _ in 0..<4 { dejmps = DistillationScheme.dejmps.distil(dejmps, dejmps).output }
        #expect(dejmps.a > state.a)
    }

    @Test("DEJMPS leaves the smallest error undetected: a = 0.76, b = c = 0.1, d = 0.04 distils as the recursion with b and d exchanged")
    func undetectedSlot() {
        let state = BellDiagonalState(a: 0.76, b: 0.1, c: 0.1, d: 0.04)
        #expect(DistillationScheme.undetectedSlot(state, state) == 3)
        let (success, output) = DistillationScheme.dejmps.distil(state, state)
        // Exchanged: A = 0.76, B = 0.04, C = 0.1, D = 0.1; N = 0.8² + 0.2² = 0.68, A′ = (0.5776 + 0.0016)/0.68.
        #expect(abs(success - 0.68) < 1e-14)
        #expect(abs(output.a - 0.5792 / 0.68) < 1e-14)
        // Undone afterwards: the weight 2AB/N of the exchanged frame's d′ is back in slot b.
        #expect(abs(output.b - 2 * 0.76 * 0.04 / 0.68) < 1e-14)
    }

    @Test("a heralded state's Bell-diagonal part keeps its fidelity and a memory phase flip swaps a ↔ d")
    func bellDiagonalPart() {
        let state = BellDiagonalState(HeraldedState(successProbability: 0.1, population: 0.45, coherence: 0.35))
        #expect(abs(state.a - 0.8) < 1e-15 && abs(state.d - 0.1) < 1e-15)
        #expect(abs(state.a + state.b + state.c + state.d - 1) < 1e-15)
        let flipped = state.dephased(by: -1)
        #expect(abs(flipped.a - state.d) < 1e-15 && abs(flipped.b - state.c) < 1e-15)
        #expect(state.dephased(by: 1) == state)
    }

    /// The configuration of the Monte-Carlo checks: p = 0.05 at 100 kHz, one memory with T = 2 ms
    /// (exponential) and 0.002 phase flips per attempt, a cut-off of 30 attempts, 50 µs of classical messages.
    static let storage = [Memory(coherenceTimePs: 2_000_000_000, dephasingPerAttempt: 0.002), Memory()]
    static let fresh = BellDiagonalState(HeraldedState(successProbability: 0.05, population: 0.45, coherence: 0.35))

    @Test("success probability, time per pair and fidelity of distillation match an event-by-event Monte Carlo within 3σ",
          arguments: [(DistillationScheme.dejmps, 1, Optional(Int64(300_000_000))), (.dejmps, 3, 300_000_000),
                      (.bbpssw, 1, 300_000_000), (.dejmps, 2, nil)])
    func monteCarlo(_ scheme: DistillationScheme, _ rounds: Int, _ cutoffPs: Int64?) {
        let p = 0.05, f = 1e5, classicalS = 50e-6
        let model = DistillationModel(settings: DistillationSettings(scheme: scheme, rounds: rounds, cutoffPs: cutoffPs),
                                      memories: Self.storage, classicalTimePs: classicalS * 1e12)
        let closed = model.outcome(pair: Self.fresh, successProbability: p, rateHz: f)
        let lambda = exp(-1e-5 / 2e-3) * (1 - 2 * 0.002)
        let messages = exp(-classicalS / 2e-3)
        let cutoff = cutoffPs.map { Int(Double($0) * 1e-12 * f + 1e-9) }
        var rng = MonteCarloRandom(state: 17 &+ UInt64(rounds) &* 31 &+ (scheme == .bbpssw ? 7 : 0))
        var intervals: [Double] = [], good: [Double] = []
        var tries = 0, clock = 0.0, lastOutput = 0.0
        while intervals.count < 60_000 {
            tries += 1
            clock += Double(rng.geometric(p)) / f
            var kept = LabelDistillation.sample(Self.fresh, &rng)
            var passed = true
            for _ in 0..<rounds {
                let k = rng.geometric(p)
                if let cutoff, k > cutoff {
                    clock += Double(cutoff) / f
                    passed = false
                    break
                }
                clock += Double(k) / f
                if rng.uniform() <= (1 - pow(lambda, Double(k))) / 2 { kept = LabelDistillation.phaseFlip(kept) }
                var target = LabelDistillation.sample(Self.fresh, &rng)
                if scheme == .bbpssw {
                    kept = LabelDistillation.twirl(kept, &rng)
                    target = LabelDistillation.twirl(target, &rng)
                }
                clock += classicalS
                guard var output = LabelDistillation.distil(kept, target) else {
                    passed = false
                    break
                }
                if scheme == .bbpssw { output = LabelDistillation.twirl(output, &rng) }
                if rng.uniform() <= (1 - messages) / 2 { output = LabelDistillation.phaseFlip(output) }
                kept = output
            }
            guard passed else { continue }
            intervals.append(clock - lastOutput)
            lastOutput = clock
            good.append(kept == 0 ? 1 : 0)
        }
        let time = meanAndError(intervals), fidelity = meanAndError(good)
        let success = Double(intervals.count) / Double(tries)
        let successError = (success * (1 - success) / Double(tries)).squareRoot()
        #expect(abs(closed.meanTimePerPairS - time.mean) < 3 * time.error, "time \(closed.meanTimePerPairS) vs \(time)")
        #expect(abs(closed.fidelity - fidelity.mean) < 3 * fidelity.error, "fidelity \(closed.fidelity) vs \(fidelity)")
        #expect(abs(closed.successProbability - success) < 3 * successError, "success \(closed.successProbability) vs \(success)")
    }

    @Test("the plan's distillation section is decoded and checked")
    func configuration() throws {
        var yaml = try String(contentsOf: plannerProjectRoot.appendingPathComponent("configs/plan-nv-637nm.yaml"), encoding: .utf8)
        yaml += "  distillation: { scheme: bbpssw, rounds: 2, cutoff_ps: 1_000_000_000 }\n"
        let plan = try PlanConfiguration.parse(yaml)
        #expect(plan.plan.distillation == DistillationSettings(scheme: .bbpssw, rounds: 2, cutoffPs: 1_000_000_000))
        let wrong = yaml.replacingOccurrences(of: "scheme: bbpssw", with: "scheme: hashing")
        #expect { try PlanConfiguration.parse(wrong) } throws: { "\($0)".contains("not a distillation scheme") }
        let noMemory = yaml.replacingOccurrences(of: "        - { kind: memory, name: electron-spin, coherence_time_ps: 10_000_000_000 }\n", with: "")
        #expect { try PlanConfiguration.parse(noMemory) } throws: { "\($0)".contains("has no memory stage") }
    }
}
