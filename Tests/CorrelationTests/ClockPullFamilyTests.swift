@testable import Correlation
import Testing

/// Issue 13: the errors the clock tracker states at a high singles rate, over a fixed family of seeds — the
/// regime of the cross-tool matrix's free-running case at 2 000 pairs/s among 200 kHz singles per lab, where a
/// 100 ms block holds about 200 pairs and 4 accidentals in its 500 ps guard band.
///
/// Each seed starts the tracker the way ``ClockRecoveryStream`` does after an acquisition: from the acquisition's
/// line and its stated errors, the tracker's window and frequency uncertainty set from those errors alone. The
/// acquisition's line is the truth plus an error drawn from those errors (4.2 ps and 1.5·10⁻⁵ ppm, what its fit
/// states in this regime; `ClockAcquisitionPullTests` checks that its pulls have unit width over seeds). The
/// acquisition itself (2²³ cells at these rates, about a minute per attempt in a debug build) is left to the matrix.
/// Each seed keeps one lock without a step, and the pulls (estimate − truth)/σ of the causal estimate at its latest
/// measurement — what the snapshot reports — have an RMS within 0.7–1.4 over the 60 pulls.
@Suite("Clock tracking: stated errors over a seed family at 200 kHz singles")
struct ClockPullFamilyTests {
    @Test("2 000 pairs/s among 200 kHz singles, −45 ppm, 30 seeds from the acquisition's errors: one lock each, pull RMS within 0.7–1.4")
    func highSinglesPullsHaveUnitWidth() throws {
        let offsetSigmaPs = 4.2, driftSigma = 1.5e-11
        let settings = ClockRecoveryStream.trackerSettings(ClockRecoverySettings(), offsetSigmaPs: offsetSigmaPs, driftSigma: driftSigma)
        var offsetPulls: [Double] = [], driftPulls: [Double] = []
        for seed in 1...30 as ClosedRange<UInt64> {
            let labs = ClockLabs(offsetPs: 8e9, driftPpm: -45, pairRateHz: 2_000, singlesRateHz: 200_000, jitterPs: 40, durationS: 1)
            let data = labs.generate(seed: 900 + seed)
            var rng = SeededGenerator(seed: 7_000 + seed)
            let startOffset = labs.truthPs(data.a[0]) + rng.nextGaussian() * offsetSigmaPs
            let driftError = rng.nextGaussian() * driftSigma * 1e6
            var stream = try ClockTrackingStream(settings: settings, initialOffsetPs: Int64(startOffset.rounded()),
                                                 initialDriftPpm: -45 + driftError)
            for chunk in stride(from: 0, to: max(data.a.count, data.b.count), by: 65_536) {
                if chunk < data.a.count { try stream.appendA(Array(data.a[chunk..<min(data.a.count, chunk + 65_536)])) }
                if chunk < data.b.count { try stream.appendB(Array(data.b[chunk..<min(data.b.count, chunk + 65_536)])) }
            }
            let track = try stream.finish()
            #expect(stream.lostSincePs == nil && stream.steps.isEmpty, "seed \(seed): lost \(String(describing: stream.lostSincePs)), steps \(stream.steps)")
            #expect(track.samples.count >= 9, "seed \(seed): \(track.samples.count) measurements")
            let filter = stream.filterState
            offsetPulls.append((filter.offsetPs - labs.truthPs(filter.reference)) / filter.offsetSigmaPs)
            driftPulls.append((filter.drift * 1e6 + 45) / (filter.driftSigma * 1e6))
        }
        let pulls = offsetPulls + driftPulls
        let rms = (pulls.map(pow2).reduce(0, +) / Double(pulls.count)).squareRoot()
        let mean = pulls.reduce(0, +) / Double(pulls.count)
        #expect(rms > 0.7 && rms < 1.4, "pull RMS \(rms): offset \(offsetPulls), drift \(driftPulls)")
        #expect(abs(mean) < 0.5, "mean pull \(mean)")
        #expect(pulls.allSatisfy { abs($0) < 4 }, "offset \(offsetPulls), drift \(driftPulls)")
    }
}
