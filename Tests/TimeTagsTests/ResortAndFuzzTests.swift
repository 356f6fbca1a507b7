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

@Suite("Damaged and random input")
struct FuzzTests {
    @Test("random bytes and mutated files never crash or hang any reader")
    func randomInput() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        var generator = SeededGenerator(seed: 42)
        // Valid seeds of every format, then mutated.
        let nativePath = directory.path("seed.qtag")
        let writer = try NativeTagWriter(path: nativePath, header: TagStreamHeader(format: .native), chunkTags: 50)
        var seedBatch = twoChannelStream(count: 300)
        seedBatch.markers = [MarkerEvent(timePs: 3, marker: 1)]
        try writer.write(seedBatch)
        try writer.finish()
        let seeds: [(TagFileFormat, Data)] = [
            (.native, try Data(contentsOf: URL(fileURLWithPath: nativePath))),
            (.ptu, PTUEncoder.file(recordType: 0x0001_0204, globalResolution: 1e-12, resolution: 1e-12, records: SpecCase.make(.hydraHarpV1T2).records)),
            (.ptu, PTUEncoder.file(recordType: 0x0001_0303, globalResolution: 1e-7, resolution: 4e-12, records: SpecCase.make(.picoHarpT3).records)),
            (.csv, Data("channel,time_ps\n0,1\n1,2\nM1,3\nG,4,5,1,1\n".utf8)),
            (.swabianDump, Data((0..<64).map { UInt8($0 % 5) })),
            (.quTAG, Data((0..<90).map { UInt8($0) })),
        ]
        let path = directory.path("fuzz")
        var outcomes = 0
        for round in 0..<300 {
            let (format, seed) = seeds[round % seeds.count]
            var data: Data
            if round % 5 == 0 {
                data = Data((0..<Int(generator.next() % 600)).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
                if round % 10 == 0 && format == .native { data = Data(NativeTagFormat.fileMagic) + data }
                if round % 10 == 0 && format == .ptu { data = Data("PQTTTR".utf8) + data }
            } else {
                data = seed
                for _ in 0..<(1 + Int(generator.next() % 4)) where !data.isEmpty {
                    data[Int(generator.next() % UInt64(data.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
                if generator.next() % 3 == 0 { data = data.prefix(Int(generator.next() % UInt64(data.count + 1))) }
            }
            try data.write(to: URL(fileURLWithPath: path))
            do {
                var reader = try TagFiles.openReader(path: path, format: format)
                let (_, error) = drain(&reader, maxCalls: 10_000)
                if let error { #expect(error is TagFileError, "unexpected error type \(error)") }
                if let failure = error as? TagFileError { #expect(failure.problem != "reader did not terminate") }
            } catch {
                #expect(error is TagFileError, "unexpected error type \(error)")
            }
            outcomes += 1
        }
        #expect(outcomes == 300)
    }
}
