import Correlation
import Foundation
import QLinkTestSupport
import Testing
import TimeTags

@Suite("N-fold, gating, delays, rates and export")
struct StreamingToolsTests {
    static let batch = SyntheticStreams.random(seed: 31, events: 1500, channels: [0, 1, 2, 3], durationPs: 400_000,
                                               pairs: 100, pair: ChannelPair(0, 1), delayPs: 300, duplicateTimes: true)

    @Test("N-fold counts equal brute force for any chunking", arguments: [[1], [13, 2], [100_000]])
    func multiFold(sizes: [Int]) throws {
        let spec = MultiFoldSpec(reference: 0, requirements: [
            .init(channel: 1, window: try CoincidenceWindow(lowerPs: -200, upperPs: 900)),
            .init(channel: 2, window: try CoincidenceWindow(lowerPs: -1500, upperPs: 400)),
        ])
        var counter = try MultiFoldCounter(spec: spec)
        for chunk in SyntheticStreams.chunks(Self.batch, sizes: sizes) { try counter.process(chunk) }
        counter.finish()
        var events: Int64 = 0, combinations: Int64 = 0
        let b = Self.batch
        for i in 0..<b.count where b.channels[i] == 0 {
            var product: Int64 = 1
            for r in spec.requirements {
                product *= Int64((0..<b.count).filter { $0 != i && b.channels[$0] == r.channel && r.window.contains(b.timesPs[$0] - b.timesPs[i]) }.count)
            }
            if product > 0 { events += 1; combinations += product }
        }
        #expect(counter.counts.events == events && counter.counts.combinations == combinations)
        #expect(events > 0)
    }

    @Test("gating keeps exactly the gated events inside gate windows, for any chunking", arguments: [[1], [7], [100_000]])
    func gating(sizes: [Int]) throws {
        var gate = try GateFilter(gateChannel: 3, gatedChannels: [0, 1], openDelayPs: 0, lengthPs: 2000)
        var output = TagBatch()
        for chunk in SyntheticStreams.chunks(Self.batch, sizes: sizes) {
            let part = try gate.process(chunk)
            output.timesPs += part.timesPs; output.channels += part.channels
        }
        let rest = gate.finish()
        output.timesPs += rest.timesPs; output.channels += rest.channels
        let b = Self.batch
        let gates = (0..<b.count).filter { b.channels[$0] == 3 }.map { b.timesPs[$0] }
        let expected = (0..<b.count).filter { i in
            ![0, 1].contains(b.channels[i]) || gates.contains { b.timesPs[i] >= $0 && b.timesPs[i] < $0 + 2000 }
        }
        #expect(output.count == expected.count)
        #expect(output.isSorted)
        #expect(output.channels.filter { $0 == 0 }.count < b.channels.filter { $0 == 0 }.count)
    }

    @Test("delays move channels and keep the stream sorted across chunks", arguments: [[1], [9], [100_000]])
    func delays(sizes: [Int]) throws {
        var compensator = DelayCompensator(delays: ChannelDelays([1: -300, 2: 5000]))
        var output = TagBatch()
        for chunk in SyntheticStreams.chunks(Self.batch, sizes: sizes) {
            let part = try compensator.process(chunk)
            output.timesPs += part.timesPs; output.channels += part.channels
        }
        let rest = compensator.finish()
        output.timesPs += rest.timesPs; output.channels += rest.channels
        #expect(output.isSorted && output.count == Self.batch.count)
        let shifted = zip(Self.batch.timesPs, Self.batch.channels).map { $0 + ($1 == 1 ? -300 : $1 == 2 ? 5000 : 0) }.sorted()
        #expect(output.timesPs == shifted)
        // After compensation the 0→1 peak sits at zero lag.
        let counts = try CoincidenceCounter.count(output, specs: [CoincidenceSpec(ChannelPair(0, 1), window: try CoincidenceWindow(halfWidthPs: 200))])
        #expect(counts[0] >= 90)
    }

    @Test("rates over time and rolling windows count what they were given")
    func rates() throws {
        var timeline = try SinglesTimeline(binWidthPs: 100_000)
        timeline.add(Self.batch)
        #expect(timeline.counts[2]?.reduce(0, +) == Int64(Self.batch.channels.filter { $0 == 2 }.count))
        var rolling = try RollingCounter(windowPs: 10_000, binCount: 10)
        for t in stride(from: Int64(0), to: 50_000, by: 100) { rolling.record("ch0", atPs: t) }
        #expect(rolling.total("ch0") == 100)       // only the last 10 ns (100 events) remain
        #expect(abs(rolling.rateHz("ch0") - 1e10) < 1)
    }

    @Test("histogram CSV and SVG are well formed; the summary round-trips through JSON")
    func export() throws {
        var histogram = try CorrelationHistogram(pair: ChannelPair(0, 1), rangePs: 30, binWidthPs: 10)
        histogram.counts = [1, 5, 9, 4, 2, 0]
        let csv = HistogramExport.csv(histogram)
        #expect(csv.split(separator: "\n") == ["lag_ps,count", "-25,1", "-15,5", "-5,9", "5,4", "15,2", "25,0"])
        let svg = HistogramExport.svg(histogram, title: "A<B & C")
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("A&lt;B &amp; C") && svg.contains("<polyline"))
        var summary = LinkAnalysisSnapshot(durationPs: 1_000_000)
        summary.pairs = [.init(pair: ChannelPair(0, 1), window: try CoincidenceWindow(halfWidthPs: 500), rawCoincidences: 42)]
        summary.fidelity = Estimate(0.9, standardError: 0.01)
        summary.targetState = .psiMinus
        summary.fidelityCountBasis = .accidentalSubtracted
        let json = try JSONEncoder().encode(summary)
        #expect(try JSONDecoder().decode(LinkAnalysisSnapshot.self, from: json) == summary)
        #expect(LinkAnalysisFormat.text(summary).contains("Fidelity to psiMinus [accidentalSubtracted]: F = 0.9 ± 0.01"))
        summary.fidelityCountBasis = .raw
        summary.fidelityLowerBound = Estimate(0.899, standardError: 0.003)
        #expect(LinkAnalysisFormat.text(summary).contains("F ≥ 0.899 ± 0.003 (Z/X bound)"))
    }
}

/// `qlink correlate --svg`: the histogram as g²(τ), normalised by the accidentals the singles predict per bin (or,
/// without singles, by the far-lag mean), with Poisson error bars and a y axis from zero.
@Suite("g²(τ) plots")
struct G2PlotTests {
    static func histogram() throws -> CorrelationHistogram {
        var histogram = try CorrelationHistogram(pair: ChannelPair(1, 3), rangePs: 1_000, binWidthPs: 100)
        histogram.counts = [100, 96, 104, 100, 400, 900, 100, 98, 102, 100]
        return histogram
    }

    @Test("normalised by the singles' accidentals per bin: g² = counts ÷ N_A·N_B·Δτ/T, error √N ÷ level, axis says so")
    func singlesNormalisation() throws {
        let histogram = try Self.histogram()
        // Singles predict 1000 accidentals in a 1001-ps window: 1000 × 100/1001 per 100-ps bin.
        var pair = LinkAnalysisSnapshot.PairResult(pair: ChannelPair(1, 3), window: try CoincidenceWindow(halfWidthPs: 500), rawCoincidences: 0)
        pair.accidentalsFromSingles = Estimate(1000, standardError: 10)
        let level = try #require(HistogramExport.accidentalsPerBin(pair, binWidthPs: 100))
        #expect(abs(level - 1000 * 100 / 1001) < 1e-9)
        let normalisation = try #require(HistogramExport.normalisation(histogram, accidentalsPerBin: level))
        #expect(normalisation == .singles(accidentalsPerBin: level))
        let (points, errors) = HistogramExport.g2(histogram, normalisation)
        #expect(abs(points[5].y - 900 / level) < 1e-12 && abs(errors[5] - 30 / level) < 1e-12)
        #expect(abs(points[0].x - -0.95) < 1e-12, "lag at the bin centre, in ns")

        let svg = HistogramExport.svg(histogram, accidentalsPerBin: level, title: "HBT")
        #expect(svg.contains("g²(τ) = counts ÷ accidentals from singles"))
        #expect(SVGReading.errorBars(svg).count == histogram.binCount, "one Poisson error bar per bin")
        #expect(SVGReading.frame("data-y-min", in: svg) == 0, "the g² axis starts at zero")
        #expect(svg.contains("g² = 1"))
    }

    @Test("without singles the far-lag mean normalises, and the axis label says so")
    func farLagNormalisation() throws {
        let histogram = try Self.histogram()
        let normalisation = try #require(HistogramExport.normalisation(histogram, accidentalsPerBin: nil))
        // Range ±500 ps: the outer half is |τ| ≥ 250 ps, the bins centred at ±250, ±350 and ±450 ps.
        let far = histogram.counts.indices.filter { abs(histogram.binCenterPs($0)) >= 250 }.map { Double(histogram.counts[$0]) }
        #expect(normalisation == .farLag(meanCount: far.reduce(0, +) / Double(far.count)))
        let svg = HistogramExport.svg(histogram)
        #expect(svg.contains("g²(τ) = counts ÷ mean count at |τ|"))
        #expect(SVGReading.frame("data-y-min", in: svg) == 0)
    }
}
