import Foundation
import Testing
@testable import Simulation

@Suite("Clocks and faults")
struct ClockAndFaultTests {
    /// Recorded time the clock model declares for true time t (no wander, no jumps).
    static func declared(_ t: Int64, offsetPs: Int64, ppm: Double) -> Int64 {
        t + offsetPs + Int64((Double(t) * ppm * 1e-6).rounded(.toNearestOrAwayFromZero))
    }

    @Test("offset and frequency error are applied exactly as declared")
    func offsetAndDrift() throws {
        let scenario = PairSourceScenario(
            pairRateHz: 100_000,
            labA: PairSourceLab(fibreDelayPs: 1_000, clock: ClockModel(offsetPs: 1_234_567, frequencyErrorPpm: 3.5)),
            labB: PairSourceLab(fibreDelayPs: 2_000, clock: ClockModel(offsetPs: -999, frequencyErrorPpm: -12.25)))
        let (streams, truth) = try runSimulation(.pairSource(scenario), durationPs: 200_000_000_000)
        let a = try #require(streams[.labA]), b = try #require(streams[.labB])
        #expect(a.times.count > 15_000 && a.times.count == a.trueTimes.count)
        #expect(zip(a.times, a.trueTimes).allSatisfy { $0 == Self.declared($1, offsetPs: 1_234_567, ppm: 3.5) })
        #expect(zip(b.times, b.trueTimes).allSatisfy { $0 == Self.declared($1, offsetPs: -999, ppm: -12.25) })
        // Each true detection time is an emission time plus the fibre delay: pairs share emission times.
        let emittedA = Set(a.trueTimes.map { $0 - 1_000 }), emittedB = Set(b.trueTimes.map { $0 - 2_000 })
        #expect(emittedA == emittedB)
        #expect(truth.stream(.labA)?.clock.offsetPs == 1_234_567 && truth.stream(.labB)?.delayPs == 2_000)
    }

    @Test("wander follows the ground-truth random walk, whose steps have the declared spread")
    func wander() throws {
        let interval: Int64 = 100_000_000, step = 40.0
        let scenario = PairSourceScenario(
            pairRateHz: 200_000,
            labA: PairSourceLab(clock: ClockModel(offsetPs: 77, frequencyErrorPpm: 1, wanderStepPs: step, wanderIntervalPs: interval)))
        let (streams, truth) = try runSimulation(.pairSource(scenario), durationPs: 100_000_000_000)
        let a = try #require(streams[.labA])
        let knots = try #require(truth.stream(.labA)?.wanderKnotsPs)
        #expect(knots.count >= 1_000)
        for (recorded, t) in zip(a.times, a.trueTimes) {
            let k = Int(t / interval)
            let w = knots[k] + Double(t - Int64(k) * interval) / Double(interval) * (knots[k + 1] - knots[k])
            let expected = t + 77 + Int64((Double(t) * 1e-6 + w).rounded(.toNearestOrAwayFromZero))
            if abs(recorded - expected) > 1 { Issue.record("tag at \(t): \(recorded) vs \(expected)"); break }
        }
        let steps = zip(knots, knots.dropFirst()).map { $1 - $0 }
        let sd = (steps.reduce(0) { $0 + $1 * $1 } / Double(steps.count)).squareRoot()
        #expect(within(sd, step, sigma: step / (2 * Double(steps.count)).squareRoot()))
    }

    @Test("clock jumps shift recordings from their time on; a backward jump loses overlapping events as a gap")
    func clockJumps() throws {
        let faults = FaultSchedule([
            ScheduledFault(atPs: 1_000_000_000, kind: .clockJump(stream: .labA, jumpPs: 777)),
            ScheduledFault(atPs: 2_000_000_000, kind: .clockJump(stream: .labB, jumpPs: -200_000_000)),
        ])
        let rate = 1e7, durationPs: Int64 = 3_000_000_000
        let scenario = PairSourceScenario(pairRateHz: rate, labA: PairSourceLab(), labB: PairSourceLab(), faults: faults)
        let (streams, truth) = try runSimulation(.pairSource(scenario), durationPs: durationPs, targetTagsPerStep: 1_000)
        let a = try #require(streams[.labA]), b = try #require(streams[.labB])
        #expect(zip(a.times, a.trueTimes).allSatisfy { $0 == $1 + ($1 >= 1_000_000_000 ? 777 : 0) })
        #expect(zip(b.times, b.trueTimes).allSatisfy { $0 == $1 - ($1 >= 2_000_000_000 ? 200_000_000 : 0) })
        #expect(isNonDecreasing(a.times) && isNonDecreasing(b.times))
        // Events recorded before the last recording of the old clock are lost and reported.
        let lost = b.gaps.reduce(0) { $0 + ($1.lostEvents ?? 0) }
        #expect(lost > 500 && b.gaps.allSatisfy { $0.startPs <= $0.endPs })
        let expected = rate * Double(durationPs) / psPerSecond
        #expect(within(Double(b.times.count) + Double(lost), expected, sigma: expected.squareRoot()))
        #expect(within(Double(a.times.count), expected, sigma: expected.squareRoot()))
        #expect(truth.faults.count == 2 && truth.stream(.labB)?.clockJumps.first?.jumpPs == -200_000_000)
    }

    @Test("a loss step lowers the rate by 10^(−dB/10) from its time; a dark detector records nothing")
    func lossStepAndDarkDetector() throws {
        let step: Int64 = 50_000_000_000, darkFrom: Int64 = 20_000_000_000, darkFor: Int64 = 10_000_000_000
        let faults = FaultSchedule([
            ScheduledFault(atPs: step, kind: .lossStep(arm: .b, extraLossDb: 3)),
            ScheduledFault(atPs: darkFrom, kind: .detectorDark(stream: .labA, detector: 1, durationPs: darkFor)),
        ])
        let scenario = PairSourceScenario(
            pairRateHz: 500_000, labA: PairSourceLab(armTransmission: 0.5),
            labB: PairSourceLab(armTransmission: 0.5, fibreDelayPs: 3_000), faults: faults)
        let (streams, truth) = try runSimulation(.pairSource(scenario), durationPs: 100_000_000_000)
        let a = try #require(streams[.labA]), b = try #require(streams[.labB])
        let before = Double(b.trueTimes.filter { $0 - 3_000 < step }.count)
        let after = Double(b.trueTimes.count) - before
        let expectedBefore = 500_000 * 0.5 * 0.05, expectedAfter = 500_000 * 0.5 * pow(10, -0.3) * 0.05
        #expect(within(before, expectedBefore, sigma: expectedBefore.squareRoot()))
        #expect(within(after, expectedAfter, sigma: expectedAfter.squareRoot()))
        let minusTimes = zip(a.trueTimes, a.channels).filter { $0.1 == 2 }.map(\.0)
        #expect(!minusTimes.contains { $0 >= darkFrom && $0 < darkFrom + darkFor })
        #expect(minusTimes.contains { $0 >= darkFrom + darkFor } && minusTimes.contains { $0 < darkFrom })
        #expect(a.trueTimes.contains { $0 >= darkFrom && $0 < darkFrom + darkFor })  // the other detector still counts
        let segments = try #require(truth.pairSourceSegments)
        #expect(segments.count == 2 && segments[1].startPs == step)
        #expect(abs(segments[1].detectionProbabilityB - 0.5 * pow(10, -0.3)) < 1e-12)
    }

    @Test("a visibility change shows in the correlations and in the truth segments")
    func visibilityChange() throws {
        let change: Int64 = 100_000_000_000
        let scenario = PairSourceScenario(
            pairRateHz: 200_000, state: .phiPlus, visibility: 0.95,
            labA: PairSourceLab(armTransmission: 0.5), labB: PairSourceLab(armTransmission: 0.5),
            faults: FaultSchedule([ScheduledFault(atPs: change, kind: .visibilityChange(visibility: 0.5))]))
        let (streams, truth) = try runSimulation(.pairSource(scenario), durationPs: 200_000_000_000)
        let a = try #require(streams[.labA]), b = try #require(streams[.labB])
        var counts = [[0.0, 0.0], [0.0, 0.0]]  // [period][same, total]
        for (i, j) in coincidences(a.times, b.times, offsetPs: 0, windowPs: 0) {
            let period = a.times[i] < change ? 0 : 1
            counts[period][1] += 1
            if a.channels[i] == b.channels[j] { counts[period][0] += 1 }
        }
        for (period, v) in [(0, 0.95), (1, 0.5)] {
            let n = counts[period][1]
            let e = (2 * counts[period][0] - n) / n
            #expect(within(e, v, sigma: ((1 - v * v) / n).squareRoot()))
        }
        let segments = try #require(truth.pairSourceSegments)
        #expect(segments.map(\.visibility) == [0.95, 0.5])
        #expect(abs(segments[1].fidelity - (1 + 3 * 0.5) / 4) < 1e-12)
    }
}
