import Foundation
import LinkModel
import Testing
@testable import Planner

@Suite("Memory cut-off: waiting for a second pair, closed forms against a Monte Carlo")
struct MemoryCutoffTests {
    /// Samples the wait for the second pair: arrival within the cut-off, attempts spent, and the stored pair's
    /// coherence factor `factor(k)` on arrival.
    func sampleWait(p: Double, cutoff: Int?, count: Int, seed: UInt64, factor: (Int) -> Double)
        -> (arrival: Double, arrivalError: Double, wait: (mean: Double, error: Double), factor: (mean: Double, error: Double)) {
        var rng = MonteCarloRandom(state: seed)
        var arrivals = 0
        var waits: [Double] = [], factors: [Double] = []
        for _ in 0..<count {
            let k = rng.geometric(p)
            if let cutoff, k > cutoff {
                waits.append(Double(cutoff))
                continue
            }
            arrivals += 1
            waits.append(Double(k))
            factors.append(factor(k))
        }
        let arrival = Double(arrivals) / Double(count)
        return (arrival, (arrival * (1 - arrival) / Double(count)).squareRoot(), meanAndError(waits), meanAndError(factors))
    }

    @Test("exponential decay and phase flips per attempt: arrival probability, mean wait and mean coherence within 3σ",
          arguments: [Optional(40), 5, nil])
    func exponential(_ cutoff: Int?) {
        let p = 0.03, periodPs = 20_000_000.0   // 50 kHz
        let memories = [Memory(coherenceTimePs: 1_000_000_000, dephasingPerAttempt: 0.001),
                        Memory(coherenceTimePs: 3_000_000_000)]
        let closed = StorageWait(successProbability: p, cutoffAttempts: cutoff,
                                 decay: StorageDecay(memories: memories, periodPs: periodPs))
        let mc = sampleWait(p: p, cutoff: cutoff, count: 200_000, seed: 5) { k in
            let t = Double(k) * periodPs
            return exp(-t / 1e9) * pow(0.998, Double(k)) * exp(-t / 3e9)
        }
        #expect(abs(closed.arrivalProbability - mc.arrival) < 3 * max(mc.arrivalError, 1e-12))
        #expect(abs(closed.meanWaitAttempts - mc.wait.mean) < 3 * mc.wait.error)
        #expect(abs(closed.meanCoherenceFactor - mc.factor.mean) < 3 * mc.factor.error)
    }

    @Test("Gaussian decay: the summed series (exact, and in blocks for long waits) matches the Monte Carlo within 3σ",
          arguments: [Optional(3000), nil])
    func gaussian(_ cutoff: Int?) {
        let p = 0.002, periodPs = 1_000_000.0   // 1 MHz; without a cut-off the sum runs over 20 000 attempts in blocks
        let memories = [Memory(coherenceTimePs: 500_000_000, decay: .gaussian), Memory()]
        let closed = StorageWait(successProbability: p, cutoffAttempts: cutoff,
                                 decay: StorageDecay(memories: memories, periodPs: periodPs))
        let mc = sampleWait(p: p, cutoff: cutoff, count: 200_000, seed: 9) { k in
            let x = Double(k) * periodPs / 5e8
            return exp(-x * x)
        }
        #expect(abs(closed.arrivalProbability - mc.arrival) < 3 * max(mc.arrivalError, 1e-12))
        #expect(abs(closed.meanCoherenceFactor - mc.factor.mean) < 3 * mc.factor.error)
    }

    @Test("the sequential scheme's mean channel uses with cut-off (Rozpędek et al. 2018) against a Monte Carlo, and its limits")
    func twoPairs() {
        let first = 0.02, second = 0.05, cutoff = 25
        let closed = StorageWait.meanAttemptsForTwoPairs(first: first, second: second, cutoffAttempts: cutoff)
        var rng = MonteCarloRandom(state: 23)
        var totals: [Double] = []
        for _ in 0..<100_000 {
            var n = 0
            while true {
                n += rng.geometric(first)
                let k = rng.geometric(second)
                if k <= cutoff {
                    n += k
                    break
                }
                n += cutoff
            }
            totals.append(Double(n))
        }
        let mc = meanAndError(totals)
        #expect(abs(closed - mc.mean) < 3 * mc.error, "\(closed) vs \(mc)")
        // Without a cut-off: 1/p₁ + 1/p₂; a cut-off of one attempt: (1/p₁ + 1)/p₂.
        let none = StorageWait.meanAttemptsForTwoPairs(first: first, second: second, cutoffAttempts: nil)
        #expect(abs(none - (1 / first + 1 / second)) < 1e-9)
        let one = StorageWait.meanAttemptsForTwoPairs(first: first, second: second, cutoffAttempts: 1)
        #expect(abs(one - (1 / first + 1) / second) < 1e-9)
    }

    @Test("the cut-off trades rate for fidelity: a shorter cut-off gives fewer but better distilled pairs, and the best one meets the target")
    func tradeoff() throws {
        // Storage limited by phase flips per attempt (a nuclear-spin memory beside the communication qubit).
        let model = DistillationModel(settings: DistillationSettings(scheme: .dejmps),
                                      memories: [Memory(dephasingPerAttempt: 0.002), Memory()], classicalTimePs: 20_000_000)
        let pair = BellDiagonalState(HeraldedState(successProbability: 0.01, population: 0.45, coherence: 0.35))
        let point = OperatingPoint(repetitionRateHz: 1e5)
        let target = 0.85
        let study = CutoffTradeoff.study(model, pair: pair, successProbability: 0.01, point: point, targetFidelity: target)
        let finite = study.curve.filter { $0.cutoffPs != nil }
        #expect(finite.count > 10)
        // Each longer wait adds worse stored pairs, so the mean distilled fidelity falls as the cut-off grows.
        for (shorter, longer) in zip(finite, finite.dropFirst()) {
            #expect(shorter.fidelity >= longer.fidelity - 1e-12)
        }
        #expect(finite.first!.pairRateHz < finite.last!.pairRateHz)
        let best = try #require(study.best)
        #expect(best.fidelity >= target)
        #expect(!study.curve.contains { $0.fidelity >= target && $0.pairRateHz > best.pairRateHz })
        // Without a cut-off the stored pair decays too far for the target.
        #expect(study.curve.last!.fidelity < target)
    }
}
