import Foundation
import Testing
@testable import Planner

/// Relative difference, with an absolute floor for values near zero.
func relativeError(_ value: Double, _ reference: Double) -> Double {
    abs(value - reference) / max(abs(reference), 1e-300)
}

@Suite("Closed forms against brute-force enumeration")
struct ClosedFormTests {
    // Reference values: scripts/planner-reference.py enumerates every event of an attempt in
    // 50-digit arithmetic (no shared algebra with ClosedForms.swift).

    @Test("single-click, lossy arms with noise", arguments: [
        (0.3, 0.02, 0.015, 0.8, 0.9, 1e-3, 0.01035472546944, 0.32359775156658159, 0.26632875746201268),
        (0.1, 0.5, 0.4, 0.9, 0.95, 0.02, 0.113841014, 0.3322191069028953, 0.30394089615036165),
    ])
    func singleClick(_ c: (Double, Double, Double, Double, Double, Double, Double, Double, Double)) {
        let state = ClosedForms.singleClick(alpha: c.0, arrivalA: c.1, arrivalB: c.2, detectorEfficiency: c.3,
                                            visibility: c.4, noiseClick: c.5)
        #expect(relativeError(state.successProbability, c.6) < 1e-9)
        #expect(relativeError(state.population, c.7) < 1e-9)
        #expect(relativeError(state.coherence, c.8) < 1e-9)
    }

    @Test("double-click (Barrett–Kok), lossy arms with noise", arguments: [
        (0.02, 0.015, 0.8, 0.9, 1e-3, 0.000154992716967168, 0.40424282909669943, 0.27816560702741106),
        (0.5, 0.4, 0.9, 0.95, 0.02, 0.10003737688, 0.43682641111650868, 0.36937583883596929),
    ])
    func doubleClick(_ c: (Double, Double, Double, Double, Double, Double, Double, Double)) {
        let state = ClosedForms.doubleClick(arrivalA: c.0, arrivalB: c.1, detectorEfficiency: c.2, visibility: c.3, noiseClick: c.4)
        #expect(relativeError(state.successProbability, c.5) < 1e-9)
        #expect(relativeError(state.population, c.6) < 1e-9)
        #expect(relativeError(state.coherence, c.7) < 1e-9)
    }

    @Test("pair source with heralded memories, multi-pair and false heralds", arguments: [
        (0.05, 0.3, 0.2, 1e-3, 2e-3, 0.97, 0.0031109090813972012, 0.47572867307318114, 0.45145734614636228),
        (0.4, 0.6, 0.5, 0.01, 0.0, 0.9, 0.12139521116908428, 0.40396881008957675, 0.3079376201791535),
    ])
    func pairSource(_ c: (Double, Double, Double, Double, Double, Double, Double, Double, Double)) {
        let state = ClosedForms.pairSource(meanPairs: c.0, transmissionA: c.1, transmissionB: c.2, noiseA: c.3, noiseB: c.4,
                                           pairFidelity: c.5)
        #expect(relativeError(state.successProbability, c.6) < 1e-9)
        #expect(relativeError(state.population, c.7) < 1e-9)
        #expect(relativeError(state.coherence, c.8) < 1e-9)
    }

    @Test("single-click without noise tends to p = 2αη and F = (1−α)(1+√V)/2 as η → 0")
    func singleClickSmallEta() {
        for alpha in [0.05, 0.3, 0.5] {
            let eta = 1e-9
            let state = ClosedForms.singleClick(alpha: alpha, arrivalA: eta, arrivalB: eta, detectorEfficiency: 1,
                                                visibility: 0.81, noiseClick: 0)
            #expect(relativeError(state.successProbability, 2 * alpha * eta) < 1e-8)
            #expect(relativeError(state.fidelity, (1 - alpha) * (1 + 0.9) / 2) < 1e-8)
        }
    }

    @Test("single-click with perfect optics, V = 1 and no noise: p = 2α(1−α) + α², F = 2α(1−α)/p")
    func singleClickPerfect() {
        let state = ClosedForms.singleClick(alpha: 0.2, arrivalA: 1, arrivalB: 1, detectorEfficiency: 1, visibility: 1, noiseClick: 0)
        // One bright: always exactly one click (2α(1−α)); both bright, V = 1: photons bunch, one click (α²).
        #expect(relativeError(state.successProbability, 2 * 0.2 * 0.8 + 0.04) < 1e-12)
        #expect(relativeError(state.fidelity, 2 * 0.2 * 0.8 / (2 * 0.2 * 0.8 + 0.04)) < 1e-12)
    }

    @Test("single-click as α → 0: success falls to the dark-count floor and fidelity to zero")
    func alphaToZero() {
        let noisy = ClosedForms.singleClick(alpha: 1e-12, arrivalA: 0.01, arrivalB: 0.01, detectorEfficiency: 0.8,
                                            visibility: 0.9, noiseClick: 1e-6)
        #expect(relativeError(noisy.successProbability, 2 * 1e-6 * (1 - 1e-6)) < 1e-4)
        #expect(noisy.fidelity < 1e-3)
        let quiet = ClosedForms.singleClick(alpha: 1e-12, arrivalA: 0.01, arrivalB: 0.01, detectorEfficiency: 0.8,
                                            visibility: 1, noiseClick: 0)
        #expect(relativeError(quiet.successProbability, 2 * 1e-12 * 0.008) < 1e-6)
        #expect(abs(quiet.fidelity - 1) < 1e-6)
    }

    @Test("without dark counts the noise-free forms are recovered; with only dark counts nothing heralds a state")
    func darkCountsToZero() {
        let state = ClosedForms.doubleClick(arrivalA: 0.1, arrivalB: 0.1, detectorEfficiency: 1, visibility: 0.9, noiseClick: 0)
        // Barrett–Kok, no noise, equal arms η: p = η²/2 · (1 − …) exactly η²/2 and F = (1+V)/2.
        #expect(relativeError(state.successProbability, 0.01 / 2) < 1e-12)
        #expect(relativeError(state.fidelity, 0.95) < 1e-12)
        let darkOnly = ClosedForms.singleClick(alpha: 0.3, arrivalA: 0, arrivalB: 0, detectorEfficiency: 0.8,
                                               visibility: 0.9, noiseClick: 0.01)
        #expect(relativeError(darkOnly.successProbability, 2 * 0.01 * 0.99) < 1e-12)
        #expect(darkOnly.coherence == 0)
        let nothing = ClosedForms.singleClick(alpha: 0.3, arrivalA: 0, arrivalB: 0, detectorEfficiency: 0.8,
                                              visibility: 0.9, noiseClick: 0)
        #expect(nothing == .never)
    }

    @Test("pair source: μ → 0 keeps the source fidelity and p → μ tA tB")
    func pairSourceLowMean() {
        let state = ClosedForms.pairSource(meanPairs: 1e-8, transmissionA: 0.3, transmissionB: 0.2, noiseA: 0, noiseB: 0,
                                           pairFidelity: 0.97)
        #expect(relativeError(state.successProbability, 1e-8 * 0.06) < 1e-6)
        #expect(relativeError(state.fidelity, 0.97) < 1e-6)
    }

    @Test("time per pair follows the geometric distribution")
    func timePerPair() {
        let time = TimePerPair(successProbability: 0.01, rateHz: 1000)
        #expect(relativeError(time.meanS, 0.1) < 1e-12)
        // P(N ≤ n) = 1 − 0.99ⁿ ≥ 0.95 first at n = 299 (0.99^298 = 0.05005…, 0.99^299 = 0.04955…).
        #expect(time.percentile95S == 0.299)
        #expect(time.medianS == 0.069)
        #expect(TimePerPair(successProbability: 1, rateHz: 10).percentile95S == 0.1)
        #expect(TimePerPair(successProbability: 0, rateHz: 10).meanS == .infinity)
    }
}
