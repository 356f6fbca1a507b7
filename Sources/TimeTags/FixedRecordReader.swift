/// Shared machinery of readers for headerless or fixed-header files of fixed-size records:
/// mapping, chunking, truncation handling and the deliver-then-throw error order.
struct FixedRecordCursor {
    let file: MappedFile
    let dataOffset: Int
    let recordBytes: Int
    let recordCount: Int
    var nextRecord = 0
    var pendingError: TagFileError?
    var finished = false

    init(file: MappedFile, dataOffset: Int, recordBytes: Int, formatName: String) {
        self.file = file
        self.dataOffset = dataOffset
        self.recordBytes = recordBytes
        let available = max(0, file.count - dataOffset)
        recordCount = available / recordBytes
        if available % recordBytes != 0 {
            pendingError = TagFileError(.truncated, file: file.path, byteOffset: Int64(dataOffset + recordCount * recordBytes),
                                        problem: "file ends inside a \(formatName) record (\(available % recordBytes) of \(recordBytes) bytes)",
                                        hint: "the recording was probably cut short; everything before this point was read")
        }
    }

    var bytesConsumed: Int64 { Int64(dataOffset + nextRecord * recordBytes) }

    /// The next run of at most `limit` records, or `nil` at the end (throwing a pending error).
    mutating func nextRecords(limit: Int) throws -> (UnsafeRawBufferPointer, firstIndex: Int)? {
        if finished || nextRecord >= recordCount {
            finished = true
            if let error = pendingError {
                pendingError = nil
                throw error
            }
            return nil
        }
        let count = min(limit, recordCount - nextRecord)
        let start = dataOffset + nextRecord * recordBytes
        let first = nextRecord
        nextRecord += count
        file.release(upTo: start)
        return (UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + count * recordBytes)]), first)
    }

    /// Stops after the records consumed so far, remembering `error` for the next call.
    mutating func stop(at recordIndex: Int, _ problem: String) {
        pendingError = TagFileError(.invalidRecord, file: file.path, byteOffset: Int64(dataOffset + recordIndex * recordBytes),
                                    problem: "record \(recordIndex): \(problem)", hint: "the file is damaged or not in the format given")
        nextRecord = recordCount
    }
}

/// Streams a Swabian Instruments Time Tagger raw stream dump: 16-byte little-endian records
/// `{UInt8 type, UInt8 reserved, UInt16 missedEvents, Int32 channel, Int64 timePs}`.
/// Type 0 is a time tag; 1 (error), 2/3 (overflow begin/end) and 4 (missed events) become
/// ``StreamGap``s, never dropped silently.
public final class SwabianDumpReader: TagReader {
    /// The header (the dump has none; this describes it).
    public let header: TagStreamHeader
    private var cursor: FixedRecordCursor
    private let chunkRecords: Int
    private var overflowStartPs: Int64?
    private var lastTimePs: Int64 = 0

    /// Maps `path`; `chunkRecords` bounds the records per batch.
    public init(path: String, chunkRecords: Int = 1 << 16) throws {
        let file = try MappedFile(path: path)
        cursor = FixedRecordCursor(file: file, dataOffset: 0, recordBytes: 16, formatName: "Time Tagger")
        self.chunkRecords = max(1, chunkRecords)
        header = TagStreamHeader(format: .swabianDump, device: "Swabian Instruments Time Tagger", mode: .t2,
                                 resolutionPs: 1, recordCount: Int64(cursor.recordCount))
    }

    public var bytesConsumed: Int64 { cursor.bytesConsumed }
    public var totalBytes: Int64? { Int64(cursor.file.count) }

    public func next() throws -> TagBatch? {
        guard let (records, first) = try cursor.nextRecords(limit: chunkRecords) else {
            return nil
        }
        var batch = TagBatch(capacity: records.count / 16)
        for index in 0..<(records.count / 16) {
            let offset = index * 16
            let type = records.load(fromByteOffset: offset, as: UInt8.self)
            let missed = records.le(offset + 2, as: UInt16.self)
            let channel = records.le(offset + 4, as: Int32.self)
            let time = records.le(offset + 8, as: Int64.self)
            switch type {
            case 0:
                batch.append(timePs: time, channel: channel)
            case 1:
                batch.gaps.append(StreamGap(startPs: time, endPs: time))
            case 2:
                overflowStartPs = overflowStartPs ?? time
            case 3:
                batch.gaps.append(StreamGap(startPs: overflowStartPs ?? time, endPs: time))
                overflowStartPs = nil
            case 4:
                batch.gaps.append(StreamGap(startPs: time, endPs: time, lostEvents: Int64(missed), channel: channel))
            default:
                cursor.stop(at: first + index, "unknown tag type \(type) (allowed 0-4)")
                return batch
            }
            lastTimePs = time
        }
        if cursor.nextRecord >= cursor.recordCount, let start = overflowStartPs {
            // The stream ended inside an overflow: report the gap up to the last time seen.
            batch.gaps.append(StreamGap(startPs: start, endPs: max(start, lastTimePs)))
            overflowStartPs = nil
        }
        return batch
    }
}

/// Streams a qutools quTAG binary time-stamp file: a 40-byte header, then 10-byte little-endian
/// records `{Int64 time, UInt16 channel}`, the time in units of the device time base.
public final class QuTAGReader: TagReader {
    /// Bytes before the first record.
    public static let headerBytes = 40
    /// The header (describes the stream; the vendor header bytes are in metadata as hex).
    public let header: TagStreamHeader
    private var cursor: FixedRecordCursor
    private let chunkRecords: Int
    private let timeBasePs: Int64

    /// Maps `path`. `timeBasePs` is the device time base (1 ps for quTAG HR/MC).
    public init(path: String, timeBasePs: Int64 = 1, chunkRecords: Int = 1 << 16) throws {
        let file = try MappedFile(path: path)
        guard file.count >= Self.headerBytes else {
            throw TagFileError(.truncated, file: path, byteOffset: Int64(file.count),
                               problem: "file is \(file.count) bytes, shorter than the 40-byte quTAG header")
        }
        guard TimeScaleLimits.quTAGTimeBasePs.contains(timeBasePs) else {
            throw TagFileError(.invalidArgument, file: path,
                               problem: "quTAG time base \(timeBasePs) ps is not possible (allowed \(TimeScaleLimits.quTAGTimeBasePs.lowerBound)"
                                   + " to \(TimeScaleLimits.quTAGTimeBasePs.upperBound) ps)",
                               hint: "every quTAG model has a 1 ps time base")
        }
        cursor = FixedRecordCursor(file: file, dataOffset: Self.headerBytes, recordBytes: 10, formatName: "quTAG")
        self.chunkRecords = max(1, chunkRecords)
        self.timeBasePs = timeBasePs
        let vendor = file.bytes[0..<Self.headerBytes].map { String($0, radix: 16) }.joined(separator: " ")
        header = TagStreamHeader(format: .quTAG, device: "qutools quTAG", mode: .t2, resolutionPs: Double(timeBasePs),
                                 recordCount: Int64(cursor.recordCount), metadata: ["quTAG header bytes": vendor])
    }

    public var bytesConsumed: Int64 { cursor.bytesConsumed }
    public var totalBytes: Int64? { Int64(cursor.file.count) }

    public func next() throws -> TagBatch? {
        guard let (records, first) = try cursor.nextRecords(limit: chunkRecords) else { return nil }
        let count = records.count / 10
        var batch = TagBatch(capacity: count)
        for index in 0..<count {
            let time = records.le(index * 10, as: Int64.self)
            let (timePs, overflow) = time.multipliedReportingOverflow(by: timeBasePs)
            guard !overflow else {
                cursor.stop(at: first + index, "time \(time) × time base \(timeBasePs) ps does not fit 64 bits")
                return batch
            }
            batch.append(timePs: timePs, channel: TagChannel(records.le(index * 10 + 8, as: UInt16.self)))
        }
        return batch
    }
}
