import Foundation
import Testing
@testable import TimeTags

/// A seeded stream with markers and gaps: sorted photons (some at equal times), markers before the first
/// photon, exactly at photon times, between photons and after the last one; a few gaps.
func markedStream(seed: UInt64, photons: Int, markersPerPhoton: Double) -> TagBatch {
    var generator = SeededGenerator(seed: seed)
    var batch = TagBatch(capacity: photons)
    var time: Int64 = 1_000
    for _ in 0..<photons {
        time += Int64.random(in: 0...2, using: &generator) == 0 ? 0 : Int64.random(in: 1...5_000, using: &generator)
        batch.append(timePs: time, channel: TagChannel.random(in: 0...3, using: &generator))
    }
    let end = time + 20_000
    let markerCount = max(3, Int(Double(photons) * markersPerPhoton))
    for k in 0..<markerCount {
        let at: Int64
        switch k % 4 {
        case 0 where !batch.isEmpty: at = batch.timesPs[Int.random(in: 0..<batch.count, using: &generator)]
        default: at = Int64.random(in: 0...end, using: &generator)
        }
        batch.markers.append(MarkerEvent(timePs: at, marker: Int32.random(in: 0...5, using: &generator)))
    }
    batch.markers.append(MarkerEvent(timePs: end, marker: 1))
    batch.markers.sort { $0.timePs < $1.timePs }
    for _ in 0..<3 {
        let start = Int64.random(in: 0...end, using: &generator)
        batch.gaps.append(StreamGap(startPs: start, endPs: start + 500, lostEvents: 2))
    }
    batch.gaps.append(StreamGap(startPs: end + 1, endPs: end + 1))
    batch.gaps.sort { $0.startPs < $1.startPs }
    return batch
}

/// Cuts `stream` into batches of `size` photons; each batch carries the markers and gaps up to a random
/// lookahead past its last photon (as QLink's writer did before the ordering guarantee), and empty and
/// marker-only batches are mixed in.
func cutEarly(_ stream: TagBatch, size: Int, seed: UInt64) -> [TagBatch] {
    var generator = SeededGenerator(seed: seed)
    var batches: [TagBatch] = []
    var start = 0, marker = 0, gap = 0
    while start < stream.count || marker < stream.markers.count || gap < stream.gaps.count {
        let end = min(stream.count, start + size)
        var batch = TagBatch(timesPs: Array(stream.timesPs[start..<end]), channels: Array(stream.channels[start..<end]))
        let reach = (batch.timesPs.last ?? .max) &+ Int64.random(in: 0...40_000, using: &generator)
        while marker < stream.markers.count, stream.markers[marker].timePs <= reach || end == stream.count {
            batch.markers.append(stream.markers[marker]); marker += 1
        }
        while gap < stream.gaps.count, stream.gaps[gap].startPs <= reach || end == stream.count {
            batch.gaps.append(stream.gaps[gap]); gap += 1
        }
        if Int.random(in: 0..<5, using: &generator) == 0 { batches.append(TagBatch()) }
        if Int.random(in: 0..<5, using: &generator) == 0, marker < stream.markers.count {
            var only = TagBatch()
            only.markers = [stream.markers[marker]]
            marker += 1
            batches.append(batch)
            batches.append(only)
        } else {
            batches.append(batch)
        }
        start = end
    }
    return batches
}

/// Whether no marker or gap (by start) of a batch is later than a photon of a following batch.
func inTimeOrder(_ batches: [TagBatch]) -> Bool {
    var latestPs = Int64.min
    for batch in batches {
        if let first = batch.timesPs.min(), first < latestPs { return false }
        for marker in batch.markers { latestPs = max(latestPs, marker.timePs) }
        for gap in batch.gaps { latestPs = max(latestPs, gap.startPs) }
    }
    return true
}

/// All events of `batches` in one batch.
func joined(_ batches: [TagBatch]) -> TagBatch {
    var all = TagBatch()
    batches.forEach { all.append(contentsOf: $0) }
    return all
}

/// Reads every batch of `reader`.
func batches(of reader: inout any TagReader) throws -> [TagBatch] {
    var result: [TagBatch] = []
    while let batch = try reader.next() { result.append(batch) }
    return result
}

/// Hands out a fixed list of batches, then optionally an error.
final class ListReader: TagReader {
    let header = TagStreamHeader(format: .native)
    var bytesConsumed: Int64 = 0
    var totalBytes: Int64? { nil }
    private var batches: [TagBatch]
    private let failure: TagFileError?
    init(_ batches: [TagBatch], failure: TagFileError? = nil) {
        self.batches = batches
        self.failure = failure
    }
    func next() throws -> TagBatch? {
        if batches.isEmpty {
            if let failure { throw failure }
            return nil
        }
        return batches.removeFirst()
    }
}

/// Markers in time order, equal times in stream order.
func sortedMarkers(_ markers: [MarkerEvent]) -> [MarkerEvent] {
    markers.enumerated().sorted { ($0.element.timePs, $0.offset) < ($1.element.timePs, $1.offset) }.map(\.element)
}

/// Markers sorted by time and number (for readers that may swap markers at equal times).
func canonical(_ markers: [MarkerEvent]) -> [MarkerEvent] {
    markers.sorted { ($0.timePs, $0.marker) < ($1.timePs, $1.marker) }
}

@Suite("Time order across batches and chunks")
struct TimeOrderTests {
    static let seeds: [UInt64] = [1, 2, 3, 4, 5]

    @Test("a reader's batches, cut anywhere with markers ahead of their photons, come out in time order with every event",
          arguments: seeds)
    func orderedReader(seed: UInt64) throws {
        for density in [0.01, 0.3, 2.0] {
            let stream = markedStream(seed: seed, photons: 3_000, markersPerPhoton: density)
            for size in [1, 7, 500, 65_536] {
                let cut = cutEarly(stream, size: size, seed: seed &+ UInt64(size))
                var reader: any TagReader = TimeOrderedReader(ListReader(cut))
                let read = try batches(of: &reader)
                #expect(inTimeOrder(read), "seed \(seed), density \(density), size \(size)")
                let all = joined(read)
                #expect(all.timesPs == stream.timesPs && all.channels == stream.channels)
                #expect(all.markers == stream.markers && all.gaps == stream.gaps)
            }
        }
    }

    @Test("an error of the wrapped reader comes after the markers it held back")
    func errorAfterHeldMarkers() throws {
        var batch = TagBatch(timesPs: [10, 20], channels: [0, 1])
        batch.markers = [MarkerEvent(timePs: 15, marker: 1), MarkerEvent(timePs: 30, marker: 2)]
        let damage = TagFileError(.checksumMismatch, file: "x.qtag", problem: "chunk 1 fails its CRC32C check")
        let reader = TimeOrderedReader(ListReader([batch], failure: damage))
        #expect(try reader.next()?.markers == [MarkerEvent(timePs: 15, marker: 1)])
        #expect(try reader.next()?.markers == [MarkerEvent(timePs: 30, marker: 2)])
        #expect(throws: TagFileError.self) { try reader.next() }
    }

    @Test("the native writer never puts a marker or gap in a chunk whose photons end before it", arguments: seeds)
    func nativeWriterChunksInOrder(seed: UInt64) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let stream = markedStream(seed: seed, photons: 2_000, markersPerPhoton: 0.5)
        for chunkTags in [1, 7, 100, 65_536] {
            let path = directory.path("w\(chunkTags).qtag")
            let writer = try NativeTagWriter(path: path, header: TagStreamHeader(format: .native), chunkTags: chunkTags)
            for (index, batch) in cutEarly(stream, size: 333, seed: seed).enumerated() {
                try writer.write(batch)
                if index % 3 == 1 { try writer.flush() }
            }
            // After a flush the file is in order too (markers past the last photon stay buffered).
            var flushed: any TagReader = try NativeTagReader(path: path)
            #expect(inTimeOrder(try batches(of: &flushed)))
            try writer.finish()
            // Raw chunks, without the reading-side gate.
            var raw: any TagReader = try NativeTagReader(path: path)
            let chunks = try batches(of: &raw)
            #expect(inTimeOrder(chunks), "seed \(seed), chunk size \(chunkTags)")
            let all = joined(chunks)
            #expect(all.timesPs == stream.timesPs && all.channels == stream.channels)
            #expect(canonical(all.markers) == canonical(stream.markers) && all.gaps == stream.gaps)
        }
    }

    /// A seeded stream written as QLink wrote files before the ordering guarantee: each chunk of `chunkTags`
    /// photons carries every marker and gap of the batch it was cut from, up to far past its last photon.
    static func oldLayoutFile(seed: UInt64, photons: Int, markersPerPhoton: Double, chunkTags: Int,
                              in directory: TemporaryDirectory) throws -> (stream: TagBatch, path: String) {
        let stream = markedStream(seed: seed, photons: photons, markersPerPhoton: markersPerPhoton)
        let path = directory.path("old.qtag")
        var bytes = try NativeTagFormat.encodeHeader(TagStreamHeader(format: .native), path: "header")
        for batch in cutEarly(stream, size: chunkTags, seed: seed) {
            bytes += NativeChunkEncoder.encode(times: batch.timesPs[...], channels: batch.channels[...], markers: batch.markers,
                                               gaps: batch.gaps, scaleHintPs: 1)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (stream, path)
    }

    @Test("an old-layout file is read in time order through every reading path", arguments: seeds)
    func oldLayoutReadInOrder(seed: UInt64) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let (stream, path) = try Self.oldLayoutFile(seed: seed, photons: 4_000, markersPerPhoton: 0.2, chunkTags: 250, in: directory)
        var raw: any TagReader = try NativeTagReader(path: path)
        #expect(!inTimeOrder(try batches(of: &raw)), "the old layout must be out of order chunk by chunk")
        for window: Int64? in [nil, 1_000] {
            var options = TagFiles.ReadOptions()
            options.resortWindowPs = window
            var reader = try TagFiles.openReader(path: path, options: options)
            let read = try batches(of: &reader)
            #expect(inTimeOrder(read))
            let all = joined(read)
            #expect(all.timesPs == stream.timesPs && canonical(all.markers) == canonical(stream.markers) && all.gaps == stream.gaps)
        }
        // A pipe fed the same bytes in pieces.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var decoder = TagStreamDecoder(format: .native)
        var pieces: [TagBatch] = []
        var position = 0
        var generator = SeededGenerator(seed: seed)
        while position < bytes.count {
            let size = min(bytes.count - position, Int.random(in: 1...3_000, using: &generator))
            pieces.append(try decoder.feed(bytes[position..<(position + size)]))
            position += size
        }
        pieces.append(try decoder.finish())
        #expect(inTimeOrder(pieces))
        let all = joined(pieces)
        #expect(all.timesPs == stream.timesPs && all.markers == stream.markers)
    }

    @Test("converting to CSV writes markers and gaps interleaved with the photons in time order", arguments: seeds)
    func csvConvertInOrder(seed: UInt64) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let (stream, path) = try Self.oldLayoutFile(seed: seed, photons: 3_000, markersPerPhoton: 0.3, chunkTags: 100, in: directory)
        var reader = try TagFiles.openReader(path: path)
        let csvPath = directory.path("out.csv")
        var sink = try TagFiles.openWriter(path: csvPath, format: .csv, header: reader.header)
        _ = try TagFiles.convert(from: &reader, to: &sink)
        let lines = try String(contentsOfFile: csvPath, encoding: .utf8).split(separator: "\n").dropFirst()
        let times = lines.map { line -> Int64 in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return Int64(fields[1])!   // photons and markers: the time; gaps: the start
        }
        #expect(times.count == stream.count + stream.markers.count + stream.gaps.count)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 }, "CSV lines out of time order")
        // A marker at a photon's time comes before that photon.
        for marker in stream.markers {
            guard let photon = stream.timesPs.firstIndex(of: marker.timePs) else { continue }
            let markerLine = lines.firstIndex { $0 == "M\(marker.marker),\(marker.timePs)" }
            let photonLine = lines.firstIndex { $0 == "\(stream.channels[photon]),\(marker.timePs)" }
            #expect(markerLine! < photonLine!)
        }
        // The CSV writer orders what it is given batch by batch too (batches with markers ahead of photons).
        let direct = directory.path("direct.csv")
        let writer = try CSVTagWriter(path: direct)
        for batch in cutEarly(stream, size: 37, seed: seed) { try writer.write(batch) }
        try writer.finish()
        #expect(try String(contentsOfFile: direct, encoding: .utf8) == String(contentsOfFile: csvPath, encoding: .utf8))
        var back = try TagFiles.openReader(path: csvPath, options: { var o = TagFiles.ReadOptions(); o.chunkSize = 50; return o }())
        #expect(try back.readAll() == stream)
    }
}
