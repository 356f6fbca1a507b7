import Foundation

/// Opening tag files by format: detection from magic bytes and file extension, readers and
/// writers for every format, and conversion between them.
public enum TagFiles {
    /// Options for opening readers.
    public struct ReadOptions: Sendable {
        /// Photons (or records) per batch.
        public var chunkSize: Int = 1 << 16
        /// quTAG time base in ps.
        public var quTAGTimeBasePs: Int64 = 1
        /// Re-sort window in ps; `nil` or 0 delivers the stream as stored.
        public var resortWindowPs: Int64? = nil

        /// Default options.
        public init() {}
    }

    /// The format of `path`: PTU and native files by their magic bytes, others by extension
    /// (`.csv`/`.txt`; `.ttdump`/`.dump` Swabian; `.qutag`/`.bin` quTAG).
    public static func detectFormat(path: String) throws -> TagFileFormat {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TagFileError(.cannotOpen, file: path, problem: "cannot open file", hint: "check the path and the permissions")
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 8)) ?? Data())
        if head.starts(with: PTUHeaderParser.magic) { return .ptu }
        if head.starts(with: NativeTagFormat.fileMagic) { return .native }
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "ptu": return .ptu
        case "qtag": return .native
        case "csv", "txt": return .csv
        case "ttdump", "dump", "swabian": return .swabianDump
        case "qutag", "bin": return .quTAG
        default:
            throw TagFileError(.invalidArgument, file: path, problem: "cannot tell the file format from its contents or extension",
                               hint: "name the format explicitly (ptu, native, csv, swabian, qutag)")
        }
    }

    /// Opens a streaming reader for `path` (format detected when `format` is `nil`).
    ///
    /// Every reader comes wrapped in a ``TimeOrderedReader`` (outside the re-sort stage, when there is
    /// one): its batches are in time order across batch boundaries, whatever chunks the file stores
    /// (no marker or gap is later than a photon of a following batch).
    public static func openReader(path: String, format: TagFileFormat? = nil, options: ReadOptions = ReadOptions()) throws -> any TagReader {
        let resolved = try format ?? detectFormat(path: path)
        var reader: any TagReader
        switch resolved {
        case .ptu: reader = try PTUReader(path: path, options: .init(chunkRecords: options.chunkSize))
        case .native: reader = try NativeTagReader(path: path)
        case .csv: reader = try CSVTagReader(path: path, chunkTags: options.chunkSize)
        case .swabianDump: reader = try SwabianDumpReader(path: path, chunkRecords: options.chunkSize)
        case .quTAG: reader = try QuTAGReader(path: path, timeBasePs: options.quTAGTimeBasePs, chunkRecords: options.chunkSize)
        }
        if let window = options.resortWindowPs, window > 0 { reader = ResortingReader(reader, windowPs: window) }
        return TimeOrderedReader(reader)
    }

    /// Creates a writer for `path` in `format` (native or CSV).
    public static func openWriter(path: String, format: TagFileFormat, header: TagStreamHeader, overwrite: Bool = false) throws -> any TagSink {
        switch format {
        case .native: return try NativeTagWriter(path: path, header: header, overwrite: overwrite)
        case .csv: return try CSVTagWriter(path: path, overwrite: overwrite)
        default:
            throw TagFileError(.invalidArgument, file: path, problem: "QLink writes only native (.qtag) and CSV files, not \(format.rawValue)")
        }
    }

    /// Output format for `path` by extension: `.csv`/`.txt` are CSV, everything else native.
    public static func outputFormat(path: String) -> TagFileFormat {
        ["csv", "txt"].contains(URL(fileURLWithPath: path).pathExtension.lowercased()) ? .csv : .native
    }

    /// Copies every batch of `reader` into `sink`, finishing the sink, and returns statistics of
    /// what was copied. `progress` is called after each batch with bytes consumed and total.
    public static func convert(
        from reader: inout any TagReader, to sink: inout any TagSink,
        progress: ((_ consumed: Int64, _ total: Int64?) -> Void)? = nil
    ) throws -> TagStatistics {
        var statistics = TagStatistics()
        do {
            while let batch = try reader.next() {
                statistics.add(batch)
                try sink.write(batch)
                progress?(reader.bytesConsumed, reader.totalBytes)
            }
        } catch {
            // Keep everything decoded before the damage.
            try? sink.finish()
            throw error
        }
        try sink.finish()
        return statistics
    }
}
