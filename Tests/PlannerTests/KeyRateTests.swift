import Foundation
import LinkModel
import Testing
@testable import Planner

/// Closed forms of the key figures (docs/planner.md "Secret key" and "The repeaterless bound").
@Suite("Secret key rate, QBER and the repeaterless bound")
struct KeyRateTests {
    @Test("binary entropy: end points, symmetry, h(½) = 1, tabulated values")
    func binaryEntropy() {
        #expect(KeyRate.binaryEntropy(0) == 0)
        #expect(KeyRate.binaryEntropy(1) == 0)
        #expect(KeyRate.binaryEntropy(0.5) == 1)
        for p in [0.001, 0.02, 0.11, 0.3] {
            #expect(abs(KeyRate.binaryEntropy(p) - KeyRate.binaryEntropy(1 - p)) < 1e-15)
        }
        // h(0.01) = 0.0807931…, h(0.1) = 0.4689955…
        #expect(abs(KeyRate.binaryEntropy(0.01) - 0.080_793_135_895_911_4) < 1e-12)
        #expect(abs(KeyRate.binaryEntropy(0.1) - 0.468_995_593_589_281_2) < 1e-12)
    }

    @Test("secret fraction 1 − f h(e_bit) − h(e_phase): perfect key, the 11 % Shor–Preskill threshold, f")
    func secretFraction() {
        #expect(KeyRate.secretFraction(bitError: 0, phaseError: 0, errorCorrectionEfficiency: 1.1) == 1)
        // 1 − 2h(e) = 0 at e = 11.0028 % (Shor & Preskill 2000).
        #expect(abs(KeyRate.secretFraction(bitError: 0.110_028, phaseError: 0.110_028, errorCorrectionEfficiency: 1)) < 1e-5)
        #expect(KeyRate.secretFraction(bitError: 0.12, phaseError: 0.12, errorCorrectionEfficiency: 1) < 0)
        let e = 0.03, h = KeyRate.binaryEntropy(e)
        #expect(abs(KeyRate.secretFraction(bitError: e, phaseError: e, errorCorrectionEfficiency: 1.16) - (1 - 2.16 * h)) < 1e-15)
        #expect(KeyRate.siftingRatio(probabilityZ: 0.5) == 0.5)
        #expect(abs(KeyRate.siftingRatio(probabilityZ: 0.9) - 0.82) < 1e-15)
    }

    @Test("asymptotic bits per pair: both bases keyed; symmetric bases give ½(1 − f h − h) for equal errors")
    func asymptotic() {
        let e = 0.02, h = KeyRate.binaryEntropy(e)
        let symmetric = KeySettings(probabilityZ: 0.5, errorCorrectionEfficiency: 1.1)
        #expect(abs(KeyRate.asymptoticBitsPerPair(qberZ: e, qberX: e, settings: symmetric) - 0.5 * (1 - 2.1 * h)) < 1e-15)
        let biased = KeySettings(probabilityZ: 0.9, errorCorrectionEfficiency: 1.1)
        #expect(abs(KeyRate.asymptoticBitsPerPair(qberZ: e, qberX: e, settings: biased) - 0.82 * (1 - 2.1 * h)) < 1e-15)
        // Above the threshold no key, never a negative rate.
        #expect(KeyRate.asymptoticBitsPerPair(qberZ: 0.2, qberX: 0.2, settings: symmetric) == 0)
    }

    @Test("a Werner state of visibility V has e = (1 − V)/2 in both bases and the key of that error")
    func werner() {
        for v in [1.0, 0.96, 0.9, 0.8] {
            let f = (3 * v + 1) / 4
            let state = HeraldedState(successProbability: 1e-3, population: f / 2 + (1 - f) / 6, coherence: f / 2 - (1 - f) / 6)
            let key = KeyFigures(state: state, rateHz: 1e6, transmissivity: 0.01, settings: KeySettings())
            #expect(abs(key.qberZ - (1 - v) / 2) < 1e-12)
            #expect(abs(key.qberX - (1 - v) / 2) < 1e-12)
            let perPair = 0.5 * max(0, 1 - 2.1 * KeyRate.binaryEntropy((1 - v) / 2))
            #expect(abs(key.secretBitsPerPair - perPair) < 1e-12)
            #expect(abs(key.keyRateBitsPerS - 1e3 * perPair) < 1e-9)
            #expect(abs(key.keyBitsPerAttempt - 1e-3 * perPair) < 1e-15)
        }
    }

    @Test("finite key (Tomamichel et al. 2012): μ by hand, ℓ below the asymptote and tending to it as n grows")
    func finiteKey() {
        // μ = √((n+k)/(nk) · (k+1)/k · ln(4/ε)) for n = k = 10⁶, ε = 10⁻¹⁰: √(2·10⁻⁶ · 1.000001 · 24.4121…) = 6.9874…·10⁻³.
        let mu = KeyRate.finiteKeyDeviation(keyBits: 1e6, estimationBits: 1e6, epsilonSecrecy: 1e-10)
        #expect(abs(mu - (2e-6 * 1.000_001 * log(4e10)).squareRoot()) < 1e-15)
        #expect(abs(mu - 6.9874e-3) < 1e-6)
        let e = 0.02
        var previous = 0.0
        for n in [1e4, 1e5, 1e6, 1e8, 1e12] {
            let settings = KeySettings(probabilityZ: 0.5, errorCorrectionEfficiency: 1.1, blockSize: n)
            let finite = KeyRate.finiteBitsPerPair(qberZ: e, qberX: e, settings: settings)
            // Key from the Z basis only: at most a quarter of the pairs (p_Z²) at the asymptotic fraction.
            let bound = 0.25 * (1 - 2.1 * KeyRate.binaryEntropy(e))
            #expect(finite <= bound + 1e-15)
            #expect(finite >= previous)
            previous = finite
        }
        #expect(abs(previous - 0.25 * (1 - 2.1 * KeyRate.binaryEntropy(e))) < 1e-3)
        // The length itself, by hand, for n = 10⁶ and e = 2 %.
        let settings = KeySettings(blockSize: 1e6)
        let expected = 1e6 * (1 - KeyRate.binaryEntropy(e + mu)) - 1.1 * 1e6 * KeyRate.binaryEntropy(e) - log2(2 / (1e-20 * 1e-15))
        #expect(abs(KeyRate.finiteKeyLength(qberZ: e, qberX: e, settings: settings) - expected) < 1e-6)
        // Too small a block leaves nothing.
        #expect(KeyRate.finiteKeyLength(qberZ: e, qberX: e, settings: KeySettings(blockSize: 100)) == 0)
    }

    @Test("PLOB −log₂(1 − η): Pirandola et al. 2017 values for 0.2 dB/km fibre, ≈ 1.44 η for small η")
    func plob() {
        #expect(KeyRate.plobBound(transmissivity: 0.5) == 1)
        #expect(KeyRate.plobBound(transmissivity: 0) == 0)
        #expect(KeyRate.plobBound(transmissivity: 1) == .infinity)
        // 0.2 dB/km: 50 km → η = 0.1, 100 km → 0.01, 200 km → 10⁻⁴, 500 km → 10⁻¹⁰.
        func eta(_ km: Double) -> Double { pow(10, -0.2 * km / 10) }
        #expect(abs(KeyRate.plobBound(transmissivity: eta(50)) - 0.152_003_093_445_049_3) < 1e-12)
        #expect(abs(KeyRate.plobBound(transmissivity: eta(100)) - 0.014_499_569_695_115_1) < 1e-12)
        #expect(abs(KeyRate.plobBound(transmissivity: eta(200)) / 1e-4 - 1.442_767_180_450) < 1e-9)
        // Small η: 1/ln 2 = 1.4427 bits per unit of transmissivity, exactly in the limit.
        #expect(abs(KeyRate.plobBound(transmissivity: eta(500)) / eta(500) - 1 / M_LN2) < 1e-9)
    }

    @Test("a published BBM92 experiment: Honjo et al. 2008, 100 km of fibre, key rate from its sifted rate and QBER within 10 %")
    func honjo2008() {
        // H. Honjo et al., Opt. Express 16, 19118 (2008): time-bin entangled pairs over 100 km, both labs choosing the
        // basis passively with probability ½; in ≈ 8 h a 16 kbit sifted key at 0.59 bit/s with QBER 6.9 %, from which
        // 3.9 kbit of secure key were distilled. The run's length follows from the sifted key and its rate.
        let siftedRateHz = 0.59, qber = 0.069
        let runS = 16_000 / siftedRateHz
        let publishedKeyRateHz = 3_900 / runS
        let settings = KeySettings()  // p_Z = ½, f = 1.1
        let detectedPairsHz = siftedRateHz / KeyRate.siftingRatio(probabilityZ: settings.probabilityZ)
        let keyRateHz = detectedPairsHz * KeyRate.asymptoticBitsPerPair(qberZ: qber, qberX: qber, settings: settings)
        #expect(abs(keyRateHz / publishedKeyRateHz - 1) < 0.10, "\(keyRateHz) bit/s against the published \(publishedKeyRateHz) bit/s")
        // The same in secret bits per sifted bit: 0.239 against the published 3.9/16 = 0.244.
        #expect(abs(KeyRate.secretFraction(bitError: qber, phaseError: qber, errorCorrectionEfficiency: 1.1) - 0.2394) < 1e-4)
    }
}
