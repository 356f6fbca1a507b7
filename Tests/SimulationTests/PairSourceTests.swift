import Foundation
import Testing
@testable import Simulation

@Suite("Pair source against theory")
struct PairSourceTests {
    static func lab(transmission: Double, efficiency: Double = 1, delayPs: Int64, darkHz: Double = 0,
                    jitterPs: Double = 0, bases: BasisSchedule = .fixed(.z), plus: Int32 = 1, minus: Int32 = 2) -> PairSourceLab {
        PairSourceLab(armTransmission: transmission, fibreDelayPs: delayPs,
                      detector: DetectorModel(efficiency: efficiency, darkCountRateHz: darkHz, jitterSigmaPs: jitterPs),
                      channels: OutcomeChannels(plus: plus, minus: minus), bases: bases)
    }

    @Test("singles, dark-count and coincidence rates match R·η + 2d and R·η_A·η_B + accidentals")
    func rates() throws {
        let rate = 1e6, dark = 2_000.0, seconds = 0.05
        let scenario = PairSourceScenario(
            pairRateHz: rate, state: .phiPlus, visibility: 1,
            labA: Self.lab(transmission: 0.5, efficiency: 0.8, delayPs: 5_000_000, darkHz: dark, jitterPs: 40),
            labB: Self.lab(transmission: 0.6, efficiency: 0.5, delayPs: 8_000_000, darkHz: dark, jitterPs: 60, plus: 3, minus: 4))
        let (streams, truth) = try runSimulation(.pairSource(scenario), durationPs: Int64(seconds * psPerSecond))
        let a = try #require(streams[.labA]), b = try #require(streams[.labB])
        let expectedA = (rate * 0.4 + 2 * dark) * seconds
        let expectedB = (rate * 0.3 + 2 * dark) * seconds
        #expect(within(Double(a.times.count), expectedA, sigma: expectedA.squareRoot()))
        #expect(within(Double(b.times.count), expectedB, sigma: expectedB.squareRoot()))
        // Z basis on Φ+: each outcome channel gets half.
        #expect(within(Double(a.count(channel: 1)), expectedA / 2, sigma: (expectedA / 4).squareRoot()))
        #expect(within(Double(b.count(channel: 4)), expectedB / 2, sigma: (expectedB / 4).squareRoot()))
        let segment = try #require(truth.pairSourceSegments?.first)
        #expect(abs(segment.singlesRateAHz - (rate * 0.4 + 2 * dark)) < 1e-6)
        let window: Int64 = 1_000
        let pairs = coincidences(a.times, b.times, offsetPs: 3_000_000, windowPs: window)
        let accidentals = expectedA / seconds * expectedB / seconds * Double(2 * window) / psPerSecond * seconds
        let expectedPairs = rate * 0.4 * 0.3 * seconds + accidentals
        #expect(within(Double(pairs.count), expectedPairs, sigma: expectedPairs.squareRoot()))
    }

    @Test("dark counts alone give 2d per lab, split evenly over the two detectors")
    func darkCounts() throws {
        let dark = 50_000.0, seconds = 0.2
        let scenario = PairSourceScenario(
            pairRateHz: 0, labA: Self.lab(transmission: 1, delayPs: 0, darkHz: dark),
            labB: Self.lab(transmission: 1, delayPs: 0, darkHz: 3 * dark))
        let (streams, _) = try runSimulation(.pairSource(scenario), durationPs: Int64(seconds * psPerSecond))
        let a = try #require(streams[.labA]), b = try #require(streams[.labB])
        let perDetector = dark * seconds
        #expect(within(Double(a.count(channel: 1)), perDetector, sigma: perDetector.squareRoot()))
        #expect(within(Double(a.count(channel: 2)), perDetector, sigma: perDetector.squareRoot()))
        #expect(within(Double(b.times.count), 6 * perDetector, sigma: (6 * perDetector).squareRoot()))
    }

    @Test("the spread of pair time differences is √(σ_A² + σ_B²)")
    func jitterWidth() throws {
        let sigmaA = 45.0, sigmaB = 70.0
        let scenario = PairSourceScenario(
            pairRateHz: 200_000,
            labA: Self.lab(transmission: 0.5, delayPs: 1_000_000, jitterPs: sigmaA),
            labB: Self.lab(transmission: 0.5, delayPs: 1_500_000, jitterPs: sigmaB))
        let (streams, _) = try runSimulation(.pairSource(scenario), durationPs: Int64(0.2 * psPerSecond))
        let a = try #require(streams[.labA]), b = try #require(streams[.labB])
        let pairs = coincidences(a.times, b.times, offsetPs: 500_000, windowPs: 800)
        let diffs = pairs.map { Double(b.times[$0.1] - a.times[$0.0] - 500_000) }
        let n = Double(diffs.count)
        #expect(n > 8_000)
        let mean = diffs.reduce(0, +) / n
        let sd = (diffs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
        let expected = (sigmaA * sigmaA + sigmaB * sigmaB).squareRoot()
        #expect(within(mean, 0, sigma: expected / n.squareRoot()))
        #expect(within(sd, expected, sigma: expected / (2 * n).squareRoot()))
    }

    @Test("Born-rule correlations E(a,b) = −V cos 2(a−b) for Ψ− with bases read from the markers")
    func bornCorrelations() throws {
        let v = 0.9
        let anglesA = [0.0, 45.0], anglesB = [22.5, 67.5]
        let scheduleA = BasisSchedule(bases: anglesA.map { .linear(analyserAngleDeg: $0) }, periodPs: 10_000_000, order: .random)
        let scheduleB = BasisSchedule(bases: anglesB.map { .linear(analyserAngleDeg: $0) }, periodPs: 7_000_000, order: .cyclic, markerBase: 10)
        let scenario = PairSourceScenario(
            pairRateHz: 200_000, state: .psiMinus, visibility: v,
            labA: Self.lab(transmission: 0.5, delayPs: 2_000_000, jitterPs: 30, bases: scheduleA),
            labB: Self.lab(transmission: 0.5, delayPs: 2_000_000, jitterPs: 30, bases: scheduleB))
        let (streams, truth) = try runSimulation(.pairSource(scenario), durationPs: Int64(0.4 * psPerSecond))
        let a = try #require(streams[.labA]), b = try #require(streams[.labB])
        #expect(a.markers.count == 40_000 && b.markers.count >= 57_000)
        var same = [[Double]](repeating: [0, 0], count: 4), total = [[Double]](repeating: [0, 0], count: 4)
        for (i, j) in coincidences(a.times, b.times, offsetPs: 0, windowPs: 400) {
            guard let ma = a.marker(at: a.times[i]), let mb = b.marker(at: b.times[j]) else { continue }
            let cell = Int(ma) * 2 + Int(mb - 10)
            total[cell][0] += 1
            if a.channels[i] == b.channels[j] { same[cell][0] += 1 }
        }
        var estimatedS = 0.0
        for ia in 0..<2 {
            for ib in 0..<2 {
                let cell = ia * 2 + ib
                let n = total[cell][0]
                #expect(n > 3_000)
                let e = (2 * same[cell][0] - n) / n
                let theory = -v * cos(2 * (anglesA[ia] - anglesB[ib]) * Double.pi / 180)
                #expect(within(e, theory, sigma: ((1 - theory * theory) / n).squareRoot()), "cell \(cell)")
                estimatedS += (ia == 0 && ib == 1) ? e : -e
            }
        }
        let segment = try #require(truth.pairSourceSegments?.first)
        #expect(abs((segment.chshS ?? 0) - 2 * 2.0.squareRoot() * v) < 1e-9)
        #expect(abs(segment.fidelity - (1 + 3 * v) / 4) < 1e-12)
        #expect(within(abs(estimatedS), 2 * 2.0.squareRoot() * v, sigma: 0.04))
    }

    @Test("dead time gives d/(1 + dτ) with no two tags of a detector closer than τ; afterpulses give d/(1 − p)")
    func deadTimeAndAfterpulses() throws {
        let dark = 5e6, tau: Int64 = 50_000
        var detector = DetectorModel(darkCountRateHz: dark, deadTimePs: tau)
        var lab = PairSourceLab(detector: detector)
        let seconds = 0.004
        let (streams, _) = try runSimulation(.pairSource(PairSourceScenario(pairRateHz: 0, labA: lab, labB: lab)),
                                             durationPs: Int64(seconds * psPerSecond))
        let a = try #require(streams[.labA])
        let expected = dark / (1 + dark * Double(tau) * 1e-12) * seconds
        #expect(within(Double(a.count(channel: 1)), expected, sigma: expected.squareRoot()))
        let ones = zip(a.times, a.channels).filter { $0.1 == 1 }.map(\.0)
        #expect(zip(ones, ones.dropFirst()).allSatisfy { $1 - $0 >= tau })

        detector = DetectorModel(darkCountRateHz: 20_000, deadTimePs: 10_000, afterpulseProbability: 0.05,
                                 afterpulseDelayMeanPs: 1_000_000)
        lab = PairSourceLab(detector: detector)
        let (after, _) = try runSimulation(.pairSource(PairSourceScenario(pairRateHz: 0, labA: lab, labB: lab)),
                                           durationPs: Int64(0.5 * psPerSecond))
        let count = Double(try #require(after[.labA]).times.count)
        let withoutAfterpulses: Double = 2 * 20_000 * 0.5
        let expectedAfter: Double = withoutAfterpulses / (1 - 0.05)
        #expect(within(count, expectedAfter, sigma: 1.1 * expectedAfter.squareRoot()))
        let noAfterpulseLimit: Double = withoutAfterpulses + 4 * withoutAfterpulses.squareRoot()
        #expect(count > noAfterpulseLimit)
    }

    @Test("the jitter tail delays a fraction f of the tags by an exponential of the declared mean")
    func jitterTail() throws {
        let fraction = 0.2, meanPs = 1_000.0
        let lab = PairSourceLab(detector: DetectorModel(jitterTailFraction: fraction, jitterTailMeanPs: meanPs))
        let (streams, _) = try runSimulation(.pairSource(PairSourceScenario(pairRateHz: 500_000, labA: lab, labB: lab)),
                                             durationPs: 100_000_000_000)
        let a = try #require(streams[.labA])
        let delays = zip(a.times, a.trueTimes).map { Double($0 - $1) }
        let n = Double(delays.count)
        let delayed = Double(delays.filter { $0 > 0 }.count)
        // An exponential delay rounds to 0 ps with probability 1 − e^(−0.5/mean).
        let pDelayed = fraction * exp(-0.5 / meanPs)
        #expect(within(delayed, pDelayed * n, sigma: (n * pDelayed * (1 - pDelayed)).squareRoot()))
        let meanDelay = delays.reduce(0, +) / n
        let variance = fraction * 2 * meanPs * meanPs - fraction * fraction * meanPs * meanPs
        #expect(within(meanDelay, fraction * meanPs, sigma: (variance / n).squareRoot()))
        #expect(delays.allSatisfy { $0 >= 0 && $0 <= 40 * meanPs + 1 })
    }
}
