import Foundation
import Testing
@testable import TimeTags

/// CSV headers name the columns and the time unit; files and pipes read them with the same parser.
@Suite("CSV headers: column order and time units")
struct CSVUnitsTests {
    /// Reads `text` as a CSV file and, byte by byte, as a CSV pipe; both must agree.
    static func read(_ text: String) throws -> (batch: TagBatch, error: TagFileError?) {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("t.csv")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var reader: any TagReader = try CSVTagReader(path: path)
        let (fromFile, fileError) = drain(&reader)
        var decoder = TagStreamDecoder(format: .csv, name: "pipe")
        var fromPipe = TagBatch()
        var pipeError: TagFileError?
        do {
            for byte in Array(text.utf8) { fromPipe.append(contentsOf: try decoder.feed([byte])) }
            fromPipe.append(contentsOf: try decoder.finish())
        } catch {
            pipeError = error
        }
        #expect(fromFile.timesPs == fromPipe.timesPs && fromFile.channels == fromPipe.channels && fromFile.markers == fromPipe.markers,
                "file and pipe disagree on \(text.debugDescription)")
        #expect((fileError == nil) == (pipeError == nil), "file: \(String(describing: fileError)), pipe: \(String(describing: pipeError))")
        return (fromFile, fileError as? TagFileError)
    }

    @Test("a time_ns column is nanoseconds, not picoseconds (the silent 1000× error)")
    func nanoseconds() throws {
        let (batch, error) = try Self.read("channel,time_ns\n1,1234\n2,1234.5\n1,1234.0005\n1,1234.0004999\nM3,2000\n")
        #expect(error == nil)
        #expect(batch.timesPs == [1_234_000, 1_234_500, 1_234_001, 1_234_000])
        #expect(batch.channels == [1, 2, 1, 1])
        #expect(batch.markers == [MarkerEvent(timePs: 2_000_000, marker: 3)])
    }

    @Test("time_ps,channel: the column order comes from the header")
    func swappedColumns() throws {
        let (batch, error) = try Self.read("# from a lab script\ntime_ps,channel\n100,4\n250,5\n")
        #expect(error == nil)
        #expect(batch.timesPs == [100, 250] && batch.channels == [4, 5])
    }

    @Test("µs and s columns, with fractions, exponents and negative times, round to the nearest picosecond")
    func microsecondsAndSeconds() throws {
        let us = try Self.read("channel,time_us\n0,-1.5\n0,2.0000004\n0,3e-6\n")
        #expect(us.error == nil)
        #expect(us.batch.timesPs == [-1_500_000, 2_000_000, 3])
        let s = try Self.read("time_s,channel\n1.5e-9,1\n0.000000000001,1\n9.2e6,1\n0.12345678901234567891,1\n")
        #expect(s.error == nil)
        #expect(s.batch.timesPs == [1_500, 1, 9_200_000_000_000_000_000, 123_456_789_012])
    }

    @Test("unknown or unit-less time columns are refused with the accepted names", arguments: ["channel,time", "channel,time_ms", "chan,time_ps", "channel,time_ps,x"])
    func unknownHeaders(header: String) throws {
        let (batch, error) = try Self.read("\(header)\n1,100\n")
        #expect(batch.isEmpty)
        let failure = try #require(error)
        #expect(failure.kind == .invalidRecord && failure.problem.contains("line 1"), "\(failure)")
        #expect(failure.hint?.contains("time_ns") == true, "\(failure)")
    }

    @Test("a time too large for 64-bit picoseconds is an error, not a wrapped value")
    func overflow() throws {
        let (batch, error) = try Self.read("channel,time_s\n1,1\n1,9300000\n")
        #expect(batch.timesPs == [1_000_000_000_000])
        let failure = try #require(error)
        #expect(failure.problem.contains("line 3") && failure.problem.contains("does not fit"), "\(failure)")
    }

    @Test("headerless files stay channel,time_ps; a first marker or gap line is not a header")
    func headerless() throws {
        let (batch, error) = try Self.read("M1,5\n0,10\nG,20,30,,\n1,40\n")
        #expect(error == nil)
        #expect(batch.timesPs == [10, 40] && batch.markers == [MarkerEvent(timePs: 5, marker: 1)] && batch.gaps.count == 1)
    }
}
