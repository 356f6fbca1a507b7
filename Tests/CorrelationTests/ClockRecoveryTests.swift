import Correlation
import Foundation
import Testing

@Suite("Clock recovery between two labs")
struct ClockRecoveryTests {
    /// Lab A and lab B streams: pairs at `pairRateHz` (B clock = t·(1+drift(t)) + offset), plus singles.
    static func labs(seed: UInt64, durationS: Double, pairRateHz: Double, singlesRateHz: Double, offsetPs: Double,
                     driftPpm: Double, wanderPpm: Double = 0, wanderPeriodS: Double = 600) -> (a: [Int64], b: [Int64], truth: (Int64) -> Double) {
        var rng = SeededGenerator(seed: seed)
        let durationPs = durationS * 1e12
        // Offset of B's clock against A's time: integral of the fractional frequency difference.
        let truth: (Int64) -> Double = { t in
            let seconds = Double(t) * 1e-12
            let phase: Double = 2 * Double.pi * seconds / wanderPeriodS
            let amplitude: Double = wanderPpm * 1e-6 * wanderPeriodS / (2 * Double.pi)
            let wander: Double = amplitude * (1 - cos(phase))
            let linear: Double = driftPpm * 1e-6 * Double(t)
            return offsetPs + linear + wander * 1e12
        }
        var a: [Int64] = [], b: [Int64] = []
        var t = 0.0
        while true {
            t += rng.nextExponential(mean: 1e12 / pairRateHz)
            if t >= durationPs { break }
            let ta = Int64(t + rng.nextGaussian() * 35)
            a.append(ta)
            b.append(Int64(t + truth(Int64(t)) + rng.nextGaussian() * 35))
        }
        for _ in 0..<Int(singlesRateHz * durationS) {
            let ta = rng.nextUnit() * durationPs
            a.append(Int64(ta))
            b.append(Int64(rng.nextUnit() * durationPs + truth(Int64(ta))))
        }
        a.sort(); b.sort()
        return (a, b, truth)
    }

    @Test("a +7.3 ms offset with 2 ppm drift is found from the data alone and tracked")
    func recoversOffset() throws {
        for seed in [1, 2] as [UInt64] {
            let data = Self.labs(seed: seed, durationS: 0.5, pairRateHz: 10_000, singlesRateHz: 20_000,
                                 offsetPs: 7.3e9, driftPpm: 2)
            var settings = ClockRecoverySettings()
            settings.blockPs = 10_000_000_000
            let (stream, events) = try recoverClock(data.a, data.b, chunk: 65_536, settings: settings)
            #expect(events.count == 1, "\(events)")
            let start = try #require(data.a.first)
            let found = try #require(stream.offsetPs(atAPs: start))
            #expect(abs(found - data.truth(start)) < 100, "offset \(found) vs \(data.truth(start))")
            let estimate = try #require(stream.estimate)
            #expect(abs(estimate.driftPpm.value - 2) < 0.05, "drift \(estimate.driftPpm) ppm")
            let settled = stream.track.samples.dropFirst(10)
            let squares = settled.map { pow2($0.offsetPs - data.truth($0.timePs)) }
            let rms = (squares.reduce(0, +) / Double(max(1, squares.count))).squareRoot()
            #expect(settled.count > 20)
            #expect(rms < 50, "offset residual \(rms) ps RMS")
        }
    }

    @Test("2 ppm drift plus slow wander over one hour is tracked with residual below 50 ps RMS")
    func tracksOneHour() throws {
        let truthOffset = 1_234_567.0
        let data = Self.labs(seed: 7, durationS: 3600, pairRateHz: 100, singlesRateHz: 20, offsetPs: truthOffset,
                             driftPpm: 2, wanderPpm: 0.05, wanderPeriodS: 900)
        var tracker = ClockTracker()
        tracker.blockPs = 2_000_000_000_000
        tracker.initialHalfWidthPs = 10_000_000
        // Start from an offset 3 ns off and a frequency estimate 0.1 ppm off (as a short recovery gives).
        let track = try tracker.track(a: data.a, b: data.b, initialOffsetPs: Int64(truthOffset) + 3_000, initialDriftPpm: 1.9)
        let settled = track.samples.dropFirst(20)
        let squares = settled.map { pow2($0.offsetPs - data.truth($0.timePs)) }
        let rms = (squares.reduce(0, +) / Double(max(1, squares.count))).squareRoot()
        #expect(settled.count > 1500)
        #expect(rms < 50, "offset residual \(rms) ps RMS")
        #expect(abs(track.meanDriftPpm - 2) < 0.1)
        #expect(track.residualJitterPs > 30, "jitter \(track.residualJitterPs) ps")
        #expect(track.residualJitterPs < 120, "jitter \(track.residualJitterPs) ps")
    }

    @Test("the FFT matches a direct discrete Fourier transform, and its inverse restores the input")
    func fftMatchesDirect() throws {
        var rng = SeededGenerator(seed: 3)
        let x = (0..<64).map { _ in rng.nextUnit() }
        var re = x, im = [Double](repeating: 0, count: 64)
        try FFT.transform(real: &re, imag: &im)
        for k in [0, 1, 17, 63] {
            let angle = { (n: Int) in -2 * Double.pi * Double(k * n) / 64 }
            let directRe = (0..<64).map { x[$0] * cos(angle($0)) }.reduce(0, +)
            let directIm = (0..<64).map { x[$0] * sin(angle($0)) }.reduce(0, +)
            #expect(abs(re[k] - directRe) < 1e-9 && abs(im[k] - directIm) < 1e-9, "bin \(k)")
        }
        try FFT.transform(real: &re, imag: &im, inverse: true)
        #expect(zip(re, x).allSatisfy { abs($0 - $1) < 1e-12 })
        var three = [1.0, 2, 3], zeros = [0.0, 0, 0]
        #expect(throws: CorrelationError.self) { try FFT.transform(real: &three, imag: &zeros) }
    }
}

func pow2(_ x: Double) -> Double { x * x }
