import Foundation
import Testing
@testable import TimeTags

@Suite("Tag stream decoder (pipes)")
struct TagStreamDecoderTests {
    func sampleBatch(_ count: Int) -> TagBatch {
        var generator = SystemRandomNumberGenerator()
        var time: Int64 = 1_000
        var batch = TagBatch()
        for _ in 0..<count {
            time += Int64.random(in: 1...5_000_000, using: &generator)
            batch.append(timePs: time, channel: TagChannel.random(in: 0...20, using: &generator))
        }
        return batch
    }

    func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "qlink-stream-\(UUID().uuidString)-\(name)"
    }

    /// Feeds `bytes` in pieces of random sizes and collects the tags.
    func decodeInPieces(_ bytes: [UInt8], format: TagStreamFormat) throws -> TagBatch {
        var decoder = TagStreamDecoder(format: format)
        var result = TagBatch()
        var position = 0
        while position < bytes.count {
            let size = min(bytes.count - position, Int.random(in: 1...9_000))
            result.append(contentsOf: try decoder.feed(bytes[position..<(position + size)]))
            position += size
        }
        result.append(contentsOf: try decoder.finish())
        return result
    }

    @Test func nativeStreamInArbitraryPiecesGivesEveryTag() throws {
        let path = temporaryPath("a.qtag")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let truth = sampleBatch(50_000)
        let writer = try NativeTagWriter(path: path, header: TagStreamHeader(format: .native), chunkTags: 4_096)
        try writer.write(truth)
        try writer.finish()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let decoded = try decodeInPieces(bytes, format: .native)
        #expect(decoded.timesPs == truth.timesPs)
        #expect(decoded.channels == truth.channels)
    }

    @Test func csvStreamInArbitraryPiecesGivesEveryTag() throws {
        let truth = sampleBatch(5_000)
        var text = "channel,time_ps\n# a comment\n"
        for index in 0..<truth.count { text += "\(truth.channels[index]),\(truth.timesPs[index])\r\n" }
        let decoded = try decodeInPieces(Array(text.utf8), format: .csv)
        #expect(decoded.timesPs == truth.timesPs)
        #expect(decoded.channels == truth.channels)
    }

    @Test func corruptOrTruncatedStreamsAreErrorsNotCrashes() throws {
        let path = temporaryPath("b.qtag")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try NativeTagWriter(path: path, header: TagStreamHeader(format: .native), chunkTags: 1_000)
        try writer.write(sampleBatch(3_000))
        try writer.finish()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // A flipped byte in the last chunk's payload: its checksum fails. The two good chunks before it
        // come out first; the error follows.
        var flipped = bytes
        flipped[flipped.count - 10] ^= 0x40
        var decoder = TagStreamDecoder(format: .native)
        #expect(try decoder.feed(flipped).count == 2_000)
        #expect(throws: TagFileError.self) { _ = try decoder.finish() }
        // A stream that stops mid-chunk: the complete chunks come out, finish() reports the rest.
        var truncated = TagStreamDecoder(format: .native)
        let partial = try truncated.feed(bytes.dropLast(100))
        #expect(partial.count == 2_000)
        #expect(throws: TagFileError.self) { _ = try truncated.finish() }
        // CSV with a bad line.
        var csv = TagStreamDecoder(format: .csv)
        #expect(try csv.feed(Array("1,100\nnot a tag\n".utf8)).count == 1)
        #expect(throws: TagFileError.self) { _ = try csv.feed(Array("2,200\n".utf8)) }
        // Random bytes as native: an error, never a crash.
        var random = TagStreamDecoder(format: .native)
        #expect(throws: TagFileError.self) { _ = try random.feed((0..<4_096).map { _ in UInt8.random(in: 0...255) }) }
    }
}
