import Foundation
import LinkModel
import Planner
import Simulation
import Testing

/// One simulated link with memories and a distillation stage.
struct DistillationCase: CustomTestStringConvertible, Sendable {
    var name: String
    var distillation: DistillationSettings
    var protocolYAML = "{ kind: single_click, alpha: 0.2 }"
    var collection = 0.3
    var visibility = 0.95
    var memoryA = "{ kind: memory, coherence_time_ps: 2_000_000_000, dephasing_per_attempt: 0.002 }"
    var memoryB = "{ kind: memory, coherence_time_ps: 2_000_000_000 }"
    /// Distilled pairs to aim for (the run lasts this many planned times per pair).
    var pairs = 2_500.0
    var seed: UInt64

    var testDescription: String { name }

    /// The link: 100 kHz attempts (10 µs), 10 multiplexed modes, a 50 µs classical round trip (five attempt periods,
    /// so every wait starts on the attempt grid), two emitters at the station without fibre.
    func model() throws -> LinkDescription {
        try StrictYAMLDecoder().decode(LinkDescription.self, from: """
        protocol: \(protocolYAML)
        clock: { repetition_rate_hz: 100_000, multiplexing_modes: 10, classical_latency_ps: 50_000_000 }
        midpoint:
          visibility: \(visibility)
          detectors: { efficiency: 0.8, dark_count_rate_hz: 100, window_ps: 20_000 }
        arms:
          - name: a
            stages:
              - { kind: emitter, collection_efficiency: \(collection) }
              - \(memoryA)
          - name: b
            stages:
              - { kind: emitter, collection_efficiency: \(collection) }
              - \(memoryB)
        """)
    }

    static let nuclearSpin = Memory(coherenceTimePs: 300_000_000, decay: .gaussian)
    static let cases: [DistillationCase] = [
        DistillationCase(name: "DEJMPS, cut-off 300 µs (30 attempts)",
                         distillation: DistillationSettings(scheme: .dejmps, cutoffPs: 300_000_000), seed: 1),
        DistillationCase(name: "DEJMPS, cut-off 50 µs (5 attempts)",
                         distillation: DistillationSettings(scheme: .dejmps, cutoffPs: 50_000_000), seed: 2),
        DistillationCase(name: "DEJMPS, no cut-off", distillation: DistillationSettings(scheme: .dejmps), seed: 3),
        DistillationCase(name: "DEJMPS pumping, 3 rounds, cut-off 300 µs",
                         distillation: DistillationSettings(scheme: .dejmps, rounds: 3, cutoffPs: 300_000_000), seed: 4),
        DistillationCase(name: "BBPSSW, cut-off 300 µs",
                         distillation: DistillationSettings(scheme: .bbpssw, cutoffPs: 300_000_000), seed: 5),
        DistillationCase(name: "BBPSSW pumping, 2 rounds, no cut-off",
                         distillation: DistillationSettings(scheme: .bbpssw, rounds: 2), seed: 6),
        DistillationCase(name: "Barrett–Kok heralding, DEJMPS, cut-off 300 µs",
                         distillation: DistillationSettings(scheme: .dejmps, cutoffPs: 300_000_000),
                         protocolYAML: "{ kind: double_click }", collection: 0.6, seed: 7),
        DistillationCase(name: "Gaussian storage memory (T = 300 µs), cut-off 200 µs",
                         distillation: DistillationSettings(scheme: .dejmps, cutoffPs: 200_000_000, storage: nuclearSpin), seed: 8),
        DistillationCase(name: "Gaussian storage, rare heralds (p ≈ 0.003), no cut-off: the planner's block sum",
                         distillation: DistillationSettings(scheme: .dejmps, storage: Memory(coherenceTimePs: 5_000_000_000, decay: .gaussian)),
                         collection: 0.01, pairs: 1_500, seed: 9),
        DistillationCase(name: "very long memories (T = 1000 s), no cut-off",
                         distillation: DistillationSettings(scheme: .dejmps, storage: Memory(coherenceTimePs: 1_000_000_000_000_000)),
                         seed: 10),
        DistillationCase(name: "low input fidelity (F ≈ 0.5): DEJMPS fails often",
                         distillation: DistillationSettings(scheme: .dejmps, cutoffPs: 300_000_000),
                         protocolYAML: "{ kind: single_click, alpha: 0.45 }", visibility: 0.7, seed: 11),
        DistillationCase(name: "cut-off 5 µs, shorter than one attempt: nothing is distilled",
                         distillation: DistillationSettings(scheme: .dejmps, cutoffPs: 5_000_000), seed: 12),
    ]
}

/// The planner's closed forms for memories, cut-offs and distillation against the simulator: each case runs
/// `LinkSimulator` on the link with `simulation.distillation` (heralded pairs stored in decaying memories, discarded at
/// the cut-off, distilled by the protocol's circuit with outcomes drawn from the two pairs' state) and compares its
/// ground truth with `DistillationModel` and `StorageWait` within three standard errors.
@Suite("Distillation and memory cut-off: planner against simulator")
struct DistillationCrossCheckTests {
    /// |measured − planned| ≤ 3σ (plus rounding).
    static func agree(_ measured: Double, _ error: Double, _ planned: Double, _ what: String, _ c: DistillationCase) {
        #expect(abs(measured - planned) <= 3 * error + 1e-9,
                "\(c.name): \(what) \(measured) ± \(error), planner \(planned) (\(((measured - planned) / error)) σ)")
    }

    @Test("configs/plan-distillation-check.yaml is the first case, so the documented qlink simulate run is the tested one")
    func shippedConfiguration() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let plan = try PlanConfiguration.load(from: root.appendingPathComponent("configs/plan-distillation-check.yaml").path)
        let first = DistillationCase.cases[0]
        #expect(plan.model == (try first.model()))
        #expect(plan.plan.distillation == first.distillation)
    }

    @Test("success per try, fidelity, time per pair, QBER, arrival, wait and stored coherence match the closed forms",
          arguments: DistillationCase.cases)
    func matchesPlanner(_ c: DistillationCase) throws {
        let model = try c.model()
        let f = 1e5
        let performance = LinkProfile(model).evaluate(OperatingPoint(repetitionRateHz: f, knob: model.protocol.knob))
        let p = performance.successProbability
        let distiller = try #require(DistillationModel(settings: c.distillation, description: model))
        let planned = distiller.outcome(pair: BellDiagonalState(performance.deliveredState), successProbability: p, rateHz: f)
        let wait = distiller.storageWait(successProbability: p, rateHz: f)
        let seconds = planned.meanTimePerPairS.isFinite ? c.pairs * planned.meanTimePerPairS : 1.0
        let configured = try ConfiguredSimulation(linkName: "distillation", model: model,
                                                  settings: SimulationSettings(distillation: c.distillation),
                                                  durationPs: Int64(seconds * 1e12), seed: c.seed)
        var simulator = try configured.makeSimulator()
        while simulator.next() != nil {}
        let truth = try #require(simulator.groundTruth().distillation)
        #expect(truth.distillation.classicalTimePs == 50_000_000)
        print("\(c.name): " + String(format: "tries %ld, delivered %ld; success %.4f ± %.4f (planner %.4f), F %.4f ± %.4f (planner %.4f), "
                     + "time/pair %.4g ± %.2g s (planner %.4g), arrival %.4f ± %.4f (planner %.4f)",
                     truth.tries, truth.delivered, truth.successFraction.value, truth.successFraction.standardError,
                     planned.successProbability, truth.deliveredFidelity.mean, truth.deliveredFidelity.standardError, planned.fidelity,
                     truth.deliveryIntervalsS.mean, truth.deliveryIntervalsS.standardError, planned.meanTimePerPairS,
                     truth.arrivalFraction.value, truth.arrivalFraction.standardError, wait.arrivalProbability))
        guard planned.successProbability > 0 else {
            // The cut-off is shorter than one attempt: every stored pair is discarded before a fresh one can come.
            #expect(wait.cutoffAttempts == 0 && planned.pairRateHz == 0)
            #expect(truth.tries > 1_000 && truth.arrivals == 0 && truth.delivered == 0)
            #expect(truth.cutoffDiscards >= truth.tries - 1)
            return
        }
        #expect(truth.delivered >= Int(c.pairs / 2))
        let success = truth.successFraction, arrival = truth.arrivalFraction
        Self.agree(success.value, success.standardError, planned.successProbability, "success per try", c)
        Self.agree(truth.deliveredFidelity.mean, truth.deliveredFidelity.standardError, planned.fidelity, "fidelity", c)
        Self.agree(truth.deliveryIntervalsS.mean, truth.deliveryIntervalsS.standardError, planned.meanTimePerPairS, "time per pair", c)
        Self.agree(truth.deliveredBitError.mean, truth.deliveredBitError.standardError, planned.state.bitErrorRate, "QBER Z", c)
        Self.agree(truth.deliveredPhaseError.mean, truth.deliveredPhaseError.standardError, planned.state.phaseErrorRate, "QBER X", c)
        Self.agree(arrival.value, arrival.standardError, wait.arrivalProbability, "arrival within the cut-off", c)
        Self.agree(truth.waitAttempts.mean, truth.waitAttempts.standardError, wait.meanWaitAttempts, "attempts per wait", c)
        Self.agree(truth.storedCoherence.mean, truth.storedCoherence.standardError, wait.meanCoherenceFactor, "stored coherence", c)
        Self.agree(truth.storedFidelity.mean, truth.storedFidelity.standardError, planned.storedFidelity, "stored fidelity", c)
        if c.distillation.rounds == 1 {
            // The sequential scheme's attempts until two pairs are held (Rozpędek et al. 2018), with p₁ = p₂ = p.
            let twoPairs = StorageWait.meanAttemptsForTwoPairs(first: p, second: p, cutoffAttempts: wait.cutoffAttempts)
            Self.agree(truth.attemptsToArrival.mean, truth.attemptsToArrival.standardError, twoPairs, "attempts until two pairs", c)
        }
    }
}
