import Foundation
import Testing
@testable import TimeTags

/// The input families the fuzz driver mutates, per format.
enum FuzzSeeds {
    static func seeds(_ format: TagFileFormat, directory: TemporaryDirectory) throws -> [ReaderFuzzer.Seed] {
        switch format {
        case .ptu: return try PTURecordType.all.map(ptu)
        case .native: return [try native(directory: directory)]
        case .csv:
            return [.init(name: "csv", format: .csv, bytes: Array("channel,time_ps\n0,1\n1,2\n# note\nM1,3\nG,4,5,1,1\n-3,-9\nG,6,7,,\n2,9223372036854775807\n".utf8))]
        case .swabianDump:
            var bytes: [UInt8] = []
            for (type, time) in [(0, 100), (2, 200), (3, 900), (4, 950), (1, 960), (0, Int64.max), (2, 1100), (0, -5)] as [(UInt8, Int64)] {
                bytes += [type, 0]
                bytes.appendLE(UInt16(7))
                bytes.appendLE(Int32(type == 0 ? 1 : -2))
                bytes.appendLE(time)
            }
            return [.init(name: "swabian", format: .swabianDump, bytes: bytes)]
        case .quTAG:
            var bytes = [UInt8](repeating: 0x51, count: QuTAGReader.headerBytes)
            for (time, channel) in [(Int64(10), UInt16(1)), (20, 2), (Int64(1) << 40, 5), (-7, 0), (Int64.max, 3)] {
                bytes.appendLE(time)
                bytes.appendLE(channel)
            }
            return [.init(name: "qutag", format: .quTAG, bytes: bytes)]
        }
    }

    /// A spec-built PTU file of `type` (the hand-made records twice), with its time-scaling fields marked.
    static func ptu(_ type: PTURecordType) throws -> ReaderFuzzer.Seed {
        let layout = try #require(type.layout)
        let records = SpecCase.make(layout).records
        let data = PTUEncoder.file(recordType: type.rawValue, globalResolution: layout.isT3 ? 1e-7 : 4e-12, resolution: 4e-12,
                                   records: records + records)
        let bytes = [UInt8](data)
        let header = try bytes.withUnsafeBytes { try PTUHeaderParser.parse($0, path: "seed") }
        let fields = [("MeasDesc_GlobalResolution", true), ("MeasDesc_Resolution", true), ("TTResult_NumberOfRecords", false),
                      ("TTResultFormat_TTTRRecType", false), ("File_CreatingTime", true), ("ChanDelays", false)]
            .compactMap { name, isFloat in header.byteOffset(of: name).map { (name: name, offset: $0 + 40, isFloat: isFloat) } }
        return .init(name: "ptu \(type)", format: .ptu, bytes: bytes, fields: fields)
    }

    /// A `.qtag` file of four-photon chunks with scaled times, exceptions, markers and gaps.
    static func native(directory: TemporaryDirectory) throws -> ReaderFuzzer.Seed {
        let path = directory.path("seed.qtag")
        let header = TagStreamHeader(format: .ptu, device: "fuzz", mode: .t3, resolutionPs: 4, syncPeriodPs: 100_000)
        let writer = try NativeTagWriter(path: path, header: header, chunkTags: 4)
        var batch = TagBatch(timesPs: [0, 4, 8, 1 << 40, (1 << 40) + 400, 1 << 50, (1 << 50) + 4, -400, 12, 16], channels: [0, 1, 300, 2, 0, 1, 1, -1, 0, 0])
        batch.markers = [MarkerEvent(timePs: 8, marker: 1)]
        batch.gaps = [StreamGap(startPs: 12, endPs: 14, lostEvents: 3, channel: 1)]
        try writer.write(batch)
        try writer.finish()
        return .init(name: "qtag", format: .native, bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }
}

@Suite("Reader fuzz (mutated inputs of every format)")
struct ReaderFuzzTests {
    /// Mutated inputs per format: `QLINK_FUZZ_ITERATIONS`, default 10 000.
    static let iterations = ProcessInfo.processInfo.environment["QLINK_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 10_000
    /// Run seed: `QLINK_FUZZ_SEED`, default fixed (the run is deterministic).
    static let runSeed = ProcessInfo.processInfo.environment["QLINK_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x514C_494E_4B

    @Test("no crash, no hang, only TagFileErrors and no wrapped times", arguments: TagFileFormat.allCases)
    func fuzz(format: TagFileFormat) throws {
        let directory = try TemporaryDirectory()
        let seeds = try FuzzSeeds.seeds(format, directory: directory)
        let inputPath = directory.path("input.\(format.rawValue)")
        let casePath = directory.path("case.txt")
        print("fuzz \(format.rawValue): seed \(Self.runSeed), \(Self.iterations) inputs; a crash leaves the input and its mutations in \(directory.url.path)")
        let inputFile = try ScratchFile(path: inputPath), caseFile = try ScratchFile(path: casePath)
        var failures = 0
        var outcomes: [String: Int] = [:]
        let started = Date()
        for iteration in 0..<Self.iterations where failures < 5 {
            let seed = seeds[iteration % seeds.count]
            let input = ReaderFuzzer.mutate(seed, runSeed: Self.runSeed, iteration: iteration)
            let label = "seed \(Self.runSeed) \(format.rawValue) iteration \(iteration): \(input.description)"
            try inputFile.replaceContents(with: input.bytes)
            try caseFile.replaceContents(with: Array(label.utf8))
            let outcome = Self.read(inputPath, format: format, byteCount: input.bytes.count, resortWindowPs: iteration % 7 == 3 ? 1_000 : nil,
                                    quTAGTimeBasePs: iteration % 2 == 0 ? 1 : 1_000)
            outcomes[outcome.ending, default: 0] += 1
            if let problem = outcome.problem ?? Self.stream(input.bytes, format: format) {
                Issue.record("\(label): \(problem)")
                failures += 1
            }
        }
        let endings = outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("fuzz \(format.rawValue): \(Self.iterations) inputs in \(String(format: "%.2f", Date().timeIntervalSince(started))) s; ended: \(endings)")
        if failures == 0 { directory.cleanUp() }
    }

    /// Reads `path` to the end through ``TagFiles/openReader``: how the read ended (`end of data` or the
    /// error kind) and the problem found, if any.
    static func read(
        _ path: String, format: TagFileFormat, byteCount: Int, resortWindowPs: Int64?, quTAGTimeBasePs: Int64
    ) -> (ending: String, problem: String?) {
        var options = TagFiles.ReadOptions()
        options.chunkSize = 3
        options.resortWindowPs = resortWindowPs
        options.quTAGTimeBasePs = quTAGTimeBasePs
        let reader: any TagReader
        do {
            reader = try TagFiles.openReader(path: path, format: format, options: options)
        } catch let error as TagFileError {
            return ("open: \(error.kind.rawValue)", nil)
        } catch {
            return ("open: other", "open threw \(type(of: error)): \(error)")
        }
        var source = reader
        let bound = ReaderFuzzer.eventBound(format, byteCount: byteCount)
        let (events, error) = drain(&source, maxCalls: byteCount + 16)
        let ending = (error as? TagFileError).map { "read: \($0.kind.rawValue)" } ?? (error == nil ? "end of data" : "read: other")
        if let error, !(error is TagFileError) { return (ending, "threw \(type(of: error)): \(error)") }
        if let failure = error as? TagFileError, failure.problem == "reader did not terminate" {
            return (ending, "more than \(byteCount + 16) calls to next()")
        }
        let delivered = events.count + events.markers.count + events.gaps.count
        if delivered > bound { return (ending, "\(delivered) events from \(byteCount) bytes (at most \(bound) fit)") }
        if format == .ptu, let bad = (events.timesPs + events.markers.map(\.timePs)).first(where: { $0 < 0 || $0 > TimeScaleLimits.maxTimePs }) {
            return (ending, "time \(bad) ps outside 0…\(TimeScaleLimits.maxTimePs) (wrapped)")
        }
        return (ending, nil)
    }

    /// Feeds `bytes` in three pieces to a ``TagStreamDecoder`` (native and CSV); the problem found, or `nil`.
    static func stream(_ bytes: [UInt8], format: TagFileFormat) -> String? {
        let streamFormat: TagStreamFormat
        switch format {
        case .native: streamFormat = .native
        case .csv: streamFormat = .csv
        default: return nil
        }
        var decoder = TagStreamDecoder(format: streamFormat, name: "fuzz stream")
        let cut1 = bytes.count / 3, cut2 = 2 * bytes.count / 3
        do {
            for piece in [bytes[0..<cut1], bytes[cut1..<cut2], bytes[cut2...]] { _ = try decoder.feed(piece) }
            _ = try decoder.finish()
        } catch {
            // Typed throws: every error is a TagFileError.
        }
        return nil
    }
}

/// A file rewritten in place for every fuzz input. It stays open and is never truncated to zero:
/// `Data.write` (fsync) and truncate-and-rewrite (ext4 flushes it on close) cost milliseconds per input.
final class ScratchFile {
    let path: String
    private let descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw TagFileError(.cannotOpen, file: path, problem: "cannot create the fuzz input") }
    }

    deinit { close(descriptor) }

    func replaceContents(with bytes: [UInt8]) throws {
        guard lseek(descriptor, 0, SEEK_SET) == 0 else { throw TagFileError(.ioFailure, file: path, problem: "cannot seek") }
        try bytes.withUnsafeBytes { try writeFully(descriptor, $0, path: path) }
        guard ftruncate(descriptor, off_t(bytes.count)) == 0 else { throw TagFileError(.ioFailure, file: path, problem: "cannot truncate") }
    }
}
