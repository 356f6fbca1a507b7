/// T3 detail columns parallel to a ``TagBatch``: the absolute sync count and the fine time
/// (in units of the T3 resolution) of every photon. `TagBatch.timesPs` holds the combined time.
public struct T3Columns: Sendable, Equatable {
    /// Absolute sync count of each photon (overflows included).
    public var syncCounts: [Int64]
    /// Fine time of each photon in T3 resolution bins.
    public var fineTimes: [UInt16]

    /// Creates the columns.
    public init(syncCounts: [Int64] = [], fineTimes: [UInt16] = []) {
        self.syncCounts = syncCounts
        self.fineTimes = fineTimes
    }
}

/// Streams a PicoQuant PTU file (T2 or T3, every record type in ``PTURecordType/all``) from a
/// memory mapping, in batches of at most ``Options/chunkRecords`` photons.
public final class PTUReader: TagReader {
    /// Reader options.
    public struct Options: Sendable {
        /// Records decoded per batch (the memory bound).
        public var chunkRecords: Int
        /// Channel given to sync-input events of HydraHarp / generic T2 files; `nil` drops them.
        public var syncChannel: TagChannel?

        /// Creates options.
        public init(chunkRecords: Int = 1 << 16, syncChannel: TagChannel? = PTUReader.defaultSyncChannel) {
            self.chunkRecords = Swift.max(1, chunkRecords)
            self.syncChannel = syncChannel
        }
    }

    /// Channel number QLink uses for the sync input in T2 mode.
    public static let defaultSyncChannel: TagChannel = -1

    /// The parsed PTU header.
    public let ptuHeader: PTUHeader
    /// The record type.
    public let recordType: PTURecordType
    /// The header in QLink terms.
    public let header: TagStreamHeader
    /// Number of records this reader will decode.
    public let recordCount: Int
    /// T3 columns of the batch most recently returned (`nil` in T2 mode).
    public private(set) var lastT3Columns: T3Columns?
    /// Overflow records seen so far.
    public var overflowRecords: Int64 { decoder.overflowRecords }
    /// Marker records seen so far.
    public var markerRecords: Int64 { decoder.markerRecords }
    /// Sync records seen so far (T2).
    public var syncRecords: Int64 { decoder.syncRecords }

    private let file: MappedFile
    private let options: Options
    private var decoder: PTUDecoder
    private var nextRecord = 0
    private var pendingError: TagFileError?
    private var finished = false
    private var stopped = false
    private let unitPs: Double
    private let fineBinPs: Double

    /// Opens and maps `path` and parses its header.
    public init(path: String, options: Options = Options()) throws {
        file = try MappedFile(path: path)
        self.options = options
        let bytes = file.bytes
        let parsed = try PTUHeaderParser.parse(bytes, path: path)
        ptuHeader = parsed
        guard let rawType = parsed.int("TTResultFormat_TTTRRecType") else {
            throw TagFileError(.badHeader, file: path, byteOffset: 16, problem: "header has no TTResultFormat_TTTRRecType tag")
        }
        let type = PTURecordType(rawValue: UInt32(truncatingIfNeeded: rawType))
        guard let layout = type.layout else {
            throw TagFileError(.unsupported, file: path, byteOffset: 16,
                               problem: "record type 0x\(String(type.rawValue, radix: 16)) is not a known PicoQuant TTTR record type",
                               hint: "QLink reads PicoHarp 300, HydraHarp v1/v2, TimeHarp 260 N/P and MultiHarp/PicoHarp 330 T2 and T3 files")
        }
        recordType = type
        unitPs = try Self.checkedResolution(parsed, "MeasDesc_GlobalResolution", layout.isT3 ? TimeScaleLimits.syncPeriodPs : TimeScaleLimits.timeUnitPs,
                                            what: layout.isT3 ? "T3 sync period" : "T2 time unit", path: path)
        fineBinPs = layout.isT3
            ? try Self.checkedResolution(parsed, "MeasDesc_Resolution", TimeScaleLimits.fineBinPs, what: "T3 fine-time bin", path: path)
            : 0
        let available = (file.count - parsed.dataOffset) / 4
        let declared = parsed.int("TTResult_NumberOfRecords") ?? 0
        if declared <= 0 {
            recordCount = available
            if (file.count - parsed.dataOffset) % 4 != 0 {
                pendingError = TagFileError(.truncated, file: path, byteOffset: Int64(parsed.dataOffset + available * 4),
                                            problem: "file ends inside a record (\((file.count - parsed.dataOffset) % 4) stray bytes)")
            }
        } else if declared > available {
            recordCount = available
            pendingError = TagFileError(.truncated, file: path, byteOffset: Int64(parsed.dataOffset + available * 4),
                                        problem: "header declares \(declared) records but the file holds only \(available)",
                                        hint: "the recording was probably cut short; everything before this point was read")
        } else {
            recordCount = Int(declared)
        }
        // The largest count of units (T2) or syncs (T3) whose time, fine time included, stays below
        // TimeScaleLimits.maxTimePs: the decoder refuses records beyond it, so scaling never overflows.
        let largestFinePs = layout.isT3 ? Double(UInt16.max >> 1) * fineBinPs : 0
        let maxUnits = (Double(TimeScaleLimits.maxTimePs) - largestFinePs) / unitPs
        decoder = PTUDecoder(layout: layout, syncChannel: options.syncChannel,
                             maxTimeUnits: maxUnits >= Double(TimeScaleLimits.maxTimePs) ? TimeScaleLimits.maxTimePs : Int64(maxUnits))
        var metadata: [String: String] = [:]
        for tag in parsed.tags where tag.value != .empty { metadata[tag.displayName] = tag.value.text }
        let device = parsed.string("HW_Type").map { "\($0) (record type \(type))" } ?? type.deviceName
        header = TagStreamHeader(
            format: .ptu, device: device, mode: layout.isT3 ? .t3 : .t2,
            resolutionPs: layout.isT3 ? fineBinPs : unitPs, syncPeriodPs: layout.isT3 ? unitPs : nil,
            recordCount: Int64(recordCount), metadata: metadata)
    }

    public var bytesConsumed: Int64 { Int64(ptuHeader.dataOffset + nextRecord * 4) }
    public var totalBytes: Int64? { Int64(file.count) }

    /// The next batch with its T3 columns (`nil` columns in T2 mode).
    public func nextWithT3() throws -> (batch: TagBatch, t3: T3Columns?)? {
        guard let batch = try next() else { return nil }
        return (batch, lastT3Columns)
    }

    public func next() throws -> TagBatch? {
        guard !finished else { return nil }
        guard !stopped, nextRecord < recordCount else {
            finished = true
            if let error = pendingError {
                pendingError = nil
                throw error
            }
            return nil
        }
        let count = Swift.min(options.chunkRecords, recordCount - nextRecord)
        let start = ptuHeader.dataOffset + nextRecord * 4
        guard let base = file.base, start + count * 4 <= file.count else {
            finished = true
            throw TagFileError(.truncated, file: file.path, byteOffset: Int64(start), problem: "records run past the end of the file")
        }
        let isT3 = decoder.layout.isT3
        var markers: [MarkerEvent] = []
        var outcome = PTUDecoder.Outcome(consumed: 0, produced: 0, invalid: nil)
        var fineTimes: [UInt16] = []
        var channels: [TagChannel] = []
        var units = [Int64](unsafeUninitializedCapacity: count) { timeBuffer, timeCount in
            channels = [TagChannel](unsafeUninitializedCapacity: count) { channelBuffer, channelCount in
                if isT3 {
                    fineTimes = [UInt16](unsafeUninitializedCapacity: count) { fineBuffer, fineCount in
                        outcome = decoder.decode(records: base + start, count: count, times: timeBuffer.baseAddress!,
                                                 channels: channelBuffer.baseAddress!, fineTimes: fineBuffer.baseAddress, markers: &markers)
                        fineCount = outcome.produced
                    }
                } else {
                    outcome = decoder.decode(records: base + start, count: count, times: timeBuffer.baseAddress!,
                                             channels: channelBuffer.baseAddress!, fineTimes: nil, markers: &markers)
                }
                channelCount = outcome.produced
            }
            timeCount = outcome.produced
        }
        nextRecord += outcome.consumed
        file.release(upTo: ptuHeader.dataOffset + nextRecord * 4)
        if let invalid = outcome.invalid {
            stopped = true
            let offset = Int64(start + invalid.index * 4)
            let error = TagFileError(.invalidRecord, file: file.path, byteOffset: offset,
                                     problem: "record \(nextRecord): \(invalid.reason)",
                                     hint: "the file is damaged or the record type in the header is wrong")
            pendingError = error
            if units.isEmpty && markers.isEmpty { return try next() }
        }
        var batch = TagBatch()
        if isT3 {
            let syncs = units
            lastT3Columns = T3Columns(syncCounts: syncs, fineTimes: fineTimes)
            batch.timesPs = t3TimesPs(syncs: syncs, fineTimes: fineTimes)
            batch.markers = markers.map { MarkerEvent(timePs: t3TimePs(sync: $0.timePs, fine: 0), marker: $0.marker) }
        } else {
            scaleToPs(&units)
            batch.timesPs = units
            batch.markers = markers.map { MarkerEvent(timePs: t2TimePs($0.timePs), marker: $0.marker) }
        }
        batch.channels = channels
        return batch
    }

    /// The header field `name` in ps, checked against `range`.
    private static func checkedResolution(
        _ header: PTUHeader, _ name: String, _ range: ClosedRange<Double>, what: String, path: String
    ) throws -> Double {
        guard let seconds = header.double(name) else {
            throw TagFileError(.badHeader, file: path, byteOffset: 16, problem: "header has no numeric \(name) (the \(what))",
                               hint: "the file was not written by a PicoQuant instrument or its header is damaged")
        }
        return try TimeScaleLimits.check(seconds, inSeconds: true, in: range, field: name, what: what, file: path,
                                         byteOffset: Int64(header.byteOffset(of: name) ?? 16))
    }

    // Scaling cannot overflow: the decoder stops before a unit count whose time passes TimeScaleLimits.maxTimePs.
    private func scaleToPs(_ units: inout [Int64]) {
        let rounded = unitPs.rounded()
        if abs(unitPs - rounded) < 1e-6 {
            let multiplier = Int64(rounded)
            if multiplier == 1 { return }
            units.withUnsafeMutableBufferPointer { buffer in
                for index in buffer.indices { buffer[index] = buffer[index] &* multiplier }
            }
        } else {
            for index in units.indices { units[index] = t2TimePs(units[index]) }
        }
    }

    private func t2TimePs(_ units: Int64) -> Int64 {
        let rounded = unitPs.rounded()
        if abs(unitPs - rounded) < 1e-6 { return units &* Int64(rounded) }
        return Int64((Double(units) * unitPs).rounded())
    }

    private func t3TimePs(sync: Int64, fine: UInt16) -> Int64 {
        Int64((Double(sync) * unitPs + Double(fine) * fineBinPs).rounded())
    }

    private func t3TimesPs(syncs: [Int64], fineTimes: [UInt16]) -> [Int64] {
        var result = [Int64](repeating: 0, count: syncs.count)
        for index in syncs.indices { result[index] = t3TimePs(sync: syncs[index], fine: fineTimes[index]) }
        return result
    }
}
