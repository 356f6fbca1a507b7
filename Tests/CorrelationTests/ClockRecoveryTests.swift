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
            let found = try OffsetSearch().run(a: data.a, b: data.b)
            let expected = data.truth(data.a[0])
            #expect(abs(Double(found.offsetPs) - expected) < 20_000, "offset \(found.offsetPs) vs \(expected)")
            var tracker = ClockTracker()
            tracker.blockPs = 10_000_000_000
            tracker.initialHalfWidthPs = 60_000
            let track = try tracker.track(a: data.a, b: data.b, initialOffsetPs: found.offsetPs)
            #expect(abs(track.meanDriftPpm - 2) < 0.05, "drift \(track.meanDriftPpm) ppm")
            let settled = track.samples.dropFirst(10)
            let squares = settled.map { pow2($0.offsetPs - data.truth($0.timePs)) }
            let rms = (squares.reduce(0, +) / Double(max(1, squares.count))).squareRoot()
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

    @Test("the FFT cross-correlation matches a direct sum")
    func fftMatchesDirect() throws {
        var rng = SeededGenerator(seed: 3)
        let a = (0..<64).map { _ in rng.nextUnit() }, b = (0..<64).map { _ in rng.nextUnit() }
        let fast = try FFT.circularCrossCorrelation(a, b)
        for k in [0, 1, 17, 63] {
            let direct = (0..<64).map { a[$0] * b[($0 + k) % 64] }.reduce(0, +)
            #expect(abs(fast[k] - direct) < 1e-9)
        }
        #expect(throws: CorrelationError.self) { try FFT.circularCrossCorrelation([1, 2, 3], [1, 2, 3]) }
    }
}

func pow2(_ x: Double) -> Double { x * x }
