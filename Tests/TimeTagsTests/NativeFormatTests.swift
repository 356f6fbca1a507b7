import Foundation
import Testing
@testable import TimeTags

@Suite("Native tag format")
struct NativeFormatTests {
    @Test("CRC32C gives the standard check value")
    func crcCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        // Feeding in pieces equals feeding at once (exercises the 8-byte and byte paths).
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        var pieces = CRC32C()
        pieces.update(Array(data[0..<13]))
        pieces.update(Array(data[13...]))
        #expect(pieces.value == CRC32C.checksum(data))
    }

    @Test("events of every kind round-trip exactly, header included")
    func roundTrip() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        var batch = TagBatch(timesPs: [5, 5, 1_000, 999, Int64(1) << 50, -20, 7], channels: [0, 1, 300, -2, 3, 0, 1])
        batch.markers = [MarkerEvent(timePs: 17, marker: 4)]
        batch.gaps = [StreamGap(startPs: 100, endPs: 200, lostEvents: 12, channel: 1), StreamGap(startPs: 300, endPs: 300)]
        let header = TagStreamHeader(format: .ptu, device: "PicoHarp 300", mode: .t2, resolutionPs: 4, channelNames: [0: "alice-H", 1: "alice-V"],
                                     node: "lab-a/node-1", clock: "external 10 MHz", metadata: ["note": "ünïcode ok"])
        let path = directory.path("a.qtag")
        let writer = try NativeTagWriter(path: path, header: header, chunkTags: 3)
        try writer.write(batch)
        try writer.finish()
        let reader = try NativeTagReader(path: path)
        #expect(reader.header.device == "PicoHarp 300")
        #expect(reader.header.channelNames == [0: "alice-H", 1: "alice-V"])
        #expect(reader.header.node == "lab-a/node-1" && reader.header.clock == "external 10 MHz")
        #expect(reader.header.metadata["note"] == "ünïcode ok")
        #expect(reader.header.sourceFormat == .ptu && reader.header.resolutionPs == 4)
        var any: any TagReader = reader
        let (read, error) = drain(&any)
        #expect(error == nil)
        #expect(read.timesPs == batch.timesPs && read.channels == batch.channels)
        #expect(read.markers == batch.markers && read.gaps == batch.gaps)
        #expect(reader.tailStatus == .clean && reader.chunksRead == 3)
    }

    @Test("a typical two-channel stream takes at most 6 bytes per tag (2x smaller than 12)")
    func compact() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let batch = twoChannelStream(count: 200_000)
        let path = directory.path("b.qtag")
        let writer = try NativeTagWriter(path: path, header: TagStreamHeader(format: .native))
        try writer.write(batch)
        try writer.finish()
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let bytesPerTag = Double(size) / Double(batch.count)
        #expect(bytesPerTag <= 6, "measured \(bytesPerTag) bytes/tag")
        #expect(bytesPerTag < 4.5, "fixed-width deltas at 1 Mcps should need about 4 bytes/tag, measured \(bytesPerTag)")
        var reader: any TagReader = try NativeTagReader(path: path)
        #expect(try reader.readAll() == batch)
    }

    @Test("a writer killed mid-chunk leaves every complete chunk readable and a reported torn tail")
    func tornTail() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let batch = twoChannelStream(count: 5_000)
        let path = directory.path("c.qtag")
        let writer = try NativeTagWriter(path: path, header: TagStreamHeader(format: .native), chunkTags: 1_000)
        try writer.write(batch)
        try writer.finish()
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        // Cut inside the last chunk's header and inside its payload; also a zero-filled tail.
        let lastChunkSize = full.count - chunkOffsets(full).last!
        for cut in [1, 30, NativeTagFormat.chunkHeaderBytes + 10, lastChunkSize - 1] {
            let torn = full.prefix(full.count - lastChunkSize + cut)
            try torn.write(to: URL(fileURLWithPath: path))
            let reader = try NativeTagReader(path: path)
            var any: any TagReader = reader
            let (read, error) = drain(&any)
            #expect(error == nil)
            #expect(read.timesPs == Array(batch.timesPs[0..<4_000]))
            #expect(reader.tailStatus == .torn(offset: Int64(full.count - lastChunkSize), byteCount: Int64(cut)))
        }
        var zeroed = full.prefix(full.count - lastChunkSize)
        zeroed.append(Data(count: 700))
        try zeroed.write(to: URL(fileURLWithPath: path))
        let reader = try NativeTagReader(path: path)
        var any: any TagReader = reader
        #expect(try any.readAll().count == 4_000)
        #expect(reader.tailStatus == .torn(offset: Int64(full.count - lastChunkSize), byteCount: 700))
    }

    @Test("appending to a torn file cuts the tail, keeps the chunks and adds the new events")
    func append() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let batch = twoChannelStream(count: 3_000)
        let path = directory.path("d.qtag")
        let writer = try NativeTagWriter(path: path, header: TagStreamHeader(format: .native, node: "n1"), chunkTags: 1_000)
        try writer.write(batch)
        try writer.finish()
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        try full.prefix(full.count - 100).write(to: URL(fileURLWithPath: path))
        let appender = try NativeTagWriter(appendingTo: path, chunkTags: 1_000)
        #expect(appender.truncatedTailBytes > 0)
        #expect(appender.header.node == "n1")
        let more = TagBatch(timesPs: [Int64(1) << 40, (Int64(1) << 40) + 8], channels: [1, 0])
        try appender.write(more)
        try appender.finish()
        let reader = try NativeTagReader(path: path)
        var any: any TagReader = reader
        let read = try any.readAll()
        #expect(read.timesPs == Array(batch.timesPs[0..<2_000]) + more.timesPs)
        #expect(reader.tailStatus == .clean)
        // A clean file appends without cutting anything.
        let again = try NativeTagWriter(appendingTo: path)
        #expect(again.truncatedTailBytes == 0)
        try again.finish()
    }

    @Test("appending to a file with damage in the middle is refused")
    func appendRefusesDamage() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("e.qtag")
        let writer = try NativeTagWriter(path: path, header: TagStreamHeader(format: .native), chunkTags: 100)
        try writer.write(twoChannelStream(count: 300))
        try writer.finish()
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        let offsets = chunkOffsets(data)
        data[offsets[2] + NativeTagFormat.chunkHeaderBytes + 5] ^= 0xFF
        try data.write(to: URL(fileURLWithPath: path))
        #expect(throws: TagFileError.self) { try NativeTagWriter(appendingTo: path) }
    }

    @Test("a corrupted chunk: earlier chunks delivered, then a checksum error at the chunk's offset")
    func corruption() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let batch = twoChannelStream(count: 3_000)
        let path = directory.path("f.qtag")
        let writer = try NativeTagWriter(path: path, header: TagStreamHeader(format: .native), chunkTags: 1_000)
        try writer.write(batch)
        try writer.finish()
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        let offsets = chunkOffsets(data)
        data[offsets[1] + 60] ^= 0x01
        try data.write(to: URL(fileURLWithPath: path))
        var reader: any TagReader = try NativeTagReader(path: path)
        let (read, error) = drain(&reader)
        #expect(read.count == 1_000)
        let failure = try #require(error as? TagFileError)
        #expect(failure.kind == .checksumMismatch && failure.byteOffset == Int64(offsets[1]))
        #expect(failure.description.contains(path))
    }

    @Test("a bad magic or a damaged header is a specific error")
    func badHeader() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("g.qtag")
        try Data("not a tag file at all".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try NativeTagReader(path: path) } throws: { ($0 as? TagFileError)?.kind == .badMagic }
        let good = try NativeTagFormat.encodeHeader(TagStreamHeader(format: .native), path: "header")
        var damaged = good
        damaged[20] ^= 0x20
        try Data(damaged).write(to: URL(fileURLWithPath: path))
        #expect { try NativeTagReader(path: path) } throws: { ($0 as? TagFileError)?.kind == .checksumMismatch }
    }

    /// Offsets of every chunk in a native file.
    func chunkOffsets(_ data: Data) -> [Int] {
        let bytes = [UInt8](data)
        let jsonLength = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
        var offset = 20 + jsonLength
        var offsets: [Int] = []
        while offset + 8 <= bytes.count {
            offsets.append(offset)
            let payload = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6]) << 16 | Int(bytes[offset + 7]) << 24
            offset += NativeTagFormat.chunkHeaderBytes + payload
        }
        return offsets
    }
}
