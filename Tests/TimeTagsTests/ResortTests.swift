import Foundation
import Testing
@testable import TimeTags

/// A reader over batches held in memory.
final class ArrayTagReader: TagReader {
    var batches: [TagBatch]
    let header = TagStreamHeader(format: .native)
    init(_ batches: [TagBatch]) { self.batches = batches }
    var bytesConsumed: Int64 { 0 }
    var totalBytes: Int64? { nil }
    func next() throws -> TagBatch? { batches.isEmpty ? nil : batches.removeFirst() }
}

@Suite("Re-sort stage")
struct ResortTests {
    @Test("jitter within the window is sorted exactly and counted")
    func sortsWithinWindow() throws {
        let truth = twoChannelStream(count: 10_000, meanGapPs: 1_000)
        // Channel 1 arrives delayed by up to 20 ns relative to channel 0: per-channel sorted, globally not.
        var arrival: [(Int64, Int64, TagChannel)] = []
        for index in 0..<truth.count {
            let lag: Int64 = truth.channels[index] == 1 ? 20_000 : 0
            arrival.append((truth.timesPs[index] + lag, truth.timesPs[index], truth.channels[index]))
        }
        arrival.sort { $0.0 < $1.0 }
        let shuffled = TagBatch(timesPs: arrival.map { $0.1 }, channels: arrival.map { $0.2 })
        #expect(!shuffled.isSorted)
        let expectedReorders = Int64(zip(shuffled.timesPs, shuffled.timesPs.indices).reduce(into: (Int64.min, 0)) { state, element in
            if element.0 < state.0 { state.1 += 1 } else { state.0 = element.0 }
        }.1)
        let pieces = stride(from: 0, to: shuffled.count, by: 777).map {
            TagBatch(timesPs: Array(shuffled.timesPs[$0..<min($0 + 777, shuffled.count)]),
                     channels: Array(shuffled.channels[$0..<min($0 + 777, shuffled.count)]))
        }
        let resorter = ResortingReader(ArrayTagReader(pieces), windowPs: 25_000)
        var reader: any TagReader = resorter
        let output = try reader.readAll()
        #expect(output.isSorted)
        #expect(output.timesPs == truth.timesPs)
        #expect(resorter.reorderedEvents == expectedReorders && expectedReorders > 0)
        #expect(resorter.lateEvents == 0)
    }

    @Test("events later than the window are delivered and counted as late")
    func lateEvents() throws {
        let batches = [TagBatch(timesPs: [0, 100, 1_000], channels: [0, 0, 0]), TagBatch(timesPs: [50, 2_000], channels: [1, 1])]
        let resorter = ResortingReader(ArrayTagReader(batches), windowPs: 10)
        var reader: any TagReader = resorter
        let output = try reader.readAll()
        #expect(output.count == 5)
        #expect(resorter.lateEvents == 1 && resorter.reorderedEvents == 1)
    }
}
