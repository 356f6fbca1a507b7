import Correlation
import Testing
import TimeTags

@Suite("Streaming clock recovery")
struct ClockRecoveryStreamTests {
    @Test("a −3.7 µs offset with 1 ppm drift locks with the defaults, in any chunk size", arguments: [1_000, 65_536, Int.max])
    func locksOnSmallDrift(chunk: Int) throws {
        let labs = ClockLabs(offsetPs: -3.7e6, driftPpm: 1, pairRateHz: 20_000, singlesRateHz: 20_000, durationS: 1)
        let data = labs.generate(seed: 11)
        let (stream, events) = try recoverClock(data.a, data.b, chunk: chunk)
        #expect(stream.state == .locked)
        let estimate = try #require(stream.estimate)
        let truth = labs.truthPs(estimate.atPs)
        #expect(abs(estimate.offsetPs.value - truth) < max(100, 5 * estimate.offsetPs.standardError), "offset \(estimate.offsetPs) vs \(truth)")
        #expect(abs(estimate.driftPpm.value - 1) < 0.05, "drift \(estimate.driftPpm)")
        #expect(events.count == 1)
        if case .acquired = events.first {} else { Issue.record("first event \(String(describing: events.first))") }
        let final = try #require(stream.finalThroughPs)
        #expect(final == .max)
        let last = try #require(data.a.last)
        #expect(abs((stream.offsetPs(atAPs: last) ?? 0) - labs.truthPs(last)) < 100)
    }
}

@Suite("Clock recovery with the defaults across offsets, drifts and chunkings")
struct ClockRecoveryFamilyTests {
    static let drifts: [Double] = [-50, -20, 0, 2, 35, 50]
    static let chunks = [1_000, 65_536, Int.max]

    @Test("locks within 10 s at 1 000 pairs/s; offset and drift within 3σ of the truth",
          arguments: [-10e9, -3.7e6, 0, 9.9e9])
    func locksAcrossFamily(offsetPs: Double) throws {
        for (index, drift) in Self.drifts.enumerated() {
            let labs = ClockLabs(offsetPs: offsetPs, driftPpm: drift, pairRateHz: 1_000, singlesRateHz: 20_000, durationS: 3,
                                 rampS: index % 2 == 0 ? 0.05 : 0)
            let data = labs.generate(seed: UInt64(100 + index) &+ UInt64(bitPattern: Int64(offsetPs / 1e6)))
            let (stream, events) = try recoverClock(data.a, data.b, chunk: Self.chunks[index % 3])
            let context = "offset \(offsetPs) ps, drift \(drift) ppm"
            #expect(stream.state == .locked, "\(context)")
            guard case .acquired(let atPs, _, _, let significance)? = events.first else {
                Issue.record("no acquisition, \(context): last attempt \(String(describing: stream.lastAttempt))"); continue
            }
            #expect(atPs == data.a[0], "\(context)")
            #expect((stream.lastAttempt?.spanPs ?? .max) <= 10_000_000_000_000)
            #expect(events.count == 1, "\(context): \(events)")
            let estimate = try #require(stream.estimate)
            let offsetPull = (estimate.offsetPs.value - labs.truthPs(estimate.atPs)) / estimate.offsetPs.standardError
            let driftPull = (estimate.driftPpm.value - drift) / estimate.driftPpm.standardError
            #expect(abs(offsetPull) < 3, "\(context): offset \(estimate.offsetPs) vs \(labs.truthPs(estimate.atPs)), significance \(significance)")
            #expect(abs(driftPull) < 3, "\(context): drift \(estimate.driftPpm)")
            #expect(estimate.offsetPs.standardError < 20, "\(context)")
        }
    }
}

/// Low signal ratio R/√(r_A·r_B): 1 000 pairs/s among 150 kHz singles per lab (6.7·10⁻³), where the coarse
/// peak ranks among the best noise cells instead of clearing a threshold set for all of them; the candidates'
/// refinements find it. About a minute of CPU per case in a debug build (2–4 acquisition attempts of 2²³ cells).
@Suite("Clock recovery with the defaults at a low signal ratio")
struct ClockRecoveryLowSignalTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var offsetPs: Double
        var driftPpm: Double
        var seed: UInt64
        var testDescription: String { "\(offsetPs / 1e9) ms, \(driftPpm) ppm, seed \(seed)" }
    }

    @Test("1 000 pairs/s among 150 kHz singles: locked within 10 s of data, offset and drift within 3σ of the truth",
          arguments: [Case(offsetPs: -10e9, driftPpm: -50, seed: 41), Case(offsetPs: 9.9e9, driftPpm: 50, seed: 42),
                      Case(offsetPs: -3.7e6, driftPpm: 20, seed: 43)])
    func locksAtLowSignal(_ row: Case) throws {
        let labs = ClockLabs(offsetPs: row.offsetPs, driftPpm: row.driftPpm, pairRateHz: 1_000, singlesRateHz: 150_000, durationS: 4.5)
        let data = labs.generate(seed: row.seed)
        let (stream, events) = try recoverClock(data.a, data.b, chunk: 65_536)
        #expect(stream.state == .locked, "\(stream.lastAttempt?.summary ?? "no attempt")")
        guard case .acquired? = events.first else { Issue.record("no acquisition: \(stream.lastAttempt?.summary ?? "")"); return }
        let attempt = try #require(stream.lastAttempt)
        #expect(attempt.spanPs <= 10_000_000_000_000)
        #expect(events.count == 1, "\(events)")
        let estimate = try #require(stream.estimate)
        let offsetPull = (estimate.offsetPs.value - labs.truthPs(estimate.atPs)) / estimate.offsetPs.standardError
        let driftPull = (estimate.driftPpm.value - row.driftPpm) / estimate.driftPpm.standardError
        #expect(abs(offsetPull) < 3, "offset \(estimate.offsetPs) vs \(labs.truthPs(estimate.atPs))")
        #expect(abs(driftPull) < 3, "drift \(estimate.driftPpm)")
    }
}

@Suite("Clock recovery: honest errors, loss of lock, no false lock")
struct ClockRecoveryLockTests {
    @Test("offset and drift pulls against the truth have roughly unit width over seeds")
    func pullsHaveUnitWidth() throws {
        var pulls: [Double] = []
        for seed in 1...12 as ClosedRange<UInt64> {
            let labs = ClockLabs(offsetPs: -3.7e6, driftPpm: 35, pairRateHz: 2_000, singlesRateHz: 20_000, durationS: 2)
            let data = labs.generate(seed: 300 + seed)
            let (stream, _) = try recoverClock(data.a, data.b, chunk: 65_536)
            let estimate = try #require(stream.estimate)
            pulls.append((estimate.offsetPs.value - labs.truthPs(estimate.atPs)) / estimate.offsetPs.standardError)
            pulls.append((estimate.driftPpm.value - 35) / estimate.driftPpm.standardError)
        }
        let rms = (pulls.map { $0 * $0 }.reduce(0, +) / Double(pulls.count)).squareRoot()
        #expect(rms > 0.5 && rms < 1.6, "pull RMS \(rms): \(pulls)")
        #expect(pulls.allSatisfy { abs($0) < 3.5 }, "\(pulls)")
    }

    @Test("the issue's link (3.7 µs, 2 ppm, 1 MHz singles, 10 % pairs, 2 s) stays locked with 100 ms blocks")
    func issueLinkStaysLocked() throws {
        let labs = ClockLabs(offsetPs: 3.7e6, driftPpm: 2, pairRateHz: 100_000, singlesRateHz: 900_000, durationS: 1.2)
        let data = labs.generate(seed: 13)
        let (stream, events) = try recoverClock(data.a, data.b, chunk: 65_536)
        #expect(stream.state == .locked)
        #expect(events.count == 1, "\(events)")
        #expect(stream.track.samples.count >= 11)
        let estimate = try #require(stream.estimate)
        #expect(abs(estimate.offsetPs.value - labs.truthPs(estimate.atPs)) < 3 * estimate.offsetPs.standardError + 1,
                "offset \(estimate.offsetPs) vs \(labs.truthPs(estimate.atPs))")
        #expect(abs(estimate.driftPpm.value - 2) < 3 * estimate.driftPpm.standardError + 1e-4)
        let worst = stream.track.samples.map { abs($0.offsetPs - labs.truthPs($0.timePs)) }.max() ?? .infinity
        #expect(worst < 100, "largest track error \(worst) ps")
    }

    @Test("a 2 µs clock step is detected as a loss of lock and re-acquired", arguments: [1_000, Int.max])
    func stepIsDetectedAndReacquired(chunk: Int) throws {
        let step: Int64 = 3_000_000_000_000
        let labs = ClockLabs(offsetPs: 1.5e9, driftPpm: -20, stepPs: 2e6, stepAtPs: step, pairRateHz: 5_000, singlesRateHz: 20_000, durationS: 6)
        let data = labs.generate(seed: 21)
        let (stream, events) = try recoverClock(data.a, data.b, chunk: chunk)
        #expect(stream.state == .locked)
        #expect(events.count == 3, "\(events)")
        guard events.count == 3, case .lost(let lostAt, _) = events[1], case .reacquired(let reacquiredAt, _, _, let stepPs) = events[2] else {
            Issue.record("events \(events)"); return
        }
        // The loss is dated from the start of the first measurement that fails: the block after the step's.
        #expect(abs(lostAt - step) <= 200_000_000_000, "lost at \(lostAt)")
        #expect(reacquiredAt > lostAt && reacquiredAt < step + 1_500_000_000_000, "re-acquired at \(reacquiredAt)")
        #expect(abs(stepPs - 2e6) < 1_000, "step \(stepPs)")
        #expect(stream.offsetPs(atAPs: (lostAt + reacquiredAt) / 2) == nil)
        let estimate = try #require(stream.estimate)
        #expect(abs(estimate.offsetPs.value - labs.truthPs(estimate.atPs)) < 3 * estimate.offsetPs.standardError + 1)
        for t in [step / 2, step + 2_500_000_000_000] {
            #expect(abs((stream.offsetPs(atAPs: t) ?? 0) - labs.truthPs(t)) < 50, "at \(t)")
        }
    }

    @Test("pure accidentals never lock", arguments: [-50.0, 0, 35])
    func accidentalsNeverLock(driftPpm: Double) throws {
        for seed in 1...8 as ClosedRange<UInt64> {
            let labs = ClockLabs(offsetPs: 2e6, driftPpm: driftPpm, pairRateHz: 0, singlesRateHz: 20_000, durationS: 2.2)
            let data = labs.generate(seed: 500 + seed)
            let (stream, events) = try recoverClock(data.a, data.b, chunk: 65_536)
            #expect(events.isEmpty && stream.estimate == nil && stream.state == .acquiring, "seed \(seed): \(events)")
            // Either no coarse cell reached the candidate threshold, or none of the candidates survived refinement.
            let attempt = try #require(stream.lastAttempt)
            #expect(attempt.significance < attempt.threshold || attempt.refinementFailedAtBinPs != nil, "\(attempt.summary)")
        }
    }

    /// At 100 pairs/s a 100 ms block holds about 10 pairs (≈ 15 ps each); the filter averages them over its time
    /// constant (≈ 0.8 s) and the smoother over the data on both sides, to about 3.5 ps (the causal filter alone
    /// reaches about 7 ps here).
    @Test("one hour at 2 ppm plus wander, 100 pairs/s, defaults: track within 5 ps RMS of the truth, as the filter states")
    func oneHourResidual() throws {
        let labs = ClockLabs(offsetPs: 1_234_567, driftPpm: 2, wanderPpm: 0.05, wanderPeriodS: 900, pairRateHz: 100,
                             singlesRateHz: 20, durationS: 3600)
        let data = labs.generate(seed: 7)
        let (stream, events) = try recoverClock(data.a, data.b, chunk: 65_536)
        #expect(events.count == 1, "\(events.map(\.text))")
        let settled = stream.track.samples.dropFirst(100)
        let errors = settled.map { $0.offsetPs - labs.truthPs($0.timePs) }
        let rms = (errors.map(pow2).reduce(0, +) / Double(max(1, errors.count))).squareRoot()
        let stated = (settled.map { pow2($0.offsetSigmaPs) }.reduce(0, +) / Double(max(1, settled.count))).squareRoot()
        let pullRms = (zip(errors, settled).map { pow2($0 / $1.offsetSigmaPs) }.reduce(0, +) / Double(max(1, errors.count))).squareRoot()
        #expect(settled.count > 20_000)
        #expect(rms <= 5, "offset residual \(rms) ps RMS over \(settled.count) measurements")
        #expect(pullRms > 0.6 && pullRms < 1.5, "residual \(rms) ps RMS against a stated \(stated) ps: pull RMS \(pullRms)")
    }

    /// The filter's own estimate (causal: what the live coordinator reports) and the smoothed track, against the
    /// truth of a wandering clock, over seeds.
    @Test("filtered and smoothed offset and drift pulls against the truth have unit width over seeds (2 ppm plus wander)")
    func wanderPullsHaveUnitWidth() throws {
        var filtered: [Double] = [], smoothed: [Double] = []
        for seed in 1...10 as ClosedRange<UInt64> {
            let labs = ClockLabs(offsetPs: -3.7e6, driftPpm: 2, wanderPpm: 0.05, wanderPeriodS: 900, pairRateHz: 500,
                                 singlesRateHz: 2_000, durationS: 20)
            let data = labs.generate(seed: 700 + seed)
            for settings in [ClockRecoverySettings.causal, ClockRecoverySettings()] {
                let (stream, events) = try recoverClock(data.a, data.b, chunk: 65_536, settings: settings)
                #expect(events.count == 1, "seed \(seed): \(events.map(\.text))")
                let estimate = try #require(stream.estimate)
                let causal = settings.smoothingLagPs == 0
                                if causal {
                    filtered.append((estimate.offsetPs.value - labs.truthPs(estimate.atPs)) / estimate.offsetPs.standardError)
                    filtered.append((estimate.driftPpm.value - labs.truthDriftPpm(estimate.atPs)) / estimate.driftPpm.standardError)
                }
                // Samples along the track, 4 s apart (about independent): filter posteriors without a lag, smoothed with it.
                let samples = stream.track.samples
                for time in stride(from: 4.0, to: 19.0, by: 4.0) {
                    guard let sample = samples.min(by: { abs(Double($0.timePs) * 1e-12 - time) < abs(Double($1.timePs) * 1e-12 - time) })
                    else { continue }
                    let pull = (sample.offsetPs - labs.truthPs(sample.timePs)) / sample.offsetSigmaPs
                    if causal { filtered.append(pull) } else { smoothed.append(pull) }
                }
            }
        }
        for (name, pulls) in [("filtered", filtered), ("smoothed", smoothed)] {
            let rms = (pulls.map(pow2).reduce(0, +) / Double(pulls.count)).squareRoot()
            #expect(rms > 0.6 && rms < 1.5, "\(name) pull RMS \(rms): \(pulls)")
            #expect(pulls.allSatisfy { abs($0) < 4 }, "\(name): \(pulls)")
        }
    }
}

@Suite("Clock recovery: steps of lab B's clock and memory without lock")
struct ClockStepTests {
    @Test("an 8 ns step of lab B's clock is flagged and followed (offset after it within 200 ps of the truth)")
    func eightNanosecondStep() throws {
        let step: Int64 = 1_500_000_000_000
        let labs = ClockLabs(offsetPs: 1.5e6, driftPpm: 0, stepPs: 8_000, stepAtPs: step, pairRateHz: 50_000, singlesRateHz: 100_000,
                             jitterPs: 40, durationS: 4)
        let data = labs.generate(seed: 8)
        // A narrower search than the defaults keeps the acquisition cheap in a debug build.
        var settings = ClockRecoverySettings()
        settings.maxOffsetPs = 100_000_000
        settings.maxDriftPpm = 5
        let (stream, events) = try recoverClock(data.a, data.b, chunk: 8_192, settings: settings)
        #expect(stream.state == .locked)
        // Flagged either as a step followed in lock or as a loss and re-acquisition, with its size and time.
        let steps = events.compactMap { event -> (atPs: Int64, stepPs: Double)? in
            switch event {
            case .step(let atPs, let stepPs): return (atPs, stepPs)
            case .reacquired(let atPs, _, _, let stepPs): return (atPs, stepPs)
            default: return nil
            }
        }
        #expect(steps.count == 1, "\(events.map(\.text))")
        #expect(steps.allSatisfy { abs($0.stepPs - 8_000) < 500 && abs($0.atPs - step) <= 1_100_000_000_000 }, "\(events.map(\.text))")
        let estimate = try #require(stream.estimate)
        #expect(abs(estimate.offsetPs.value - labs.truthPs(estimate.atPs)) < 200, "offset \(estimate.offsetPs) vs \(labs.truthPs(estimate.atPs))")
        for t in [step - 200_000_000_000, step + 2_000_000_000_000, 3_900_000_000_000] as [Int64] {
            #expect(abs((stream.offsetPs(atAPs: t) ?? 0) - labs.truthPs(t)) < 200, "at \(t)")
        }
    }

    @Test("after a loss of lock that never re-acquires, the engine holds a bounded number of events and counts the rest as unmapped")
    func lossWithoutReacquisitionIsBounded() throws {
        var settings = ClockRecoverySettings()
        settings.maxOffsetPs = 10_000_000
        settings.firstAcquisitionSpanPs = 250_000_000_000
        settings.maxAcquisitionSpanPs = 500_000_000_000
        settings.maxDriftPpm = 2
        // A small coarse search: the re-acquisition attempts that keep failing stay cheap in a debug build.
        settings.maxSearchCells = 1 << 14
        let rate = 5_000.0
        let locked = ClockLabs(offsetPs: 2e6, driftPpm: 1, pairRateHz: 5_000, singlesRateHz: rate, durationS: 1.5).generate(seed: 4)
        let silent = ClockLabs(offsetPs: 2e6 + 1.5, driftPpm: 1, pairRateHz: 0, singlesRateHz: rate, durationS: 5).generate(seed: 5)
        let a = locked.a + silent.a.map { $0 + 1_500_000_000_000 }, b = locked.b + silent.b.map { $0 + 1_500_000_000_000 }
        let lab = ChannelPair(1, 1 + LinkAnalysisConfiguration.labBChannelOffset)
        var configuration = LinkAnalysisConfiguration(twoLabs: true, pairs: [lab], windowHalfWidthPs: 300)
        configuration.clock = .independent(settings)
        var engine = try LinkAnalysis(configuration: configuration)
        let chunks = [a, b].map { times in stride(from: 0, to: times.count, by: 1_024).map { Array(times[$0..<min(times.count, $0 + 1_024)]) }[...] }
        var queues = chunks
        var events: [ClockEvent] = []
        var largestHeld = 0
        try engine.addInTimeOrder(next: { lab in
            queues[lab].popFirst().map { TagBatch(timesPs: $0, channels: [TagChannel](repeating: 1, count: $0.count)) }
        }, fed: { engine in
            events += engine.takeClockEvents()
            if events.contains(where: { if case .lost = $0 { true } else { false } }) { largestHeld = max(largestHeld, engine.heldEvents) }
        })
        events += engine.takeClockEvents()
        #expect(events.count == 2, "\(events.map(\.text))")
        guard events.count == 2, case .acquired = events[0], case .lost = events[1] else { return }
        // Without the bound the engine would hold all 5 s of both labs (~50 000 events); the horizon is 0.5 s of each.
        let horizonEvents = Int(2 * rate * 0.51)
        #expect(largestHeld < 3 * horizonEvents + 3 * 1_024, "held \(largestHeld)")
        #expect(engine.snapshot().unmappedEvents > Int64(2 * rate * 3), "unmapped \(engine.snapshot().unmappedEvents)")
    }
}
