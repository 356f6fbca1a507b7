import Foundation
import LinkModel
import Planner
import Simulation
import Testing
@testable import Monitoring

/// The re-tuning loop closed around the simulator, in link time: a heralded single-click link whose frequency
/// converters add noise in proportion to the attempt rate (so the fidelity target limits the rate) runs at the
/// planner's optimum; a 3 dB loss step on arm a pushes the fidelity below the target there. The arms are
/// calibrated (one emitter dark at a time), the `Retuner` recommends a new rate, the `AutoTuner` changes it,
/// the running simulation applies it, and the cost per pair measured from the simulated heralds (cost per
/// second from the planner's cost model) lands on the planner's optimum for the lossier link.
@Suite("Auto-tune recovery with the simulator in the loop")
struct AutoTuneRecoveryTests {
    static let noisePerHz = 1e-8
    static let second: Int64 = 1_000_000_000_000

    /// The link; `lossOnA` dB more on arm a right after its emitter (upstream of the converter's noise, as the
    /// simulator's loss step acts: on the signal, not on the noise).
    static func model(lossOnA: Double = 0) throws -> LinkDescription {
        let extra = lossOnA > 0 ? "\n    - { kind: optics, name: loss-step, efficiency: \(pow(10, -lossOnA / 10)) }" : ""
        return try StrictYAMLDecoder().decode(LinkDescription.self, from: """
        protocol: { kind: single_click, alpha: 0.1 }
        clock: { repetition_rate_hz: 1_000_000, multiplexing_modes: 1000 }
        midpoint:
          visibility: 0.9
          detectors: { efficiency: 0.8, dark_count_rate_hz: 100, window_ps: 10_000 }
        arms:
          - name: a
            stages:
            - { kind: emitter, collection_efficiency: 0.5 }\(extra)
            - { kind: frequency_converter, efficiency: 0.9, noise_photons_per_attempt_per_hz: \(noisePerHz) }
            - { kind: fibre, length_km: 1, loss_db_per_km: 0.5 }
          - name: b
            stages:
            - { kind: emitter, collection_efficiency: 0.5 }
            - { kind: frequency_converter, efficiency: 0.9, noise_photons_per_attempt_per_hz: \(noisePerHz) }
            - { kind: fibre, length_km: 1, loss_db_per_km: 0.5 }
        costs:
          overhead: { operating_per_hour: 360 }
        """)
    }

    static let configuration = RetuneConfiguration(autoTune: true, minFidelity: 0.72, minRateHz: 1e4, maxRateHz: 1e7,
                                                   minDwellSeconds: 0, minImprovement: 0.05, ratePoints: 80, tuneKnob: false)

    /// Heralds (ψ±) and station clicks per window of link time.
    struct Counts {
        var heralds = 0
        var clicks = 0
    }

    /// Runs `simulator` up to `endPs`, counting heralds and station clicks in `[startPs, endPs)`.
    static func run(_ simulator: inout LinkSimulator, from startPs: Int64, to endPs: Int64) -> Counts {
        var counts = Counts()
        while simulator.generatedThroughPs < endPs, let step = simulator.next() {
            guard let station = step.chunk(.station)?.batch else { continue }
            counts.heralds += station.markers.filter { $0.timePs >= startPs && $0.timePs < endPs }.count
            counts.clicks += station.timesPs.filter { $0 >= startPs && $0 < endPs }.count
        }
        return counts
    }

    /// Measured cost per pair over a window: the planner's cost per second over the heralds per second.
    static func cost(_ counts: Counts, seconds: Double, rateHz: Double, profile: LinkProfile) -> (value: Double, error: Double) {
        let perSecond = profile.fixedCostPerSecond + profile.costPerAttempt * rateHz
        let value = perSecond * seconds / Double(counts.heralds)
        return (value, value / Double(counts.heralds).squareRoot())
    }

    @Test("after a 3 dB loss step, auto-tune moves the simulated link to the planner's new optimum in cost per pair")
    func lossStepAutoTuneRecovery() throws {
        let planned = try Self.model(), lossy = try Self.model(lossOnA: 3)
        let retuner = Retuner(model: planned, configuration: Self.configuration)
        let start = try #require(retuner.optimum(for: planned).best)
        let target = try #require(retuner.optimum(for: lossy, knob: start.point.knob).best)
        let f0 = start.point.repetitionRateHz
        // The planner moves the rate a long way for this loss.
        #expect(target.point.repetitionRateHz < 0.7 * f0)

        // Link time: [0, 1 s) clean at f0; loss step at 1 s; [1, 2 s) lossy at f0; calibration [2, 2.5 s) arm b
        // dark, [2.5, 3 s) arm a dark; retune at 3 s; [3, 4 s) at the recommended rate.
        var settings = SimulationSettings(seed: 17, chunkTags: 4096, repetitionRateHz: f0)
        settings.faults = [SimulatedFault(atPs: Self.second, kind: .lossStep(arm: "a", extraLossDb: 3))]
        let configured = try ConfiguredSimulation(linkName: "autotune", model: planned, settings: settings, durationPs: 4 * Self.second)
        var simulator = try configured.makeSimulator()
        let profile = LinkProfile(planned)
        // The calibration windows are planned: one emitter dark at a time (its arm efficiency set to zero).
        guard case .heraldedLink(let nominal) = configured.scenario else { Issue.record("not a heralded link"); return }
        var darkB = nominal, darkA = nominal
        darkB.nodeB.armEfficiency = 0
        darkA.nodeA.armEfficiency = 0
        try simulator.changeScenario(to: .heraldedLink(darkB), fromPs: 2 * Self.second)
        try simulator.changeScenario(to: .heraldedLink(darkA), fromPs: 2 * Self.second + Self.second / 2)
        let clean = Self.run(&simulator, from: 0, to: Self.second)
        let oldRate = Self.run(&simulator, from: Self.second, to: 2 * Self.second)
        let onlyA = Self.run(&simulator, from: 2 * Self.second, to: 2 * Self.second + Self.second / 2)
        let onlyB = Self.run(&simulator, from: 2 * Self.second + Self.second / 2, to: 3 * Self.second)

        let measurement = RetuneMeasurement(repetitionRateHz: f0, knob: start.point.knob, windowSeconds: 0.5,
                                            armClickRateHz: [Double(onlyA.clicks) / 0.5, Double(onlyB.clicks) / 0.5])
        let recommendation = try retuner.recommend(from: measurement)
        #expect(abs(recommendation.arms[0].extraLossDb - 3) < 0.2 && abs(recommendation.arms[1].extraLossDb) < 0.2,
                "\(recommendation.arms.map(\.extraLossDb)) dB")
        #expect(!recommendation.currentMeetsTarget, "the old rate misses the fidelity target on the lossier link")
        var tuner = AutoTuner(configuration: Self.configuration)
        guard case .change(let point, _) = tuner.decide(recommendation, atPs: 3 * Self.second) else {
            Issue.record("auto-tune made no change: \(recommendation.message)"); return
        }
        let grid = retuner.rateGrid(for: planned)
        #expect(abs(log(point.repetitionRateHz / target.point.repetitionRateHz)) <= 1.01 * log(grid[1] / grid[0]))
        // Auto-tune: the running simulation takes the new rate (arms restored) from 3 s on.
        let effective = try configured.changeRepetitionRate(
            RepetitionRateChange(fromPs: max(3 * Self.second, simulator.generatedThroughPs), rateHz: point.repetitionRateHz), in: &simulator)
        let newRate = Self.run(&simulator, from: effective, to: 4 * Self.second)
        let truth = simulator.groundTruth().heraldedSegments ?? []

        let seconds = { (from: Int64, to: Int64) in Double(to - from) * 1e-12 }
        let before = Self.cost(clean, seconds: 1, rateHz: f0, profile: profile)
        let atOldRate = Self.cost(oldRate, seconds: 1, rateHz: f0, profile: profile)
        let afterTune = Self.cost(newRate, seconds: seconds(effective, 4 * Self.second), rateHz: point.repetitionRateHz, profile: profile)
        let optimum = target.costPerPair
        let micro = 1e6
        print(String(format: "rate %.4g Hz → %.4g Hz (planner's new optimum %.4g Hz); cost per pair in 1e-6: clean %.4f ± %.4f "
                     + "(planned %.4f), after the step at the old rate %.4f ± %.4f, after auto-tune %.4f ± %.4f, planner's new optimum %.4f",
                     f0, point.repetitionRateHz, target.point.repetitionRateHz, micro * before.value, micro * before.error,
                     micro * start.costPerPair, micro * atOldRate.value, micro * atOldRate.error, micro * afterTune.value,
                     micro * afterTune.error, micro * optimum))
        // The measurements agree with the planner where they should.
        #expect(abs(before.value - start.costPerPair) < 3 * before.error, "clean cost \(before) vs planned \(start.costPerPair)")
        let plannedAfter = LinkProfile(lossy).evaluate(point).costPerPair
        #expect(abs(afterTune.value - plannedAfter) < 3 * afterTune.error, "after auto-tune \(afterTune) vs planner \(plannedAfter)")
        // Recovery: after auto-tune the cost per pair is closer to the new optimum than at the old rate, by far more
        // than the statistical errors.
        let distanceOld = abs(atOldRate.value - optimum), distanceNew = abs(afterTune.value - optimum)
        #expect(distanceOld - distanceNew > 5 * (atOldRate.error + afterTune.error),
                "old rate \(atOldRate.value), after auto-tune \(afterTune.value), optimum \(optimum)")
        // And the pairs meet the fidelity target again (the simulator's truth per segment).
        let fidelity = { (segment: HeraldedTruthSegment) in
            (segment.psiPlusProbability * segment.fidelityPsiPlus + segment.psiMinusProbability * segment.fidelityPsiMinus)
                / segment.heraldProbability
        }
        let lossyOld = try #require(truth.first { $0.startPs == Self.second })
        let tuned = try #require(truth.last)
        #expect(tuned.startPs == effective)
        #expect(fidelity(lossyOld) < Self.configuration.minFidelity)
        #expect(fidelity(tuned) >= Self.configuration.minFidelity - 0.005)
        print(String(format: "fidelity (truth): clean %.4f, lossy at the old rate %.4f, after auto-tune %.4f (target %.2f)",
                     fidelity(truth[0]), fidelity(lossyOld), fidelity(tuned), Self.configuration.minFidelity))
    }
}
