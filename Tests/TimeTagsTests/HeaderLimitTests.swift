import Foundation
import QLinkTestSupport
import Testing
@testable import TimeTags

/// Files with impossible time scales, as issue 14 found them, and how to build them.
enum BadHeaders {
    /// A T2 PTU file (PicoHarp 300) whose `MeasDesc_GlobalResolution` is `seconds`.
    static func ptuT2(globalResolution seconds: Double) -> Data {
        PTUEncoder.file(recordType: PTURecordType.picoHarp300T2.rawValue, globalResolution: seconds, resolution: 4e-12,
                        records: SpecCase.make(.picoHarpT2).records)
    }

    /// A T3 PTU file (MultiHarp) whose `MeasDesc_Resolution` is `seconds`.
    static func ptuT3(resolution seconds: Double) -> Data {
        PTUEncoder.file(recordType: PTURecordType.genericT3.rawValue, globalResolution: 1e-7, resolution: seconds,
                        records: SpecCase.make(.genericT3).records)
    }

    /// A T3 PTU file (MultiHarp) with sync period `seconds`: a photon, `overflows` overflow records of
    /// 1023 × 1024 syncs each, a photon.
    static func ptuT3Overflowing(syncPeriod seconds: Double, overflows: Int) -> Data {
        let photon: UInt32 = 1 << 25 | 5 << 10 | 1
        let overflow: UInt32 = 0x8000_0000 | 63 << 25 | 1023
        return PTUEncoder.file(recordType: PTURecordType.genericT3.rawValue, globalResolution: seconds, resolution: 4e-12,
                               records: [photon] + Array(repeating: overflow, count: overflows) + [photon])
    }

    /// The parsed header of the PTU file at `path`.
    static func ptuHeader(_ path: String) throws -> PTUHeader {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        return try bytes.withUnsafeBytes { try PTUHeaderParser.parse($0, path: path) }
    }

    /// A valid `.qtag` file: two chunks of four photons, a marker and a gap.
    static func native(at path: String) throws -> [UInt8] {
        let writer = try NativeTagWriter(path: path, header: TagStreamHeader(format: .native, mode: .t2, resolutionPs: 1), chunkTags: 4)
        var batch = TagBatch(timesPs: [10, 20, 30, 40, 50, 60, 70, 80], channels: [0, 1, 0, 1, 0, 1, 0, 1])
        batch.markers = [MarkerEvent(timePs: 25, marker: 1)]
        try writer.write(batch)
        try writer.finish()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// `bytes` (a `.qtag` file) with header field `key` set to the JSON number `value`.
    static func native(_ bytes: [UInt8], setting key: String, to value: String) -> [UInt8] {
        var edited = ReaderFuzzer.replacingNativeHeaderValue(bytes, key: key, value: value)
        ReaderFuzzer.repairNativeChecksums(&edited)
        return edited
    }

    /// `bytes` (a `.qtag` file) with the `Int64` at `field` (24: minimum, 32: maximum time) of chunk
    /// `chunk` set to `value`, checksums repaired; also returns the chunk's offset.
    static func native(_ bytes: [UInt8], chunk: Int, field: Int, to value: Int64) -> ([UInt8], Int) {
        var edited = bytes
        let offset = ReaderFuzzer.nativeChunkOffsets(bytes)[chunk]
        ReaderFuzzer.overwrite(&edited, at: offset + field, with: UInt64(bitPattern: value), width: 8)
        ReaderFuzzer.repairNativeChecksums(&edited)
        return (edited, offset)
    }
}

@Suite("Header values that scale time (reader API)")
struct HeaderLimitTests {
    @Test("PTU: a huge, infinite, NaN, zero, negative or 1 ms T2 time unit is a header error at the field", arguments: [
        1e300, Double.infinity, -Double.infinity, Double.nan, 0, -1e-12, 1e-3, 1e-16,
    ])
    func ptuGlobalResolution(seconds: Double) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("bad.ptu")
        try BadHeaders.ptuT2(globalResolution: seconds).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: TagFileError.self) { try PTUReader(path: path) }
        let header = try BadHeaders.ptuHeader(path)
        #expect(error.kind == .badHeader)
        #expect(error.byteOffset == Int64(try #require(header.byteOffset(of: "MeasDesc_GlobalResolution"))))
        #expect(error.problem.contains("MeasDesc_GlobalResolution") && error.problem.contains("T2 time unit"))
        #expect(error.description.hasPrefix(path))
    }

    @Test("PTU: a huge or infinite T3 fine-time bin is a header error at the field", arguments: [1e300, Double.infinity, 0, 1e-3])
    func ptuResolution(seconds: Double) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("bad.ptu")
        try BadHeaders.ptuT3(resolution: seconds).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: TagFileError.self) { try PTUReader(path: path) }
        #expect(error.kind == .badHeader && error.problem.contains("MeasDesc_Resolution"))
    }

    @Test("PTU: times beyond 64-bit ps stop at the record that passes the range, never wrap")
    func ptuTimeOverflow() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        for (syncPeriod, overflows) in [(1.0, 20), (1e-3, 9_000)] {
            let path = directory.path("long.ptu")
            try BadHeaders.ptuT3Overflowing(syncPeriod: syncPeriod, overflows: overflows).write(to: URL(fileURLWithPath: path))
            var reader: any TagReader = try PTUReader(path: path, options: .init(chunkRecords: 64))
            let (events, error) = drain(&reader)
            let failure = try #require(error as? TagFileError)
            #expect(failure.kind == .invalidRecord && failure.problem.contains("64-bit picosecond range"))
            // The first record whose overflow count passes the limit, computed independently.
            let limitSyncs = Int64((Double(TimeScaleLimits.maxTimePs) - 32767 * 4) / (syncPeriod * 1e12)) - 1024
            let firstBad = 1 + Int(limitSyncs / (1023 * 1024)) + 1
            #expect(firstBad <= overflows)
            let dataOffset = try BadHeaders.ptuHeader(path).dataOffset
            #expect(failure.byteOffset == Int64(dataOffset + 4 * (firstBad - 1)))
            #expect(events.timesPs == [Int64((syncPeriod * 1e12).rounded()) + 20])
        }
    }

    @Test(".qtag: resolution 0, -1, 1e308 and a zero sync period are header errors at the JSON key", arguments: [
        ("resolutionPs", "0"), ("resolutionPs", "-1"), ("resolutionPs", "1e308"), ("syncPeriodPs", "0"),
    ])
    func nativeResolution(key: String, value: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("bad.qtag")
        let bytes = BadHeaders.native(try BadHeaders.native(at: directory.path("good.qtag")), setting: key, to: value)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: TagFileError.self) { try NativeTagReader(path: path) }
        #expect(error.kind == .badHeader && error.problem.hasPrefix("\(key) = "))
        let offset = Int(try #require(error.byteOffset))
        #expect(Array(bytes[offset..<(offset + key.count + 2)]) == Array("\"\(key)\"".utf8))
        var stream = TagStreamDecoder(format: .native, name: "pipe")
        #expect(throws: TagFileError.self) { _ = try stream.feed(bytes) }
    }

    @Test(".qtag: a chunk time range that contradicts its data is an error naming the chunk and its offset", arguments: [
        (0, 24, Int64(5)), (0, 32, Int64(41)), (1, 24, Int64(51)), (1, 32, Int64.max),
    ])
    func nativeChunkRange(chunk: Int, field: Int, value: Int64) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("bad.qtag")
        let (bytes, offset) = BadHeaders.native(try BadHeaders.native(at: directory.path("good.qtag")), chunk: chunk, field: field, to: value)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var reader: any TagReader = try NativeTagReader(path: path)
        let (events, error) = drain(&reader)
        let failure = try #require(error as? TagFileError)
        #expect(failure.kind == .invalidRecord && failure.byteOffset == Int64(offset))
        #expect(failure.problem.contains("chunk \(chunk) header states the time range"))
        #expect(events.count == 4 * chunk)
    }

    @Test("a writer refuses a header it could not read back, before creating the file")
    func writerRefuses() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("never.qtag")
        #expect(throws: TagFileError.self) { try NativeTagWriter(path: path, header: TagStreamHeader(format: .native, resolutionPs: 0)) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("quTAG: an impossible time base is refused; a time that overflows 64 bits stops at its record")
    func quTAG() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("q.qutag")
        var data = Data(repeating: 0, count: QuTAGReader.headerBytes)
        for time in [Int64(5), Int64.max / 2] {
            data.appendLE(time)
            data.appendLE(UInt16(1))
        }
        try data.write(to: URL(fileURLWithPath: path))
        for base in [Int64(0), -4, 2_000_000] {
            #expect(throws: TagFileError.self) { try QuTAGReader(path: path, timeBasePs: base) }
        }
        var reader: any TagReader = try QuTAGReader(path: path, timeBasePs: 4)
        let (events, error) = drain(&reader)
        #expect(events.timesPs == [20])
        #expect((error as? TagFileError)?.byteOffset == Int64(QuTAGReader.headerBytes + 10))
    }
}

@Suite("Bad headers through the qlink binary", .enabled(if: QLinkRunner.isBuilt, "the qlink executable is not built"))
struct HeaderLimitCommandTests {
    /// Runs `tags info`, `tags convert … .qtag` and `… .csv` on `bytes`; each must fail with exit 1,
    /// a message containing `expected`, and leave no output (nor a staging file) behind.
    func expectRefused(_ bytes: Data, name: String, expected: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        try bytes.write(to: directory.url.appendingPathComponent(name))
        let info = try QLinkRunner.run(["tags", "info", name], in: directory.url)
        #expect(info.status == 1, "tags info: \(info.error)")
        #expect(info.error.contains(expected), "tags info: \(info.error)")
        for output in ["out.qtag", "out.csv"] {
            let convert = try QLinkRunner.run(["tags", "convert", "--quiet", name, output], in: directory.url)
            #expect(convert.status == 1, "convert to \(output): \(convert.error)")
            #expect(convert.error.contains(expected) && convert.error.contains("nothing was written to \(output)"), "\(convert.error)")
            let left = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).filter { !$0.hasPrefix("qlink-") }
            #expect(left == [name], "left behind: \(left)")
        }
    }

    @Test("PTU with a huge, infinite or 1 ms time unit, or an infinite fine bin: exit 1, field named, no output")
    func ptu() throws {
        for seconds in [1e300, Double.infinity, 1e-3] {
            try expectRefused(BadHeaders.ptuT2(globalResolution: seconds), name: "bad.ptu", expected: "MeasDesc_GlobalResolution")
        }
        try expectRefused(BadHeaders.ptuT3(resolution: .infinity), name: "bad.ptu", expected: "MeasDesc_Resolution")
    }

    @Test("PTU whose times pass the 64-bit range mid-file: convert fails and leaves nothing")
    func ptuOverflow() throws {
        try expectRefused(BadHeaders.ptuT3Overflowing(syncPeriod: 1, overflows: 20), name: "long.ptu", expected: "64-bit picosecond range")
    }

    @Test(".qtag with resolution 0, -1 or 1e308, or a contradicting chunk range: exit 1, field or chunk named, no output")
    func native() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let good = try BadHeaders.native(at: directory.path("good.qtag"))
        for value in ["0", "-1", "1e308"] {
            try expectRefused(Data(BadHeaders.native(good, setting: "resolutionPs", to: value)), name: "bad.qtag", expected: "resolutionPs = ")
        }
        let (contradicting, _) = BadHeaders.native(good, chunk: 1, field: 32, to: 1_000)
        try expectRefused(Data(contradicting), name: "bad.qtag", expected: "chunk 1 header states the time range")
    }

    @Test("a good conversion still lands at the output; an existing output is kept without --force")
    func goodConversion() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        _ = try BadHeaders.native(at: directory.path("good.qtag"))
        let first = try QLinkRunner.run(["tags", "convert", "--quiet", "good.qtag", "out.csv"], in: directory.url)
        #expect(first.status == 0, "\(first.error)")
        let written = try String(contentsOfFile: directory.path("out.csv"), encoding: .utf8)
        #expect(written.hasPrefix("channel,time_ps\n0,10\n"))
        let second = try QLinkRunner.run(["tags", "convert", "--quiet", "good.qtag", "out.csv"], in: directory.url)
        #expect(second.status == 1 && second.error.contains("already exists"))
        #expect(try String(contentsOfFile: directory.path("out.csv"), encoding: .utf8) == written)
        let forced = try QLinkRunner.run(["tags", "convert", "--quiet", "--force", "good.qtag", "out.csv"], in: directory.url)
        #expect(forced.status == 0, "\(forced.error)")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).filter { !$0.hasPrefix("qlink-") }.sorted()
        #expect(left == ["good.qtag", "out.csv"])
    }
}
