import Correlation
import Testing
import TimeTags

/// Two labs' streams with basis markers, for the engine tests: pairs (lab B `offsetPs` late, its channel 2
/// `cablePs` later still) plus background, bases Z/X switched every 200 µs by markers 0/1 in each lab's stream.
/// Both labs use channels 1 and 2 and markers 0 and 1 (the engine renumbers lab B).
enum TwoLabStreams {
    struct Lab { var events: [(timePs: Int64, channel: TagChannel)] = []; var markers: [MarkerEvent] = [] }

    static func make(seed: UInt64, pairs: Int, background: Int, durationPs: Int64, offsetPs: Int64, cablePs: Int64) -> (a: Lab, b: Lab) {
        var rng = SeededGenerator(seed: seed)
        var a = Lab(), b = Lab()
        let period: Int64 = 200_000_000
        var t: Int64 = 0
        while t < durationPs {
            let basisA = Int32(rng.next() % 2), basisB = Int32(rng.next() % 2)
            a.markers.append(MarkerEvent(timePs: t, marker: basisA))
            b.markers.append(MarkerEvent(timePs: t + offsetPs, marker: basisB))
            t += period
        }
        for _ in 0..<pairs {
            let time = Int64(rng.nextUnit() * Double(durationPs))
            let plus = rng.next() % 2 == 0, same = rng.nextUnit() < 0.1
            a.events.append((time + Int64(rng.nextGaussian() * 40), plus ? 1 : 2))
            let bChannel: TagChannel = (plus == same) ? 1 : 2
            b.events.append((time + offsetPs + Int64(rng.nextGaussian() * 40) + (bChannel == 2 ? cablePs : 0), bChannel))
        }
        for _ in 0..<background {
            a.events.append((Int64(rng.nextUnit() * Double(durationPs)), TagChannel(1 + rng.next() % 2)))
            b.events.append((Int64(rng.nextUnit() * Double(durationPs)) + offsetPs, TagChannel(1 + rng.next() % 2)))
        }
        a.events.sort { $0.timePs < $1.timePs }
        b.events.sort { $0.timePs < $1.timePs }
        return (a, b)
    }

    /// The lab's stream in chunks of `size` events, each carrying the markers up to its last photon (the last
    /// chunk carries the rest): markers interleaved in time order.
    static func chunks(_ lab: Lab, size: Int) -> [TagBatch] {
        var result: [TagBatch] = []
        var start = 0, marker = 0
        while start < lab.events.count {
            let end = min(lab.events.count, start + size)
            var batch = TagBatch(timesPs: lab.events[start..<end].map(\.timePs), channels: lab.events[start..<end].map(\.channel))
            let through = end == lab.events.count ? Int64.max : lab.events[end - 1].timePs
            while marker < lab.markers.count, lab.markers[marker].timePs <= through { batch.markers.append(lab.markers[marker]); marker += 1 }
            result.append(batch)
            start = end
        }
        return result
    }

    /// The engine configuration of these streams: pairs 1:1, 1:2, 2:1, 2:2, bases by markers, B's cable declared.
    static func configuration(offsetPs: Int64, cablePs: Int64) -> LinkAnalysisConfiguration {
        let b = { (channel: TagChannel) in channel + LinkAnalysisConfiguration.labBChannelOffset }
        var configuration = LinkAnalysisConfiguration(twoLabs: true, pairs: [ChannelPair(1, b(1)), ChannelPair(1, b(2)), ChannelPair(2, b(1)), ChannelPair(2, b(2))],
                                                      windowHalfWidthPs: 300)
        configuration.roles = [DetectorRole(channel: 1, side: .a, outcome: .plus), DetectorRole(channel: 2, side: .a, outcome: .minus),
                               DetectorRole(channel: b(1), side: .b, outcome: .plus), DetectorRole(channel: b(2), side: .b, outcome: .minus)]
        configuration.sourceA = .markers([0: "Z", 1: "X"])
        configuration.sourceB = .markers([b(0): "Z", b(1): "X"])
        configuration.delaysPs = [b(2): -cablePs]
        configuration.clock = .shared(offsetPs: offsetPs)
        configuration.histogramRangePs = 20_000
        configuration.histogramBinPs = 100
        return configuration
    }

    /// Feeds both labs in chunks of `size`, always the lab that is behind on lab A's axis; returns the snapshot.
    static func analyse(_ labs: (a: Lab, b: Lab), _ configuration: LinkAnalysisConfiguration, size: Int) throws -> LinkAnalysisSnapshot {
        var engine = try LinkAnalysis(configuration: configuration)
        var queues = [chunks(labs.a, size: size)[...], chunks(labs.b, size: size)[...]]
        try engine.addInTimeOrder(next: { lab in queues[lab].popFirst() })
        return engine.snapshot()
    }
}

@Suite("Link analysis engine")
struct LinkAnalysisTests {
    static let offsetPs: Int64 = 1_234_567, cablePs: Int64 = 1_000

    @Test("shared clock: coincidences and singles equal brute force on the merged axis", arguments: [UInt64(1), 2, 3])
    func sharedClockExact(seed: UInt64) throws {
        let labs = TwoLabStreams.make(seed: seed, pairs: 1_500, background: 1_500, durationPs: 2_000_000_000, offsetPs: Self.offsetPs, cablePs: Self.cablePs)
        let configuration = TwoLabStreams.configuration(offsetPs: Self.offsetPs, cablePs: Self.cablePs)
        let snapshot = try TwoLabStreams.analyse(labs, configuration, size: 97)
        // Brute force: lab B renumbered, delayed by its declared delays and moved onto lab A's axis.
        var merged: [(Int64, TagChannel)] = labs.a.events.map { ($0.timePs, $0.channel) }
        for event in labs.b.events {
            let channel = event.channel + LinkAnalysisConfiguration.labBChannelOffset
            merged.append((event.timePs + (configuration.delaysPs[channel] ?? 0) - Self.offsetPs, channel))
        }
        merged.sort { $0.0 < $1.0 }
        let batch = TagBatch(timesPs: merged.map(\.0), channels: merged.map(\.1))
        let window = try CoincidenceWindow(halfWidthPs: configuration.windowHalfWidthPs)
        for (index, pair) in configuration.pairs.enumerated() {
            #expect(snapshot.pairs[index].rawCoincidences == BruteForce.coincidences(batch, CoincidenceSpec(pair, window: window)), "pair \(pair)")
        }
        #expect(snapshot.coincidences > 1_000)
        #expect(snapshot.singles.map(\.counts).reduce(0, +) == Int64(batch.count))
        #expect(snapshot.clock?.lock == .shared)
        #expect(snapshot.unlabelledEvents == 0)
    }

    @Test("shared clock: side windows and histograms equal brute force, whatever the chunk size", arguments: [1, 97, 65_536])
    func sideWindowsAndHistogramsExact(size: Int) throws {
        let labs = TwoLabStreams.make(seed: 5, pairs: 1_500, background: 3_000, durationPs: 2_000_000_000, offsetPs: Self.offsetPs, cablePs: Self.cablePs)
        let configuration = TwoLabStreams.configuration(offsetPs: Self.offsetPs, cablePs: Self.cablePs)
        var engine = try LinkAnalysis(configuration: configuration)
        var queues = [TwoLabStreams.chunks(labs.a, size: size)[...], TwoLabStreams.chunks(labs.b, size: size)[...]]
        try engine.addInTimeOrder(next: { lab in queues[lab].popFirst() })
        let snapshot = engine.snapshot()
        // Brute force on lab A's axis: every (first, second) event pair within the histogram's range.
        var times: [TagChannel: [Int64]] = [:]
        for event in labs.a.events { times[event.channel, default: []].append(event.timePs) }
        for event in labs.b.events {
            let channel = event.channel + LinkAnalysisConfiguration.labBChannelOffset
            times[channel, default: []].append(event.timePs + (configuration.delaysPs[channel] ?? 0) - Self.offsetPs)
        }
        let window = try CoincidenceWindow(halfWidthPs: configuration.windowHalfWidthPs)
        let spacing = max(configuration.histogramRangePs / 4, 4 * window.widthPs)
        for (index, pair) in configuration.pairs.enumerated() {
            var histogram = try CorrelationHistogram(pair: pair, rangePs: configuration.histogramRangePs, binWidthPs: configuration.histogramBinPs)
            let main = CoincidenceSpec(pair, window: window)
            let specs = [main] + Accidentals.sideWindows(of: main, count: configuration.sideWindows, spacingPs: spacing)
            var counts = [Int64](repeating: 0, count: specs.count)
            let second = (times[pair.second] ?? []).sorted()
            for t in times[pair.first] ?? [] {
                for u in second where abs(u - t) <= 2 * configuration.histogramRangePs {
                    if let bin = histogram.bin(of: u - t) { histogram.counts[bin] += 1 }
                    for (k, spec) in specs.enumerated() where spec.window.contains(u - t) { counts[k] += 1 }
                }
            }
            #expect(snapshot.pairs[index].rawCoincidences == counts[0], "pair \(pair), chunks of \(size)")
            let sides = Double(counts.dropFirst().reduce(0, +)) / Double(counts.count - 1)
            #expect(snapshot.pairs[index].accidentalsFromSideWindows?.value == sides, "pair \(pair), chunks of \(size)")
            #expect(engine.histograms[index].counts == histogram.counts, "pair \(pair), chunks of \(size)")
            #expect(histogram.total > 100)
        }
    }

    @Test("the counts do not depend on how the streams were cut: 1, 7, 65 536 events or one chunk")
    func chunkSizeInvariance() throws {
        let labs = TwoLabStreams.make(seed: 9, pairs: 3_000, background: 2_000, durationPs: 3_000_000_000, offsetPs: Self.offsetPs, cablePs: Self.cablePs)
        let configuration = TwoLabStreams.configuration(offsetPs: Self.offsetPs, cablePs: Self.cablePs)
        let whole = try TwoLabStreams.analyse(labs, configuration, size: Int.max / 2)
        #expect(whole.coincidences > 2_000)
        #expect(whole.bases.count >= 4)
        for size in [1, 7, 65_536] {
            let cut = try TwoLabStreams.analyse(labs, configuration, size: size)
            #expect(cut == whole, "chunks of \(size)")
        }
    }
}
