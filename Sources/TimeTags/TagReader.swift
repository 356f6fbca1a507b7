/// The file formats QLink reads.
public enum TagFileFormat: String, Sendable, Equatable, CaseIterable, Codable {
    /// PicoQuant unified TTTR (`.ptu`), T2 and T3.
    case ptu
    /// Swabian Instruments Time Tagger raw stream dump (16-byte tag records).
    case swabianDump = "swabian"
    /// qutools quTAG binary time stamps (10-byte records after a 40-byte header).
    case quTAG = "qutag"
    /// Text: `channel,time_ps` lines.
    case csv
    /// QLink's own chunked, checksummed format (`.qtag`).
    case native
}

/// How the instrument measured: absolute times (T2) or sync count plus fine time (T3).
public enum TagMeasurementMode: String, Sendable, Equatable, Codable {
    /// Every event carries an absolute time.
    case t2
    /// Every event carries a sync count and a fine time after that sync.
    case t3
    /// The mode is not stated by the source.
    case unknown
}

/// What a tag file or stream says about itself: where the tags come from and how to read them.
public struct TagStreamHeader: Sendable, Equatable {
    /// Format the tags were read from.
    public var format: TagFileFormat
    /// Instrument that recorded the tags ("PicoHarp 300", "Time Tagger", …), or "" if unknown.
    public var device: String
    /// Measurement mode.
    public var mode: TagMeasurementMode
    /// Time resolution of the recorded times in picoseconds (T3: the fine-time bin).
    public var resolutionPs: Double
    /// T3 only: the sync period in picoseconds.
    public var syncPeriodPs: Double?
    /// Number of records the source declares or its size implies, when known.
    public var recordCount: Int64?
    /// Human names of channels, keyed by channel number.
    public var channelNames: [TagChannel: String]
    /// Network node that recorded the tags, when known.
    public var node: String?
    /// Clock the instrument ran on ("internal", "external 10 MHz", a White Rabbit id, …).
    public var clock: String?
    /// Free-form metadata (instrument header entries, user notes).
    public var metadata: [String: String]
    /// For converted data: the format the tags originally came from.
    public var sourceFormat: TagFileFormat?

    /// Creates a header; unspecified fields are empty.
    public init(
        format: TagFileFormat, device: String = "", mode: TagMeasurementMode = .unknown,
        resolutionPs: Double = 1, syncPeriodPs: Double? = nil, recordCount: Int64? = nil,
        channelNames: [TagChannel: String] = [:], node: String? = nil, clock: String? = nil,
        metadata: [String: String] = [:], sourceFormat: TagFileFormat? = nil
    ) {
        self.format = format
        self.device = device
        self.mode = mode
        self.resolutionPs = resolutionPs
        self.syncPeriodPs = syncPeriodPs
        self.recordCount = recordCount
        self.channelNames = channelNames
        self.node = node
        self.clock = clock
        self.metadata = metadata
        self.sourceFormat = sourceFormat
    }

    /// How long the instrument recorded, when the file says so (PicoQuant `TTResult_StopAfter`, in ms: the actual
    /// stop, not the configured `MeasDesc_AcquisitionTime`), in ps; nil when unknown.
    public var recordingDurationPs: Int64? {
        guard let text = metadata["TTResult_StopAfter"], let milliseconds = Double(text), milliseconds > 0,
              milliseconds < Double(TimeScaleLimits.maxTimePs) / 1e9 else { return nil }
        return Int64((milliseconds * 1e9).rounded())
    }
}

/// A streaming source of tag batches. Memory use is bounded by the chunk size, whatever the
/// length of the file.
///
/// `next()` returns batches in file order until the end (`nil`). When the input is damaged, the
/// reader first returns everything decoded before the damage and throws a ``TagFileError`` on
/// the following call.
public protocol TagReader {
    /// What the source says about itself.
    var header: TagStreamHeader { get }
    /// Bytes of the source consumed so far (for progress display).
    var bytesConsumed: Int64 { get }
    /// Total bytes of the source, when known.
    var totalBytes: Int64? { get }
    /// The next batch, or `nil` at the end of the stream.
    mutating func next() throws -> TagBatch?
}

extension TagReader {
    /// Reads the rest of the stream into a single batch. Only for small files and tests.
    public mutating func readAll() throws -> TagBatch {
        var all = TagBatch()
        while let batch = try next() { all.append(contentsOf: batch) }
        return all
    }
}

extension TagBatch {
    /// Appends every event of `other` (photons, markers and gaps).
    public mutating func append(contentsOf other: TagBatch) {
        timesPs.append(contentsOf: other.timesPs)
        channels.append(contentsOf: other.channels)
        markers.append(contentsOf: other.markers)
        gaps.append(contentsOf: other.gaps)
    }

    /// Earliest time of any event (photon, marker, gap start) in the batch, or `nil` if empty.
    public var earliestTimePs: Int64? {
        var result: Int64? = nil
        if let first = timesPs.min() { result = first }
        for marker in markers { result = Swift.min(result ?? marker.timePs, marker.timePs) }
        for gap in gaps { result = Swift.min(result ?? gap.startPs, gap.startPs) }
        return result
    }

    /// Latest time of any event (photon, marker, gap end) in the batch, or `nil` if empty.
    public var latestTimePs: Int64? {
        var result: Int64? = nil
        if let last = timesPs.max() { result = last }
        for marker in markers { result = Swift.max(result ?? marker.timePs, marker.timePs) }
        for gap in gaps { result = Swift.max(result ?? gap.endPs, gap.endPs) }
        return result
    }
}

/// A destination for tag batches (a file writer).
public protocol TagSink {
    /// Writes the events of `batch`.
    mutating func write(_ batch: TagBatch) throws
    /// Writes everything still buffered, makes it durable and closes the destination.
    mutating func finish() throws
}
