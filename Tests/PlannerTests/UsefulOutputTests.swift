import Foundation
import LinkModel
import Testing
@testable import Planner

/// A stand-in for the key rate, for these tests only: the asymptotic BBM92 secret fraction 1 − h(e_Z) − h(e_X).
let testSecretBits: SecretBitsPerPair = { state in
    func h(_ x: Double) -> Double { x <= 0 || x >= 1 ? 0 : -x * log2(x) - (1 - x) * log2(1 - x) }
    return 1 - h(state.bitErrorRate) - h(state.phaseErrorRate)
}

@Suite("Useful output: pairs above the target, distillation choice, cost and energy per pair, per secret bit, per hour")
struct UsefulOutputTests {
    @Test("cost, energy and secret bits per useful pair follow from the spend, the power and the rate")
    func figures() throws {
        var plan = try PlanConfiguration.parse(delftYAML)
        plan.model.costs = LinkCosts(currency: "EUR", energyPricePerKwh: 0.36,
                                     overhead: CostModel(operatingPerHour: 36, energyPerAttemptJ: 1e-3, powerW: 2000))
        let profile = LinkProfile(plan.model)
        let performance = profile.evaluate(OperatingPoint(repetitionRateHz: 1e5, knob: 0.1))
        // 2 kW at 0.36 per kWh is 0.72 per hour on top of the 36 per hour, plus the energy of every attempt.
        let perAttempt = 1e-3 / 3.6e6 * 0.36
        #expect(relativeError(performance.costPerHour, 36 + 0.72 + perAttempt * 1e5 * 3600) < 1e-12)
        let model = UsefulOutputModel(targetFidelity: performance.fidelity - 0.01, secretBitsPerPair: testSecretBits)
        let useful = model.output(for: performance, profile: profile)
        #expect(!useful.distils)
        #expect(useful.pairRateHz == performance.pairRateHz)
        #expect(relativeError(useful.costPerPair, performance.costPerPair) < 1e-12)
        #expect(relativeError(useful.powerW, 2000 + 1e-3 * 1e5) < 1e-12)
        #expect(relativeError(useful.energyPerPairJ, useful.powerW / performance.pairRateHz) < 1e-12)
        #expect(relativeError(useful.energyPerHourKwh, useful.powerW / 1000) < 1e-12)
        let bits = testSecretBits(BellDiagonalState(performance.deliveredState))
        if bits > 0 {
            #expect(relativeError(try #require(useful.costPerSecretBit), performance.costPerPair / bits) < 1e-12)
        } else {
            #expect(useful.costPerSecretBit == .infinity)
        }
        // Above the link's fidelity nothing counts.
        let strict = UsefulOutputModel(targetFidelity: performance.fidelity + 0.01).output(for: performance, profile: profile)
        #expect(strict.pairRateHz == 0 && strict.costPerPair == .infinity && strict.energyPerPairJ == .infinity)
        #expect(strict.secretBitRateHz == nil && strict.costPerSecretBit == nil)
    }

    @Test("the planner distils where only distilled pairs reach the target, and not where direct pairs are more")
    func distillationChoice() throws {
        let plan = try PlanConfiguration.parse(delftYAML)
        let profile = LinkProfile(plan.model)
        let performance = profile.evaluate(OperatingPoint(repetitionRateHz: 1e5, knob: 0.1))
        let distillation = DistillationModel(settings: DistillationSettings(scheme: .dejmps, cutoffPs: 100_000_000),
                                             memories: [Memory(dephasingPerAttempt: 1e-4), Memory()], classicalTimePs: 1e6)
        let outcome = distillation.outcome(pair: BellDiagonalState(performance.deliveredState),
                                           successProbability: performance.successProbability, rateHz: 1e5)
        #expect(outcome.fidelity > performance.fidelity)
        let above = UsefulOutputModel(targetFidelity: (outcome.fidelity + performance.fidelity) / 2, distillation: distillation)
            .output(for: performance, profile: profile)
        #expect(above.distils)
        #expect(above.pairRateHz == outcome.pairRateHz && above.fidelity == outcome.fidelity)
        #expect(relativeError(above.costPerPair, performance.costPerHour / 3600 / outcome.pairRateHz) < 1e-12)
        let below = UsefulOutputModel(targetFidelity: performance.fidelity - 0.01, distillation: distillation)
            .output(for: performance, profile: profile)
        #expect(!below.distils && below.pairRateHz == performance.pairRateHz)
        // The cheapest delivered pair meets the fidelity target through distillation.
        var configuration = plan
        configuration.plan = PlanSettings(repetitionRateHz: SweepRange(min: 1e4, max: 1.8e5, points: 5, logarithmic: true),
                                          alpha: SweepRange(min: 0.15, max: 0.3, points: 4, logarithmic: false),
                                          constraints: PlanConstraints(minFidelity: 0.9), objective: .costPerPair,
                                          distillation: DistillationSettings(cutoffPs: 100_000_000, storage: Memory(dephasingPerAttempt: 1e-4)))
        let report = Planner.run(configuration)
        let best = try #require(report.optimum.best)
        #expect(best.fidelity < 0.9 && best.useful?.distils == true && (best.useful?.fidelity ?? 0) >= 0.9)
        #expect(best.deliveredFidelity >= 0.9 && best.deliveredPairRateHz == best.useful?.pairRateHz)
        #expect(report.distillation?.distillationPays == true)
        #expect(report.cutoffTradeoff?.best != nil)
        #expect(!report.usefulParetoFront.isEmpty)
    }

    @Test("by default the secret bits per useful pair are the BBM92 key of the key figures, on every shipped plan")
    func defaultSecretBitsAreTheKeyFigures() throws {
        for name in ["plan-telecom.yaml", "plan-nv-637nm.yaml", "plan-superconducting-transducer.yaml", "plan-nv-distillation.yaml"] {
            let report = Planner.run(try exampleConfiguration(name))
            var compared = 0
            for p in report.points {
                let useful = try #require(p.useful, "\(name): a point without useful figures")
                let bits = try #require(useful.secretBitRateHz, "\(name): no secret bits by default")
                // Undistilled points whose pairs all count: the planner's useful secret bits and its key figures are
                // two routes from the same delivered state (Bell-diagonal QBERs vs population and coherence).
                guard !useful.distils, useful.pairRateHz == p.pairRateHz, p.pairRateHz > 0 else { continue }
                compared += 1
                #expect(abs(bits - p.key.keyRateBitsPerS) <= 1e-9 * max(1e-300, abs(p.key.keyRateBitsPerS)) + 1e-300,
                        "\(name) at \(p.point): \(bits) vs \(p.key.keyRateBitsPerS)")
            }
            #expect(compared > 0 || name == "plan-nv-distillation.yaml", "\(name): no undistilled point above the target")
        }
    }

    @Test("the report carries the useful figures into the table, CSV, JSON, plots and sensitivities")
    func report() throws {
        var yaml = try String(contentsOf: plannerProjectRoot.appendingPathComponent("configs/plan-nv-637nm.yaml"), encoding: .utf8)
        yaml += "  distillation: { scheme: dejmps, cutoff_ps: 2_000_000_000, storage: { dephasing_per_attempt: 5.0e-4 } }\n"
        let configuration = try PlanConfiguration.parse(yaml)
        let report = Planner.run(configuration, secretBitsPerPair: testSecretBits)
        #expect(report.points.allSatisfy { $0.useful?.distillation != nil && $0.useful?.secretBitRateHz != nil })
        let lines = report.csv().split(separator: "\n")
        let columns = lines[0].split(separator: ",").count
        #expect(columns == 35)
        #expect(lines.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == columns })
        let table = report.table()
        #expect(table.contains("useful output at"))
        #expect(table.contains("memory cut-off at"))
        #expect(table.contains(report.distillation?.message ?? "no verdict"))
        #expect(try report.json().contains("\"cutoff_tradeoff\""))
        #expect(report.plots().keys.contains("cutoff.svg") && report.plots().keys.contains("useful-cost.svg"))
        #expect(report.sensitivities.allSatisfy { $0.costPerUsefulPairReductionPercentPerDb != nil && $0.costPerSecretBitReductionPercentPerDb != nil })
        let bits = try #require(report.cutoffTradeoff?.bestForKey?.secretBitRateHz)
        #expect(bits >= 0)
    }
}

extension UsefulOutputTests {
    @Test("worked example of docs/planner.md: configs/plan-nv-distillation.yaml distils, and the cut-off study finds 344 µs")
    func workedExample() throws {
        let report = Planner.run(try exampleConfiguration("plan-nv-distillation.yaml"))
        let best = try #require(report.optimum.best)
        #expect(abs(best.point.repetitionRateHz - 98_730) < 10 && abs((best.point.knob ?? 0) - 0.16) < 1e-9)
        #expect(abs(best.pairRateHz - 11.35) < 0.01 && abs(best.fidelity - 0.808) < 5e-4)
        let useful = try #require(best.useful)
        let outcome = try #require(useful.distillation)
        #expect(useful.distils && outcome.cutoffAttempts == 19)
        #expect(abs(useful.pairRateHz - 17.82e-3) < 0.01e-3 && abs(useful.fidelity - 0.9038) < 5e-5)
        #expect(abs(useful.costPerPair - 1.74) < 0.005 && abs(useful.energyPerPairJ - 813_783) < 500)
        let heralded = report.points.filter(\.withinRateLimit).map(\.fidelity).max() ?? 1
        #expect(heralded < 0.9 && abs(heralded - 0.89) < 0.005, "best heralded fidelity \(heralded)")
        #expect(report.distillation?.distillationPays == true)
        let tradeoff = try #require(report.cutoffTradeoff)
        let chosen = try #require(tradeoff.best)
        #expect(chosen.cutoffAttempts == 34 && abs(chosen.pairRateHz - 31.80e-3) < 0.01e-3 && abs(chosen.fidelity - 0.9013) < 5e-5)
        let first = try #require(tradeoff.curve.first), last = try #require(tradeoff.curve.last)
        #expect(first.cutoffAttempts == 1 && abs(first.fidelity - 0.907) < 5e-4)
        #expect(last.cutoffPs == nil && abs(last.pairRateHz - 3.058) < 0.001 && abs(last.fidelity - 0.711) < 5e-4)
        #expect(abs(last.storedFidelity - 0.465) < 5e-4)
    }
}
