import Correlation
import Testing
import TimeTags

@Suite("Merging two streams")
struct StreamMergerTests {
    @Test("the merge is the sorted union for any chunking and order of feeding, markers included", arguments: [1, 7, 500] as [Int])
    func mergeIsSortedUnion(chunk: Int) throws {
        var a = SyntheticStreams.random(seed: 1, events: 2000, channels: [1, 2], durationPs: 10_000_000)
        let b = SyntheticStreams.random(seed: 2, events: 1500, channels: [3], durationPs: 10_000_000)
        a.markers = [MarkerEvent(timePs: 5_000_000, marker: 1)]
        var merger = StreamMerger()
        var output = TagBatch()
        var chunksA = SyntheticStreams.chunks(a, sizes: [chunk, 2 * chunk + 1])
        let markerChunk = chunksA.firstIndex { ($0.timesPs.last ?? 0) >= 5_000_000 } ?? 0
        chunksA[markerChunk].markers = a.markers
        let chunksB = SyntheticStreams.chunks(b, sizes: [3 * chunk])
        var i = 0, j = 0
        while i < chunksA.count || j < chunksB.count {
            // Feed the input that is behind, as the command does.
            let lastA = i < chunksA.count ? chunksA[i].timesPs[0] : .max
            let lastB = j < chunksB.count ? chunksB[j].timesPs[0] : .max
            if lastA <= lastB { output.append(contentsOf: try merger.add(chunksA[i], input: 0)); i += 1 }
            else { output.append(contentsOf: try merger.add(chunksB[j], input: 1)); j += 1 }
            #expect(merger.heldEvents <= 4 * chunk + 2 + 4 * 3 * chunk)
        }
        output.append(contentsOf: merger.end(input: 0))
        output.append(contentsOf: merger.end(input: 1))
        #expect(output.count == a.count + b.count)
        #expect(output.isSorted)
        #expect(output.channels.filter { $0 == 3 }.count == b.count)
        #expect(output.markers == a.markers)
        #expect(throws: CorrelationError.self) {
            var m = StreamMerger()
            _ = try m.add(TagBatch(timesPs: [10], channels: [1]), input: 0)
            _ = try m.add(TagBatch(timesPs: [5], channels: [1]), input: 0)
        }
    }
}
