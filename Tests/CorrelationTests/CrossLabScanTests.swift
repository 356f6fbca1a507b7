@testable import Correlation
import Testing
import TimeTags

/// The cross-lab scan's unchecked walk fed lab B chunks out of time order: each chunk is checked and sorted before
/// the walk (counts equal brute force, nothing read or written outside the buffers), and a chunk that starts before
/// its lab's previous one ends is refused.
@Suite("Cross-lab scan on unsorted input")
struct CrossLabScanTests {
    static func b(_ channel: TagChannel) -> TagChannel { channel + LinkAnalysisConfiguration.labBChannelOffset }
    static let pairs = [ChannelPair(1, b(1)), ChannelPair(1, b(2)), ChannelPair(2, b(1)), ChannelPair(2, b(2))]

    /// The pairs' main windows (±300 ps) and two side windows each side, and ±20 ns histograms of 100 ps bins.
    static func shapes() throws -> (specs: [CoincidenceSpec], histograms: [CorrelationHistogram]) {
        let window = try CoincidenceWindow(halfWidthPs: 300)
        var specs: [CoincidenceSpec] = [], histograms: [CorrelationHistogram] = []
        for pair in pairs {
            let main = CoincidenceSpec(pair, window: window)
            specs += [main] + Accidentals.sideWindows(of: main, count: 2, spacingPs: 5_000)
            histograms.append(try CorrelationHistogram(pair: pair, rangePs: 20_000, binWidthPs: 100))
        }
        return (specs, histograms)
    }

    /// Lab A sorted; lab B on lab A's axis with, inside each chunk of `size`, its events shuffled and every
    /// tenth event stepping back a picosecond behind its predecessor (chunks follow each other in time).
    static func streams(size: Int) -> (a: [TagBatch], b: [TagBatch]) {
        let labs = TwoLabStreams.make(seed: 21, pairs: 4_000, background: 6_000, durationPs: 2_000_000_000, offsetPs: 0, cablePs: 0)
        var rng = SeededGenerator(seed: 22)
        let a = TwoLabStreams.chunks(labs.a, size: size).map { TagBatch(timesPs: $0.timesPs, channels: $0.channels) }
        var b: [TagBatch] = []
        for chunk in TwoLabStreams.chunks(labs.b, size: size) {
            var events = zip(chunk.timesPs, chunk.channels.map(Self.b)).map { $0 }
            for index in events.indices.dropFirst() where index % 10 == 0 { events[index].0 = max(events[0].0, events[index - 1].0 - 1) }
            for index in events.indices.reversed() where index % 3 == 0 {
                events.swapAt(index, Int(rng.next() % UInt64(index + 1)))
            }
            b.append(TagBatch(timesPs: events.map { $0.0 }, channels: events.map { $0.1 }))
        }
        return (a, b)
    }

    @Test("lab B chunks out of order inside: counts and histograms equal brute force", arguments: [7, 65_536, Int.max / 2])
    func unsortedChunksCountExactly(size: Int) throws {
        let (specs, histograms) = try Self.shapes()
        var scan = CrossLabScan(spanPs: 20_000, visitor: PairScanVisitor(pairs: Self.pairs, specs: specs, histograms: histograms))
        let (a, b) = Self.streams(size: size)
        // Feed the lab whose next chunk starts earlier (B's chunks by their earliest event).
        var queues = [a[...], b[...]]
        while let lab = (0..<2).filter({ !queues[$0].isEmpty }).min(by: { queues[$0].first!.timesPs.min()! < queues[$1].first!.timesPs.min()! }) {
            try scan.add(lab: lab, queues[lab].removeFirst())
        }
        scan.end(lab: 0); scan.end(lab: 1)
        // Brute force over every (lab A, lab B) pair.
        var expected = [Int64](repeating: 0, count: specs.count)
        var expectedHistograms = histograms
        let eventsA = a.flatMap { zip($0.timesPs, $0.channels) }, eventsB = b.flatMap { zip($0.timesPs, $0.channels) }.sorted { $0.0 < $1.0 }
        for (t, channelA) in eventsA {
            var low = 0, high = eventsB.count
            while low < high { let mid = (low + high) / 2; if eventsB[mid].0 < t - 20_000 { low = mid + 1 } else { high = mid } }
            for (u, channelB) in eventsB[low...].prefix(while: { $0.0 <= t + 20_000 }) {
                for (index, spec) in specs.enumerated() where spec.pair == ChannelPair(channelA, channelB) && spec.window.contains(u - t) {
                    expected[index] += 1
                }
                for index in Self.pairs.indices where Self.pairs[index] == ChannelPair(channelA, channelB) {
                    if let bin = expectedHistograms[index].bin(of: u - t) { expectedHistograms[index].counts[bin] += 1 }
                }
            }
        }
        #expect(expected[0] > 100)
        #expect(scan.visitor.counts == expected, "chunks of \(size)")
        #expect(scan.visitor.histograms.map(\.counts) == expectedHistograms.map(\.counts), "chunks of \(size)")
    }

    @Test("a lab B chunk that starts a picosecond before the previous one ends is refused, not scanned")
    func chunkGoingBackIsRefused() throws {
        let (specs, histograms) = try Self.shapes()
        var scan = CrossLabScan(spanPs: 20_000, visitor: PairScanVisitor(pairs: Self.pairs, specs: specs, histograms: histograms))
        try scan.add(lab: 0, TagBatch(timesPs: [1_000, 2_000, 3_000], channels: [1, 2, 1]))
        try scan.add(lab: 1, TagBatch(timesPs: [1_100, 2_500], channels: [Self.b(1), Self.b(2)]))
        #expect(throws: CorrelationError.self) { try scan.add(lab: 1, TagBatch(timesPs: [2_499, 2_600], channels: [Self.b(1), Self.b(1)])) }
        var mismatched = TagBatch(timesPs: [2_600], channels: [Self.b(1)])
        mismatched.channels = []
        #expect(throws: CorrelationError.self) { try scan.add(lab: 1, mismatched) }
        try scan.add(lab: 1, TagBatch(timesPs: [2_500, 2_999], channels: [Self.b(2), Self.b(1)]))
        // Pair 1:1 (lab A 1 000 and 3 000, lab B 1 100 and 2 999) within ±300 ps: lags +100 and −1.
        #expect(scan.visitor.counts[0] == 2, "\(scan.visitor.counts)")
    }
}
