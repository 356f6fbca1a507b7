import Foundation
import LinkModel
import Testing
@testable import Simulation

@Suite("Distillation stage: the circuit on density matrices and the simulation.distillation section")
struct DistillationStageTests {
    @Test("the DEJMPS circuit on two Werner pairs of F = 0.7 succeeds with N = 0.68 and gives F′ = 0.5/0.68 (Deutsch et al. 1996)")
    func wernerRound() {
        let werner = ComplexMatrix4.werner(.phiPlus, p: (4 * 0.7 - 1) / 3)
        let output = DistillationStage.expectedRound(kept: werner, fresh: werner)
        #expect(abs(output.trace - 0.68) < 1e-12)
        #expect(abs(output.normalized.bellWeights[0] - 0.5 / 0.68) < 1e-12)
    }

    @Test("a Bell-diagonal input follows the published map: N = (A+B)² + (C+D)², A′ = (A²+B²)/N, B′ = 2CD/N, C′ = (C²+D²)/N, D′ = 2AB/N")
    func bellDiagonalRound() {
        let (a, b, c, d) = (0.7, 0.15, 0.1, 0.05)
        let state = ComplexMatrix4.bellDiagonal([a, b, c, d])
        #expect(zip(state.bellWeights, [a, b, c, d]).allSatisfy { abs($0 - $1) < 1e-14 })
        let output = DistillationStage.expectedRound(kept: state, fresh: state)
        let n = (a + b) * (a + b) + (c + d) * (c + d)
        #expect(abs(output.trace - n) < 1e-12)
        let expected = [(a * a + b * b) / n, 2 * c * d / n, (c * c + d * d) / n, 2 * a * b / n]
        #expect(zip(output.normalized.bellWeights, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(output.normalized.bellWeights)")
    }

    @Test("memory dephasing of either qubit by c moves (1 − c)/2 of Φ⁺ to Φ⁻")
    func dephasing() {
        let state = ComplexMatrix4.bell(.phiPlus).dephased(factorA: 0.8, factorB: 1)
        #expect(abs(state.bellWeights[0] - 0.9) < 1e-14 && abs(state.bellWeights[3] - 0.1) < 1e-14)
        let both = ComplexMatrix4.bell(.phiPlus).dephased(factorA: 0.8, factorB: 0.5)
        #expect(abs(both.bellWeights[0] - 0.7) < 1e-14)
    }

    @Test("simulation.distillation is resolved on the link as the planner resolves plan.distillation, and refused where it cannot run")
    func section() throws {
        let section = """
        simulation:
          distillation: { scheme: bbpssw, rounds: 2, cutoff_ps: 1_000_000, storage: { coherence_time_ps: 5_000_000 } }
        """
        let simulation = try ConfiguredSimulation(configuration: try LinkConfiguration.parse(linkYAML(model: heraldedModel, simulation: section)))
        guard case .heraldedLink(let scenario) = simulation.scenario, let resolved = scenario.distillation else {
            Issue.record("expected a heralded link with distillation"); return
        }
        #expect(resolved.settings == DistillationSettings(scheme: .bbpssw, rounds: 2, cutoffPs: 1_000_000,
                                                          storage: Memory(coherenceTimePs: 5_000_000)))
        #expect(resolved == ResolvedDistillation(settings: resolved.settings, description: simulation.model))
        // Without storage, the arm without a memory stage cannot keep the pair.
        let noStorage = section.replacingOccurrences(of: ", storage: { coherence_time_ps: 5_000_000 }", with: "")
        #expect {
            try ConfiguredSimulation(configuration: try LinkConfiguration.parse(linkYAML(model: heraldedModel, simulation: noStorage)))
        } throws: { error in
            (error as? SimulationError)?.parameter == "simulation.distillation.storage"
        }
        let wrong = section.replacingOccurrences(of: "bbpssw", with: "hashing")
        #expect(throws: ConfigurationError.self) {
            try LinkConfiguration.parse(linkYAML(model: heraldedModel, simulation: wrong))
        }
    }
}
