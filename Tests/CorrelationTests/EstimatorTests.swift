import Correlation
import Foundation
import Testing
import TimeTags

@Suite("Estimators against simulated truth")
struct EstimatorTests {
    /// Draws `n` coincidences of a Werner state ρ = V|Φ+⟩⟨Φ+| + (1−V)·I/4 measured along angles θa, θb in the
    /// X–Z plane (Born rule: P(a, b) = (1 + a·b·V·cos(θa − θb))/4), or for Y⊗Y (E = −V).
    static func werner(_ rng: inout SeededGenerator, n: Int, visibility: Double, correlation: Double) -> JointCounts {
        var cells = [Double](repeating: 0, count: 4)
        let pSame = (1 + visibility * correlation) / 2
        for _ in 0..<n {
            let same = rng.nextUnit() < pSame
            let aPlus = rng.nextUnit() < 0.5
            let index = aPlus ? (same ? 0 : 1) : (same ? 3 : 2)
            cells[index] += 1
        }
        return JointCounts(cells: cells)
    }

    @Test("E, visibility, fidelity, its Z+X bound and CHSH S lie within 3 standard errors of the truth",
          arguments: [11, 12, 13, 14, 15] as [UInt64])
    func werner(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let v = 0.9
        let n = 4000
        let z = try BellEstimators.correlation(raw: Self.werner(&rng, n: n, visibility: v, correlation: 1))
        let x = try BellEstimators.correlation(raw: Self.werner(&rng, n: n, visibility: v, correlation: 1))
        let y = try BellEstimators.correlation(raw: Self.werner(&rng, n: n, visibility: v, correlation: -1))
        #expect(abs(z.value - v) < 3 * z.standardError)
        #expect(abs(y.value + v) < 3 * y.standardError)
        let f = BellEstimators.fidelity(to: .phiPlus, z: z, x: x, y: y)
        #expect(abs(f.value - (1 + 3 * v) / 4) < 3 * f.standardError)
        let bound = BellEstimators.fidelityLowerBound(to: .phiPlus, z: z, x: x)
        #expect(abs(bound.value - v) < 3 * bound.standardError)
        #expect(bound.value < f.value + 3 * f.standardError)
        // CHSH at a = 0, a' = π/2, b = π/4, b' = 3π/4: S = 2√2·V.
        let angles: [(Double, Double)] = [(0, .pi / 4), (0, 3 * .pi / 4), (.pi / 2, .pi / 4), (.pi / 2, 3 * .pi / 4)]
        let e = try angles.map { try BellEstimators.correlation(raw: Self.werner(&rng, n: n, visibility: v, correlation: cos($0.0 - $0.1))) }
        let s = BellEstimators.chsh(ab: e[0], abPrime: e[1], aPrimeB: e[2], aPrimeBPrime: e[3])
        #expect(abs(s.value - 2 * 2.0.squareRoot() * v) < 3 * s.standardError)
        #expect(abs(s.standardError - 2 * ((1 - 0.405) / Double(n)).squareRoot()) < 0.005)
        // The Poisson error matches the spread over seeds: checked through the 3σ tests above and here
        // against the closed form √((1 − E²)/N).
        #expect(abs(z.standardError - ((1 - z.value * z.value) / Double(n)).squareRoot()) < 1e-12)
    }

    @Test("bootstrap interval is deterministic for a seed and brackets the estimate")
    func bootstrap() throws {
        var rng = SeededGenerator(seed: 99)
        let counts = Self.werner(&rng, n: 2000, visibility: 0.8, correlation: 1)
        let e = try BellEstimators.correlation(raw: counts)
        let estimator: ([Double]) -> Double? = { cells in try? BellEstimators.correlation(raw: JointCounts(cells: cells)).value }
        let first = Bootstrap.interval(for: e, counts: counts.cells, replicates: 400, seed: 5, estimator: estimator)
        let second = Bootstrap.interval(for: e, counts: counts.cells, replicates: 400, seed: 5, estimator: estimator)
        #expect(first == second)
        let low = try #require(first.bootstrapLow), high = try #require(first.bootstrapHigh)
        #expect(low < e.value && e.value < high)
        // The 95 % interval is about ±1.96 standard errors.
        #expect(abs((high - low) / 2 - 1.96 * e.standardError) < 0.5 * e.standardError)
    }

    @Test("accidentals from singles and side windows agree with the true accidental rate on random streams")
    func accidentals() throws {
        // Uncorrelated 1 MHz-scale streams: every coincidence is accidental.
        let batch = SyntheticStreams.random(seed: 4, events: 40_000, channels: [0, 1], durationPs: 20_000_000_000)
        let spec = CoincidenceSpec(ChannelPair(0, 1), window: try CoincidenceWindow(halfWidthPs: 20_000))
        let sides = Accidentals.sideWindows(of: spec, count: 3, spacingPs: 100_000)
        var counter = try CoincidenceCounter(specs: [spec] + sides)
        try counter.process(batch)
        counter.finish()
        let singles = counter.singles
        let fromSingles = try Accidentals.fromSingles(singlesA: singles[0] ?? 0, singlesB: singles[1] ?? 0,
                                                      windowPs: spec.window.widthPs, durationPs: 20_000_000_000)
        let fromSides = try Accidentals.fromSideWindows(Array(counter.counts.dropFirst()))
        let raw = counter.counts[0]
        #expect(abs(Double(raw) - fromSingles.value) < 3 * (fromSingles.value.squareRoot() + fromSingles.standardError))
        #expect(abs(fromSides.value - fromSingles.value) < 3 * (fromSides.standardError + fromSingles.standardError))
        let car = try Accidentals.car(raw: raw, accidentals: fromSingles)
        #expect(abs(car.value - 1) < 3 * car.standardError)
        let g2 = try Accidentals.g2Zero(coincidences: raw, singlesA: singles[0] ?? 0, singlesB: singles[1] ?? 0,
                                        windowPs: spec.window.widthPs, durationPs: 20_000_000_000)
        #expect(abs(g2.value - 1) < 3 * g2.standardError)
        let subtracted = Accidentals.subtracted(raw: raw, accidentals: fromSides)
        #expect(abs(subtracted.value) < 3 * subtracted.standardError)
    }

    @Test("accidental subtraction restores the visibility of a state diluted by uncorrelated background")
    func subtractedCorrelation() throws {
        var rng = SeededGenerator(seed: 8)
        var counts = Self.werner(&rng, n: 20_000, visibility: 1, correlation: 1)
        let background = 2_000.0
        counts = JointCounts(cells: counts.cells.map { $0 + background })
        let accidentals = (0..<4).map { _ in Estimate(background, standardError: 20) }
        let raw = try BellEstimators.correlation(raw: counts)
        let corrected = try BellEstimators.correlation(raw: counts, accidentals: accidentals)
        #expect(raw.value < 0.75)
        #expect(abs(corrected.value - 1) < 3 * corrected.standardError + 0.01)
        #expect(corrected.standardError > raw.standardError)
    }

    @Test("delay calibration finds a known delay to a fraction of a bin")
    func delayCalibration() throws {
        let batch = SyntheticStreams.random(seed: 6, events: 2000, channels: [0, 1], durationPs: 2_000_000_000,
                                            pairs: 3000, delayPs: 1234, jitterPs: 60)
        let histogram = try HistogramBuilder.build(batch, histograms: [try CorrelationHistogram(pair: ChannelPair(0, 1), rangePs: 5000, binWidthPs: 100)])[0]
        let result = try DelayCalibration.findDelay(histogram)
        #expect(abs(result.delayPs - 1234) < max(5, 4 * result.standardErrorPs))
        #expect(result.standardErrorPs < 10)
    }
}
