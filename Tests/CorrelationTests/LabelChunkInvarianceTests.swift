import Correlation
import Testing
import TimeTags

/// A two-lab stream on one clock with basis markers: lab A's outcomes on channels 1 (+) and 2 (−), lab B's on
/// 3 and 4, with `pairs` coincident pairs among the singles; lab A announces its basis with markers 0/1, lab B
/// with 10/11 (and unrelated markers 7 appear). Markers fall before the first photon, exactly at photon times,
/// between photons and after the last photon.
enum MarkedLink {
    static let roles = [
        DetectorRole(channel: 1, side: .a, outcome: .plus), DetectorRole(channel: 2, side: .a, outcome: .minus),
        DetectorRole(channel: 3, side: .b, outcome: .plus), DetectorRole(channel: 4, side: .b, outcome: .minus),
    ]
    static let markersA: BasisSource = .markers([0: "A0", 1: "A1"])
    static let markersB: BasisSource = .markers([10: "B0", 11: "B1"])

    static func stream(seed: UInt64, singles: Int, pairs: Int, markers: Int) -> TagBatch {
        let durationPs: Int64 = 50_000_000
        var batch = SyntheticStreams.random(seed: seed, events: singles, channels: [1, 2, 3, 4], durationPs: durationPs,
                                            pairs: pairs, pair: ChannelPair(1, 3), delayPs: 0, jitterPs: 40)
        var rng = SeededGenerator(seed: seed &* 7919)
        for k in 0..<markers {
            let number: Int32 = [0, 1, 10, 11, 7][Int(rng.next() % 5)]
            let time = k % 3 == 0 ? batch.timesPs[Int(rng.next() % UInt64(batch.count))] : Int64(rng.nextUnit() * Double(durationPs + 1_000_000))
            batch.markers.append(MarkerEvent(timePs: time - 200_000 * Int64(k % 7 == 0 ? 1 : 0), marker: number))
        }
        batch.markers.append(MarkerEvent(timePs: (batch.timesPs.last ?? 0) + 1, marker: 0))
        batch.markers.sort { ($0.timePs, $0.marker) < ($1.timePs, $1.marker) }
        return batch
    }

    /// Cuts `stream` into chunks of `size` photons. With `ahead`, each chunk carries its markers up to the last
    /// photon of the chunk after next (as files written before the ordering guarantee did); otherwise each marker
    /// travels in the chunk of the first photon at or after it. Every third chunk is followed by an empty one.
    static func cut(_ stream: TagBatch, size: Int, ahead: Bool) -> [TagBatch] {
        var chunks: [TagBatch] = []
        var start = 0, marker = 0
        while start < stream.count {
            let end = min(stream.count, start + size)
            var chunk = TagBatch(timesPs: Array(stream.timesPs[start..<end]), channels: Array(stream.channels[start..<end]))
            let reachIndex = ahead ? min(stream.count - 1, end - 1 + 2 * size) : end - 1
            let reach = end == stream.count ? Int64.max : stream.timesPs[reachIndex]
            while marker < stream.markers.count, stream.markers[marker].timePs <= reach {
                chunk.markers.append(stream.markers[marker]); marker += 1
            }
            chunks.append(chunk)
            if chunks.count % 3 == 0 { chunks.append(TagBatch()) }
            start = end
        }
        return chunks
    }

    struct Result: Equatable {
        var times: [Int64] = []
        var channels: [TagChannel] = []
        var unlabelled: Int64 = 0
        var counts: [SettingCounts] = []
    }

    static func label(_ chunks: [TagBatch], sourceA: BasisSource, sourceB: BasisSource, keepOriginals: Bool) throws -> Result {
        var labeler = try BasisLabeler(roles: roles, sourceA: sourceA, sourceB: sourceB)
        labeler.keepsOriginalEvents = keepOriginals
        var counter = try BasisCorrelationCounter(outcomeChannels: labeler.outcomeChannels, window: try CoincidenceWindow(halfWidthPs: 200))
        var result = Result()
        for chunk in chunks {
            let labelled = labeler.process(chunk)
            result.times += labelled.timesPs
            result.channels += labelled.channels
            try counter.process(labelled)
        }
        counter.finish()
        result.unlabelled = labeler.unlabelledEvents
        result.counts = counter.results(durationPs: 50_000_000)
        return result
    }

    /// The label of every outcome photon by brute force: the basis of its lab's last marker at or before it.
    static func bruteForce(_ stream: TagBatch, labeler: BasisLabeler) -> (times: [Int64], channels: [TagChannel], unlabelled: Int64) {
        let maps: [[Int32: String]] = [[0: "A0", 1: "A1"], [10: "B0", 11: "B1"]]
        var times: [Int64] = [], channels: [TagChannel] = []
        var unlabelled: Int64 = 0
        for (t, channel) in zip(stream.timesPs, stream.channels) {
            let role = roles.first { $0.channel == channel }!
            let map = maps[role.side.rawValue]
            guard let marker = stream.markers.last(where: { $0.timePs <= t && map[$0.marker] != nil }) else { unlabelled += 1; continue }
            times.append(t)
            channels.append(labeler.outcomeChannels.channel(side: role.side, basis: map[marker.marker]!, outcome: role.outcome)!)
        }
        return (times, channels, unlabelled)
    }
}

@Suite("Basis labelling does not depend on how the stream is cut")
struct LabelChunkInvarianceTests {
    @Test("marker bases: chunks of 1, 7 and 65 536 tags, markers on time or far ahead, equal the whole stream and brute force",
          arguments: [(UInt64(1), 200), (2, 3_000), (3, 20), (4, 8_000)])
    func markers(seed: UInt64, markerCount: Int) throws {
        let stream = MarkedLink.stream(seed: seed, singles: 6_000, pairs: 4_000, markers: markerCount)
        let whole = try MarkedLink.label([stream], sourceA: MarkedLink.markersA, sourceB: MarkedLink.markersB, keepOriginals: false)
        let reference = MarkedLink.bruteForce(stream, labeler: try BasisLabeler(roles: MarkedLink.roles, sourceA: MarkedLink.markersA,
                                                                                sourceB: MarkedLink.markersB))
        #expect(whole.times == reference.times && whole.channels == reference.channels && whole.unlabelled == reference.unlabelled)
        #expect(whole.counts.map { $0.counts.total }.reduce(0, +) > 1_000)
        for size in [1, 7, 65_536] {
            for ahead in [false, true] {
                let chunks = MarkedLink.cut(stream, size: size, ahead: ahead)
                let cut = try MarkedLink.label(chunks, sourceA: MarkedLink.markersA, sourceB: MarkedLink.markersB, keepOriginals: false)
                #expect(cut == whole, "seed \(seed), \(markerCount) markers, chunks of \(size), markers ahead: \(ahead)")
            }
        }
        // Keeping the original events beside the labelled ones does not change the labels either.
        let kept = try MarkedLink.label(MarkedLink.cut(stream, size: 7, ahead: true), sourceA: MarkedLink.markersA,
                                        sourceB: MarkedLink.markersB, keepOriginals: true)
        let keptWhole = try MarkedLink.label([stream], sourceA: MarkedLink.markersA, sourceB: MarkedLink.markersB, keepOriginals: true)
        #expect(kept == keptWhole && kept.counts == whole.counts)
    }

    @Test("segment bases (lab A) with marker bases (lab B): any cut labels identically", arguments: [UInt64(5), 6])
    func segments(seed: UInt64) throws {
        let stream = MarkedLink.stream(seed: seed, singles: 5_000, pairs: 3_000, markers: 500)
        // Segments starting exactly at photon times (every 200th photon), after the first photon.
        let segments: BasisSource = .segments((1..<40).map { BasisSegment(startPs: stream.timesPs[$0 * 200], basis: $0 % 3 == 0 ? "A0" : "A1") })
        let whole = try MarkedLink.label([stream], sourceA: segments, sourceB: MarkedLink.markersB, keepOriginals: false)
        #expect(whole.counts.map { $0.counts.total }.reduce(0, +) > 1_000)
        for size in [1, 7, 65_536] {
            for ahead in [false, true] {
                let cut = try MarkedLink.label(MarkedLink.cut(stream, size: size, ahead: ahead), sourceA: segments,
                                               sourceB: MarkedLink.markersB, keepOriginals: false)
                #expect(cut == whole, "seed \(seed), chunks of \(size), markers ahead: \(ahead)")
            }
        }
    }

    @Test("a batch of markers alone, or an empty batch, labels nothing and loses no marker")
    func markerOnlyBatches() throws {
        var labeler = try BasisLabeler(roles: MarkedLink.roles, sourceA: MarkedLink.markersA, sourceB: MarkedLink.markersB)
        var markers = TagBatch()
        markers.markers = [MarkerEvent(timePs: 100, marker: 1), MarkerEvent(timePs: 50, marker: 0), MarkerEvent(timePs: 300, marker: 11)]
        #expect(labeler.process(markers).isEmpty)
        #expect(labeler.process(TagBatch()).isEmpty)
        // Photons at 60 (A0 in force), 100 (A1 from its marker at the same time) and 299/300 on lab B (none, then B1).
        let labelled = labeler.process(TagBatch(timesPs: [60, 100, 299, 300], channels: [1, 2, 3, 4]))
        let channels = labeler.outcomeChannels
        #expect(labelled.channels == [channels.channel(side: .a, basis: "A0", outcome: .plus)!,
                                      channels.channel(side: .a, basis: "A1", outcome: .minus)!,
                                      channels.channel(side: .b, basis: "B1", outcome: .minus)!])
        #expect(labeler.unlabelledEvents == 1)
    }
}
