import Foundation
import Testing
@testable import TimeTags

@Suite("Swabian, quTAG and CSV formats")
struct OtherFormatTests {
    func swabianRecord(type: UInt8, missed: UInt16 = 0, channel: Int32, timePs: Int64) -> Data {
        var data = Data([type, 0])
        data.appendLE(missed)
        data.appendLE(channel)
        data.appendLE(timePs)
        return data
    }

    @Test("Swabian dump: tags, and overflow and missed-event records as gaps")
    func swabian() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        var data = Data()
        data += swabianRecord(type: 0, channel: 1, timePs: 100)
        data += swabianRecord(type: 0, channel: -2, timePs: 150)
        data += swabianRecord(type: 2, channel: 0, timePs: 200)
        data += swabianRecord(type: 3, channel: 0, timePs: 900)
        data += swabianRecord(type: 4, missed: 42, channel: 3, timePs: 950)
        data += swabianRecord(type: 1, channel: 0, timePs: 960)
        data += swabianRecord(type: 0, channel: 3, timePs: 1000)
        data += swabianRecord(type: 2, channel: 0, timePs: 1100)
        data += swabianRecord(type: 0, channel: 1, timePs: 1200)
        let path = directory.path("t.ttdump")
        try data.write(to: URL(fileURLWithPath: path))
        var reader = try TagFiles.openReader(path: path, options: { var o = TagFiles.ReadOptions(); o.chunkSize = 3; return o }())
        #expect(reader.header.format == .swabianDump)
        let all = try reader.readAll()
        #expect(all.timesPs == [100, 150, 1000, 1200])
        #expect(all.channels == [1, -2, 3, 1])
        #expect(all.gaps == [
            StreamGap(startPs: 200, endPs: 900), StreamGap(startPs: 950, endPs: 950, lostEvents: 42, channel: 3),
            StreamGap(startPs: 960, endPs: 960), StreamGap(startPs: 1100, endPs: 1200),
        ])
        // A bad type after two good records: the good ones first, then an error at record 2.
        var bad = swabianRecord(type: 0, channel: 1, timePs: 1) + swabianRecord(type: 0, channel: 1, timePs: 2)
        bad += swabianRecord(type: 9, channel: 1, timePs: 3)
        try bad.write(to: URL(fileURLWithPath: path))
        var damaged: any TagReader = try SwabianDumpReader(path: path)
        let (read, error) = drain(&damaged)
        #expect(read.timesPs == [1, 2])
        #expect((error as? TagFileError)?.kind == .invalidRecord && (error as? TagFileError)?.byteOffset == 32)
    }

    @Test("quTAG binary: 40-byte header, 10-byte records scaled by the time base; truncation reported")
    func quTAG() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        var data = Data(repeating: 0x51, count: 40)
        for (time, channel) in [(Int64(10), UInt16(1)), (20, 2), (Int64(1) << 40, 5)] {
            data.appendLE(time)
            data.appendLE(channel)
        }
        data.append(contentsOf: [1, 2, 3])
        let path = directory.path("q.qutag")
        try data.write(to: URL(fileURLWithPath: path))
        var reader: any TagReader = try QuTAGReader(path: path, timeBasePs: 2)
        let (read, error) = drain(&reader)
        #expect(read.timesPs == [20, 40, Int64(1) << 41])
        #expect(read.channels == [1, 2, 5])
        #expect((error as? TagFileError)?.kind == .truncated && (error as? TagFileError)?.byteOffset == 70)
    }

    @Test("CSV: header, comments, markers and gaps parse; errors name the line and byte")
    func csvParse() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("t.csv")
        try "channel,time_ps\n# a comment\n0,10\r\n 1 , 20\nM2,15\nG,30,40,,\n\n-3,-9223372036854775808\n0,abc\n1,50\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        var reader: any TagReader = try CSVTagReader(path: path)
        let (read, error) = drain(&reader)
        #expect(read.timesPs == [10, 20, Int64.min])
        #expect(read.channels == [0, 1, -3])
        #expect(read.markers == [MarkerEvent(timePs: 15, marker: 2)])
        #expect(read.gaps == [StreamGap(startPs: 30, endPs: 40)])
        let failure = try #require(error as? TagFileError)
        #expect(failure.kind == .invalidRecord && failure.problem.contains("line 9"))
    }

    @Test("native to CSV to native is lossless")
    func nativeCSVRoundTrip() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        var batch = twoChannelStream(count: 20_000)
        batch.markers = [MarkerEvent(timePs: 5, marker: 1), MarkerEvent(timePs: 77_000, marker: 3)]
        batch.gaps = [StreamGap(startPs: 10, endPs: 20, lostEvents: 4, channel: 0), StreamGap(startPs: 30, endPs: 30)]
        let first = directory.path("a.qtag")
        let writer = try NativeTagWriter(path: first, header: TagStreamHeader(format: .native), chunkTags: 100_000)
        try writer.write(batch)
        try writer.finish()
        var reader = try TagFiles.openReader(path: first)
        var csv = try TagFiles.openWriter(path: directory.path("b.csv"), format: .csv, header: reader.header)
        _ = try TagFiles.convert(from: &reader, to: &csv)
        var csvReader = try TagFiles.openReader(path: directory.path("b.csv"))
        var back = try TagFiles.openWriter(path: directory.path("c.qtag"), format: .native, header: csvReader.header)
        let statistics = try TagFiles.convert(from: &csvReader, to: &back)
        #expect(statistics.photonCount == 20_000 && statistics.markerCount == 2 && statistics.gapCount == 2)
        var final = try TagFiles.openReader(path: directory.path("c.qtag"))
        #expect(try final.readAll() == batch)
    }

    @Test("format detection by magic and extension")
    func detection() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("x.unknown")
        try Data("PQTTTR\0\0".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try TagFiles.detectFormat(path: path) == .ptu)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        #expect { try TagFiles.detectFormat(path: path) } throws: { ($0 as? TagFileError)?.kind == .invalidArgument }
        #expect { try TagFiles.detectFormat(path: directory.path("missing.ptu")) } throws: { ($0 as? TagFileError)?.kind == .cannotOpen }
    }
}
