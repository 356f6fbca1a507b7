import Correlation
import Simulation
import Testing
import TimeTags
import LinkModel

/// The correlation engine run on simulated pair-source data recovers what the simulator declares
/// as ground truth: the clock offset between the labs, the visibility, the Bell-state fidelity and
/// CHSH S, each within three of its own standard errors, for several seeds.
@Suite("Correlation engine against simulator ground truth")
struct CorrelationCrossCheckTests {
    static let delayAPs: Int64 = 3_000_000
    static let delayBPs: Int64 = 7_500_000
    static let offsetAPs: Int64 = 250_000
    static let offsetBPs: Int64 = -1_234_567
    static let windowPs: Int64 = 300

    /// A Φ+ source at visibility 0.9 with each lab choosing its setting at random every 100 µs.
    static func scenario(basesA: [MeasurementBasis], basesB: [MeasurementBasis]) -> SimulationScenario {
        func lab(_ transmission: Double, _ delay: Int64, _ offset: Int64, _ bases: [MeasurementBasis], _ channels: Simulation.OutcomeChannels,
                 markerBase: Int32) -> PairSourceLab {
            PairSourceLab(armTransmission: transmission, fibreDelayPs: delay,
                          detector: DetectorModel(efficiency: 0.9, darkCountRateHz: 200, jitterSigmaPs: 40),
                          channels: channels,
                          bases: BasisSchedule(bases: bases, periodPs: 100_000_000, order: .random, markerBase: markerBase),
                          clock: ClockModel(offsetPs: offset))
        }
        return .pairSource(PairSourceScenario(
            pairRateHz: 400_000, state: .phiPlus, visibility: 0.9,
            labA: lab(0.5, delayAPs, offsetAPs, basesA, OutcomeChannels(plus: 1, minus: 2), markerBase: 0),
            labB: lab(0.4, delayBPs, offsetBPs, basesB, OutcomeChannels(plus: 3, minus: 4), markerBase: 10)))
    }

    /// The offset t_B − t_A of a pair's two detections found from the data: streaming clock recovery
    /// (acquisition and tracking), then the centroid of the coincidence peak.
    static func recoverOffset(_ a: RecordedStream, _ b: RecordedStream) throws -> DelayCalibration.Result {
        var settings = ClockRecoverySettings()
        settings.maxOffsetPs = 50_000_000
        // The scenario's clocks do not drift: a narrow frequency search keeps the acquisition cheap.
        settings.maxDriftPpm = 0.1
        var recovery = try ClockRecoveryStream(settings: settings)
        try recovery.appendA(a.times)
        try recovery.appendB(b.times)
        try recovery.finish()
        let first = try #require(a.times.first)
        let coarse = Int64(try #require(recovery.offsetPs(atAPs: first)).rounded())
        let merged = merge(a.times.map { ($0, TagChannel(1)) }, b.times.map { ($0 - coarse, TagChannel(2)) })
        var histogram = try CorrelationHistogram(pair: ChannelPair(1, 2), rangePs: 2_000, binWidthPs: 8)
        histogram = try HistogramBuilder.build(merged, histograms: [histogram], threads: 1)[0]
        var result = try DelayCalibration.findDelay(histogram, halfWidthBins: 25)
        result.delayPs += Double(coarse)
        return result
    }

    /// Coincidence counts per pair of settings, with each tag's setting taken from its lab's markers
    /// (channel relabelled to 100·(setting + 1) + outcome) and lab B shifted by the recovered offset.
    static func jointCounts(_ a: RecordedStream, _ b: RecordedStream, offsetPs: Int64, settingsA: Int, settingsB: Int,
                            markerBaseB: Int32) throws -> [[JointCounts]] {
        func relabel(_ stream: RecordedStream, base: Int32, scale: Int32, shift: Int64) -> [(Int64, TagChannel)] {
            var out: [(Int64, TagChannel)] = []
            for (time, channel) in zip(stream.times, stream.channels) {
                guard let marker = stream.marker(at: time) else { continue }
                let outcome: Int32 = channel % 2 == 1 ? 0 : 1
                out.append((time - shift, scale * (marker - base + 1) + outcome))
            }
            return out
        }
        let merged = merge(relabel(a, base: 0, scale: 100, shift: 0), relabel(b, base: markerBaseB, scale: 1000, shift: offsetPs))
        var specs: [CoincidenceSpec] = []
        let window = try CoincidenceWindow(halfWidthPs: windowPs)
        for i in 0..<settingsA {
            for j in 0..<settingsB {
                for x in 0..<2 {
                    for y in 0..<2 {
                        specs.append(CoincidenceSpec(ChannelPair(TagChannel(100 * (i + 1) + x), TagChannel(1000 * (j + 1) + y)),
                                                     window: window))
                    }
                }
            }
        }
        let counts = try CoincidenceCounter.count(merged, specs: specs, threads: 1).map(Double.init)
        return (0..<settingsA).map { i in
            (0..<settingsB).map { j in
                let k = 4 * (i * settingsB + j)
                return JointCounts(plusPlus: counts[k], plusMinus: counts[k + 1], minusPlus: counts[k + 2], minusMinus: counts[k + 3])
            }
        }
    }

    @Test("clock offset, visibility and fidelity from Z/X/Y settings", arguments: [UInt64(1), 2, 3])
    func fidelityAndOffset(seed: UInt64) throws {
        let bases: [MeasurementBasis] = [.z, .x, .y]
        let (streams, truth) = try record(Self.scenario(basesA: bases, basesB: bases), durationPs: 150_000_000_000, seed: seed)
        let a = try #require(streams[.labA]), b = try #require(streams[.labB])
        let segment = try #require(truth.pairSourceSegments?.first)

        let offset = try Self.recoverOffset(a, b)
        let trueOffset = Double((Self.delayBPs + Self.offsetBPs) - (Self.delayAPs + Self.offsetAPs))
        #expect(offset.standardErrorPs < 2)
        #expect(abs(offset.delayPs - trueOffset) <= 3 * offset.standardErrorPs,
                "offset \(offset.delayPs) ± \(offset.standardErrorPs) ps, truth \(trueOffset) ps")

        let joint = try Self.jointCounts(a, b, offsetPs: Int64(offset.delayPs.rounded()), settingsA: 3, settingsB: 3, markerBaseB: 10)
        let z = try BellEstimators.correlation(raw: joint[0][0])
        let x = try BellEstimators.correlation(raw: joint[1][1])
        let y = try BellEstimators.correlation(raw: joint[2][2])
        let fidelity = BellEstimators.fidelity(to: BellState.phiPlus, z: z, x: x, y: y)
        #expect(fidelity.standardError < 0.02)
        #expect(abs(fidelity.value - segment.fidelity) <= 3 * fidelity.standardError,
                "fidelity \(fidelity), truth \(segment.fidelity)")
        let zz = joint[0][0]
        let visibility = try BellEstimators.visibility(maximum: zz.plusPlus + zz.minusMinus, minimum: zz.plusMinus + zz.minusPlus)
        #expect(abs(visibility.value - segment.visibility) <= 3 * visibility.standardError,
                "visibility \(visibility), truth \(segment.visibility)")
        // Mismatched settings carry the Born-rule correlations too (Z against X: none).
        let zx = try BellEstimators.correlation(raw: joint[0][1])
        #expect(abs(zx.value) <= 3 * zx.standardError)
    }

    @Test("CHSH S from the usual analyser angles", arguments: [UInt64(4), 5, 6])
    func chsh(seed: UInt64) throws {
        let (streams, truth) = try record(
            Self.scenario(basesA: [.linear(analyserAngleDeg: 0), .linear(analyserAngleDeg: 45)],
                          basesB: [.linear(analyserAngleDeg: 22.5), .linear(analyserAngleDeg: 67.5)]),
            durationPs: 150_000_000_000, seed: seed)
        let a = try #require(streams[.labA]), b = try #require(streams[.labB])
        let truthS = try #require(truth.pairSourceSegments?.first?.chshS)
        let offset = try Self.recoverOffset(a, b)
        let joint = try Self.jointCounts(a, b, offsetPs: Int64(offset.delayPs.rounded()), settingsA: 2, settingsB: 2, markerBaseB: 10)
        let e = try joint.map { try $0.map { try BellEstimators.correlation(raw: $0) } }
        let s = BellEstimators.chsh(ab: e[0][0], abPrime: e[0][1], aPrimeB: e[1][0], aPrimeBPrime: e[1][1])
        #expect(s.value > 2 + 3 * s.standardError, "S = \(s) violates the CHSH bound")
        #expect(abs(s.value - truthS) <= 3 * s.standardError, "S = \(s), truth \(truthS)")
    }
}
