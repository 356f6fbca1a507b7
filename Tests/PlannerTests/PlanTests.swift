import Foundation
import LinkModel
import Testing
@testable import Planner

let plannerProjectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func exampleConfiguration(_ name: String) throws -> PlanConfiguration {
    try PlanConfiguration.load(from: plannerProjectRoot.appendingPathComponent("configs/\(name)").path)
}

@Suite("Plans: sweep, optimum, Pareto front, sensitivities, costs")
struct PlanTests {
    @Test("the shipped example plans load and produce an optimum or a reason", arguments: [
        "plan-nv-637nm.yaml", "plan-telecom.yaml", "plan-superconducting-transducer.yaml", "plan-nv-distillation.yaml",
        "plan-telecom-repeater.yaml",
    ])
    func examples(_ file: String) throws {
        let configuration = try exampleConfiguration(file)
        let report = Planner.run(configuration)
        #expect(!report.points.isEmpty)
        #expect(!report.paretoFront.isEmpty)
        #expect(!report.sensitivities.isEmpty)
        #expect(!report.optimum.message.isEmpty)
        for point in report.points {
            #expect(point.fidelity >= 0 && point.fidelity <= 1)
            #expect(point.successProbability >= 0 && point.successProbability <= 1)
        }
    }

    @Test("cost per pair = fixed cost per second / rate + cost per attempt / success probability")
    func costFormula() throws {
        var plan = try PlanConfiguration.parse(delftYAML)
        plan.model.costs = LinkCosts(currency: "EUR", energyPricePerKwh: 0.36,
                                     overhead: CostModel(capital: 3_155_760, lifetimeYears: 10, operatingPerHour: 36,
                                                         perAttempt: 1e-6, energyPerAttemptJ: 10))
        let result = LinkProfile(plan.model).evaluate(OperatingPoint(repetitionRateHz: 1e5, knob: 0.3))
        // 3 155 760 over 10 years of 31 557 600 s is 0.01 per s; 36 per hour is 0.01 per s.
        // Energy: 10 J = 10/3.6e6 kWh at 0.36 per kWh = 1e-6 per attempt.
        let perAttempt = 1e-6 + 1e-6
        let expected = 0.02 / result.pairRateHz + perAttempt / result.successProbability
        #expect(relativeError(result.costPerPair, expected) < 1e-12)
        #expect(relativeError(result.costPerHour, (0.02 + perAttempt * 1e5) * 3600) < 1e-12)
    }

    @Test("the Pareto front holds exactly the points no other point dominates")
    func paretoFront() throws {
        let configuration = try exampleConfiguration("plan-nv-637nm.yaml")
        let points = LinkProfile(configuration.model).sweep(Planner.grid(for: configuration)).filter {
            $0.withinRateLimit && $0.costPerPair.isFinite && $0.pairRateHz > 0
        }
        let front = ParetoFront.costAgainstFidelity(points)
        // Brute force: a point is dominated when another is at least as good on both and better on one.
        let undominated = points.filter { p in
            !points.contains { q in
                q.costPerPair <= p.costPerPair && q.fidelity >= p.fidelity
                    && (q.costPerPair < p.costPerPair || q.fidelity > p.fidelity)
            }
        }
        #expect(Set(front.map(\.point)) == Set(undominated.map(\.point)))
        #expect(zip(front, front.dropFirst()).allSatisfy { $0.fidelity < $1.fidelity && $0.costPerPair < $1.costPerPair })
    }

    @Test("the optimum meets the constraints and no passing point beats it")
    func optimum() throws {
        let configuration = try exampleConfiguration("plan-nv-637nm.yaml")
        let points = LinkProfile(configuration.model).sweep(Planner.grid(for: configuration))
        let constraints = PlanConstraints(minFidelity: 0.6, minPairRateHz: 0.1)
        let result = PlanOptimum.search(points, constraints: constraints, objective: .costPerPair)
        let best = try #require(result.best)
        #expect(best.fidelity >= 0.6 && best.pairRateHz >= 0.1)
        let passing = points.filter { $0.withinRateLimit && $0.fidelity >= 0.6 && $0.pairRateHz >= 0.1 }
        #expect(passing.allSatisfy { $0.costPerPair >= best.costPerPair })
    }

    @Test("an unreachable fidelity is named as the binding constraint with the best value reached")
    func bindingConstraint() throws {
        let plan = try PlanConfiguration.parse(delftYAML)
        let grid = SweepGrid(ratesHz: [1e4, 1e5], knobs: [0.05, 0.1, 0.3])
        let points = LinkProfile(plan.model).sweep(grid)
        let result = PlanOptimum.search(points, constraints: PlanConstraints(minFidelity: 0.99, minPairRateHz: 1),
                                        objective: .pairRate)
        #expect(result.best == nil)
        #expect(result.binding == [.fidelity])
        #expect(result.message.contains("fidelity ≥ 0.9900 binds"))
        let bestFidelity = points.filter { $0.pairRateHz >= 1 }.map(\.fidelity).max() ?? 0
        #expect(result.message.contains(Format.number(bestFidelity, digits: 4)))
    }

    @Test("rate and fidelity together can bind when each alone is reachable")
    func jointConstraints() throws {
        let plan = try PlanConfiguration.parse(delftYAML)
        let points = LinkProfile(plan.model).sweep(SweepGrid(ratesHz: [181_818], knobs: [0.05, 0.3]))
        // α = 0.05 gives F ≈ 0.9 at ~6 Hz; α = 0.3 gives ~39 Hz at F ≈ 0.68.
        let result = PlanOptimum.search(points, constraints: PlanConstraints(minFidelity: 0.85, minPairRateHz: 20),
                                        objective: .costPerPair)
        #expect(result.best == nil)
        #expect(Set(result.binding) == [.fidelity, .pairRate])
    }

    @Test("removing loss anywhere in an arm raises the rate; removing transducer noise raises the fidelity")
    func sensitivities() throws {
        let configuration = try exampleConfiguration("plan-superconducting-transducer.yaml")
        let analysis = SensitivityAnalysis(configuration.model)
        let point = OperatingPoint(repetitionRateHz: 1e4, knob: 0.1)
        let table = analysis.table(at: point)
        for row in table where row.knob == .loss {
            #expect(row.pairRatePercentPerDb > 0, "\(row.arm).\(row.stage)")
        }
        let transducerNoise = try #require(table.first { $0.stage == "transducer" && $0.knob == .noise })
        #expect(transducerNoise.fidelityPerDb > 0)
        // Removing 1 dB of loss from the emitter multiplies the single-photon arrival by 10^0.1; at low
        // arrival the one-bright heralds from that arm grow by ~25.9 %, i.e. the total by about half that.
        let emitter = try #require(table.first { $0.arm == configuration.model.arms[0].name && $0.knob == .loss && $0.stage == "qubit" })
        #expect(emitter.pairRatePercentPerDb > 5 && emitter.pairRatePercentPerDb < 14)
    }

    @Test("pump heating makes fidelity fall as the repetition rate rises")
    func pumpHeating() throws {
        let configuration = try exampleConfiguration("plan-superconducting-transducer.yaml")
        let profile = LinkProfile(configuration.model)
        let slow = profile.evaluate(OperatingPoint(repetitionRateHz: 1e3, knob: 0.1))
        let fast = profile.evaluate(OperatingPoint(repetitionRateHz: 1e5, knob: 0.1))
        #expect(fast.fidelityAtHerald < slow.fidelityAtHerald)
        #expect(fast.noiseClickProbability > slow.noiseClickProbability)
    }

    @Test("memory decoherence during the herald wait shrinks only the coherence")
    func decoherence() throws {
        var plan = try PlanConfiguration.parse(delftYAML)
        let before = LinkProfile(plan.model).evaluate(OperatingPoint(repetitionRateHz: 1e5, knob: 0.3))
        // 10 km arms: herald wait 2 × 48.97 µs per arm; a 100 µs exponential memory in each.
        for index in 0..<2 {
            plan.model.arms[index].stages[1] = Stage(kind: .fibre(Fibre(lengthKm: 10, lossDbPerKm: 0)))
            plan.model.arms[index].stages.append(Stage(kind: .memory(Memory(coherenceTimePs: 100_000_000))))
        }
        let wait = Double(plan.model.heraldWaitPs(arm: 0))
        #expect(abs(wait - 2 * 10 * 1000 * 1.468 / 299_792_458 * 1e12) < 1)
        let profile = LinkProfile(plan.model)
        let after = profile.evaluate(OperatingPoint(repetitionRateHz: 1e3, knob: 0.3))
        let state = ClosedForms.singleClick(alpha: 0.3, arrivalA: profile.armA.transmission, arrivalB: profile.armB.transmission,
                                            detectorEfficiency: 0.8, visibility: 0.9, noiseClick: -expm1(-20 * 40e-9))
        let factor = exp(-2 * wait / 100_000_000)
        #expect(relativeError(after.fidelity, state.population + state.coherence * factor) < 1e-12)
        #expect(after.fidelity < before.fidelity)
        // Without multiplexing the 97.9 µs round trip (the wait) caps the attempt rate near 10.2 kHz.
        #expect(relativeError(plan.model.maxRepetitionRateHz, 1e12 / wait) < 1e-12)
        plan.model.clock.multiplexingModes = 10
        #expect(relativeError(plan.model.maxRepetitionRateHz, 1e12 * 10 / wait) < 1e-12)
    }

    @Test("noise photons added in an arm are attenuated by every later stage")
    func noiseAtEnd() {
        let arm = Arm(name: "a", stages: [
            Stage(kind: .emitter(Emitter())),
            Stage(kind: .transducer(efficiency: 0.5), noisePhotonsPerAttempt: 0.01, noisePhotonsPerAttemptPerHz: 1e-7),
            Stage(kind: .fibre(Fibre(lengthKm: 10, lossDbPerKm: 0.3))),
        ])
        let fibre = pow(10, -0.3)
        #expect(relativeError(arm.noisePhotonsAtEnd(repetitionRateHz: 1e5), (0.01 + 0.01) * fibre) < 1e-12)
        #expect(relativeError(arm.transmission, 0.5 * fibre) < 1e-12)
    }
}

@Suite("Plan files")
struct PlanFileTests {
    @Test("a sweep knob of the wrong protocol is rejected with what to use instead")
    func wrongKnob() {
        let text = delftYAML + "\nplan:\n  mean_pairs_per_attempt: { min: 0.01, max: 0.1 }\n"
        #expect {
            try PlanConfiguration.parse(text)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.keyPath == "plan" && error.message.contains("sweep plan.alpha instead")
        }
    }

    @Test("an oversized sweep is refused instead of running for hours")
    func oversizedSweep() {
        let text = delftYAML + "\nplan:\n  repetition_rate_hz: { min: 1, max: 1e5, points: 100000 }\n  alpha: { min: 0.01, max: 0.5, points: 1000 }\n"
        #expect {
            try PlanConfiguration.parse(text)
        } throws: { error in
            (error as? ConfigurationError)?.message.contains("operating points") == true
        }
    }

    @Test("a misspelt constraint is an unknown key at its path")
    func unknownConstraint() {
        let text = delftYAML + "\nplan:\n  constraints: { min_fidelty: 0.9 }\n"
        #expect {
            try PlanConfiguration.parse(text)
        } throws: { error in
            (error as? ConfigurationError)?.keyPath == "plan.constraints.min_fidelty"
        }
    }
}

@Suite("Planning a link configuration")
struct LinkConfigurationPlanTests {
    @Test("a link configuration with a model section is planned with the defaults; without one the error says what to add")
    func linkConfiguration() throws {
        let shipped = try String(contentsOfFile: plannerProjectRoot.appendingPathComponent("configs/loopback.yaml").path,
                                 encoding: .utf8)
        // The shipped example carries a pair-source model; plan it as it is, then without it.
        #expect(try PlanConfiguration.parse(shipped).model.protocol == .pairSource(meanPairsPerAttempt: 0.05))
        let loopback = try #require(shipped.components(separatedBy: "\nmodel:").first)
        let model = delftYAML.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")
        let plan = try PlanConfiguration.parse(loopback + "\n" + model)
        #expect(plan.name == "loopback")
        #expect(plan.model.protocol == .singleClick(alpha: 0.3))
        #expect(plan.plan == PlanSettings())
        #expect {
            try PlanConfiguration.parse(loopback)
        } throws: { error in
            (error as? ConfigurationError)?.message.contains("has no 'model:' section") == true
        }
    }
}
