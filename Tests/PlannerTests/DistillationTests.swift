import Foundation
import LinkModel
import Testing
@testable import Planner

/// Success probability, time per pair and fidelity of distillation (with cut-off and pumping) are checked against
/// the simulator in `Tests/CrossCheckTests` (`DistillationCrossCheckTests`); here: the published recursions.
@Suite("Distillation: DEJMPS and BBPSSW against the published recursions")
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
