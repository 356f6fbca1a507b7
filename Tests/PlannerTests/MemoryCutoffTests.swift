import Foundation
import LinkModel
import Testing
@testable import Planner

/// The memory cut-off's closed forms are checked against the simulator in `Tests/CrossCheckTests`
/// (`DistillationCrossCheckTests`: arrival probability, mean wait, mean coherence and the sequential scheme's ⟨N⟩);
/// here: their limits and the trade-off.
@Suite("Memory cut-off: limits and the rate/fidelity trade-off")
struct MemoryCutoffTests {
    @Test("the sequential scheme's mean channel uses with cut-off (Rozpędek et al. 2018): its limits")
    func twoPairs() {
        let first = 0.02, second = 0.05
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
