import Foundation
import LinkModel
import Testing
@testable import Planner

/// The Delft NV parameters used in the link-layer literature (Humphreys et al. 2018; Dahlberg et al. 2019).
let delftYAML = """
name: delft-nv
model:
  protocol: { kind: single_click, alpha: 0.3 }
  arms:
    - name: a
      stages:
        - { kind: emitter, zero_phonon_fraction: 0.03, collection_efficiency: 0.0148, min_period_ps: 5_500_000 }
        - { kind: fibre, length_km: 0.002, loss_db_per_km: 5 }
    - name: b
      stages:
        - { kind: emitter, zero_phonon_fraction: 0.03, collection_efficiency: 0.0148, min_period_ps: 5_500_000 }
        - { kind: fibre, length_km: 0.002, loss_db_per_km: 5 }
  midpoint:
    visibility: 0.9
    detectors: { efficiency: 0.8, dark_count_rate_hz: 20, window_ps: 40_000 }
"""

@Suite("Delft NV link (Humphreys et al. 2018)")
struct DelftCheckTests {
    @Test("single-click at α = 0.3 and a 5.5 µs cycle gives about 39 Hz at fidelity near 0.68")
    func humphreysRate() throws {
        let plan = try PlanConfiguration.parse(delftYAML)
        #expect(relativeError(plan.model.maxRepetitionRateHz, 1e12 / 5_500_000) < 1e-12)
        let profile = LinkProfile(plan.model)
        let result = profile.evaluate(OperatingPoint(repetitionRateHz: plan.model.maxRepetitionRateHz, knob: 0.3))
        #expect(result.pairRateHz > 38 && result.pairRateHz < 40, "rate \(result.pairRateHz)")
        #expect(result.fidelity > 0.67 && result.fidelity < 0.69, "fidelity \(result.fidelity)")
        // By hand: η = 0.03·0.0148·10^(−0.001)·0.8 = 3.5438e-4 per arm, p ≈ 2αη + 2p_dark = 2.1342e-4,
        // rate ≈ p / 5.5 µs = 38.80 Hz; F ≈ (1−α)(1+√0.9)/2 diluted by dark-count heralds.
        let eta = 0.03 * 0.0148 * pow(10, -0.001) * 0.8
        let dark = 20 * 40e-9
        #expect(relativeError(result.successProbability, 2 * 0.3 * eta + 2 * dark) < 1e-3)
        #expect(abs(result.fidelity - 0.7 * (1 + 0.9.squareRoot()) / 2 * (0.3 * eta) / (0.3 * eta + dark)) < 2e-3)
        #expect(result.withinRateLimit)
    }

    @Test("the rate limit comes from the 5.5 µs cycle, not the 2 m of fibre")
    func rateLimit() throws {
        let plan = try PlanConfiguration.parse(delftYAML)
        #expect(plan.model.travelLimitPs == 2 * plan.model.arms[0].groupDelayPs)
        #expect(plan.model.arms[0].groupDelayPs == 9_793)  // 2 m × 1.468 / c
        let profile = LinkProfile(plan.model)
        #expect(!profile.evaluate(OperatingPoint(repetitionRateHz: 2e5, knob: 0.3)).withinRateLimit)
    }
}
