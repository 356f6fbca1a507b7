#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes a QLink native tag file (`.qtag`): a header, then one checksummed chunk per
/// ``chunkTags`` photons. Chunks are written with a single `write` each, so a writer killed at
/// any moment leaves every earlier chunk readable. ``flush()`` and ``finish()`` call `fsync`.
///
/// Chunks are in time order: a chunk holds the markers and gaps (by start) at or before its last
/// photon; later ones wait (in a ``TimeOrderGate``) for the chunk whose photons reach them, and
/// ``finish()`` writes what remains in a last chunk without photons. No chunk holds a marker or gap
/// later than a photon of a following chunk.
public final class NativeTagWriter: TagSink {
    /// The header written to (or found in) the file.
    public let header: TagStreamHeader
    /// Photons per chunk.
    public let chunkTags: Int
    /// When opened for append: bytes of a torn tail that were cut off. Otherwise 0.
    public private(set) var truncatedTailBytes: Int64 = 0
    /// Photons written so far by this writer (buffered ones included).
    public private(set) var tagsWritten: Int64 = 0

    private let path: String
    private var descriptor: Int32
    private var times: [Int64] = []
    private var channels: [TagChannel] = []
    /// Markers and gaps waiting for the chunk whose photons reach them.
    private var gate = TimeOrderGate()
    private let scaleHintPs: Int64

    /// Creates `path` and writes the header. Fails if the file exists unless `overwrite`.
    public init(path: String, header: TagStreamHeader, chunkTags: Int = NativeTagFormat.defaultChunkTags, overwrite: Bool = false) throws {
        self.path = path
        self.header = header
        self.chunkTags = max(1, min(chunkTags, 1 << 24))
        scaleHintPs = Self.scaleHint(header.resolutionPs)
        let headerBytes = try NativeTagFormat.encodeHeader(header, path: path)
        let flags = O_WRONLY | O_CREAT | (overwrite ? O_TRUNC : O_EXCL)
        descriptor = open(path, flags, 0o644)
        guard descriptor >= 0 else {
            throw TagFileError(.cannotOpen, file: path, problem: "cannot create file: \(String(cString: strerror(errno)))",
                               hint: overwrite ? "check the directory and permissions" : "the file may already exist; pass overwrite to replace it")
        }
        try writeAll(headerBytes)
    }

    /// Opens an existing native file for appending. The header and every chunk header are
    /// checked and the last chunk's checksum verified; a torn tail (from a writer that was
    /// killed) is cut off and reported in ``truncatedTailBytes``.
    public init(appendingTo path: String, chunkTags: Int = NativeTagFormat.defaultChunkTags) throws {
        self.path = path
        self.chunkTags = max(1, min(chunkTags, 1 << 24))
        let validEnd: Int
        let fileSize: Int
        do {
            let reader = try NativeTagReader(path: path)
            header = reader.header
            let scan = try NativeTailScanner.scan(path: path)
            validEnd = scan.validEnd
            fileSize = scan.fileSize
        }
        scaleHintPs = Self.scaleHint(header.resolutionPs)
        descriptor = open(path, O_WRONLY)
        guard descriptor >= 0 else {
            throw TagFileError(.cannotOpen, file: path, problem: "cannot open for append: \(String(cString: strerror(errno)))")
        }
        if validEnd < fileSize {
            guard ftruncate(descriptor, off_t(validEnd)) == 0 else {
                throw TagFileError(.ioFailure, file: path, byteOffset: Int64(validEnd), problem: "cannot cut the torn tail: \(String(cString: strerror(errno)))")
            }
            truncatedTailBytes = Int64(fileSize - validEnd)
        }
        guard lseek(descriptor, off_t(validEnd), SEEK_SET) >= 0 else {
            throw TagFileError(.ioFailure, file: path, problem: "cannot seek to the end: \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        if descriptor >= 0 {
            try? writePendingChunks(all: true, final: true)
            _ = fsync(descriptor)
            close(descriptor)
        }
    }

    /// Buffers the events of `batch`, writing full chunks as they fill.
    public func write(_ batch: TagBatch) throws {
        try ensureOpen()
        times.append(contentsOf: batch.timesPs)
        channels.append(contentsOf: batch.channels)
        gate.hold(markers: batch.markers, gaps: batch.gaps)
        tagsWritten += Int64(batch.count)
        try writePendingChunks(all: false, final: false)
    }

    /// Writes the buffered photons as a (possibly short) chunk, with the markers and gaps at or before
    /// the last of them, and makes the file durable.
    ///
    /// Order wins over durability: markers and gaps later than the last buffered photon stay in memory
    /// until a chunk's photons reach them or ``finish()``, because a later chunk could still hold photons
    /// before them. A crash then loses only markers after every durable photon, which label nothing
    /// in the file.
    public func flush() throws {
        try ensureOpen()
        try writePendingChunks(all: true, final: false)
        try sync()
    }

    /// Writes everything buffered (the markers and gaps after the last photon in a last chunk), makes
    /// the file durable and closes it.
    public func finish() throws {
        guard descriptor >= 0 else { return }
        try ensureOpen()
        try writePendingChunks(all: true, final: true)
        try sync()
        close(descriptor)
        descriptor = -1
    }

    private func sync() throws {
        guard fsync(descriptor) == 0 else {
            throw TagFileError(.ioFailure, file: path, problem: "fsync failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Writes full chunks (`all`: also a short last one) of the buffered photons, each with the markers
    /// and gaps at or before its last photon; `final` also writes the markers and gaps after every photon.
    private func writePendingChunks(all: Bool, final: Bool) throws {
        var start = 0
        while times.count - start >= chunkTags || (all && start < times.count) {
            let end = min(times.count, start + chunkTags)
            let (markers, gaps) = gate.release(through: times[end - 1])
            try writeAll(NativeChunkEncoder.encode(times: times[start..<end], channels: channels[start..<end],
                                                   markers: markers, gaps: gaps, scaleHintPs: scaleHintPs))
            start = end
        }
        if final && gate.heldCount > 0 {
            let (markers, gaps) = gate.releaseAll()
            try writeAll(NativeChunkEncoder.encode(times: [], channels: [], markers: markers, gaps: gaps, scaleHintPs: scaleHintPs))
        }
        if start > 0 {
            times.removeFirst(start)
            channels.removeFirst(start)
        }
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeFully(descriptor, $0, path: path) }
    }

    private func ensureOpen() throws {
        guard descriptor >= 0 else {
            throw TagFileError(.invalidArgument, file: path, problem: "writer is already closed")
        }
    }

    private static func scaleHint(_ resolutionPs: Double) -> Int64 {
        let rounded = resolutionPs.rounded()
        guard rounded >= 1, rounded < 4e9, abs(resolutionPs - rounded) < 1e-9 else { return 1 }
        return Int64(rounded)
    }
}

/// Finds where the complete chunks of a native file end, without decoding them.
enum NativeTailScanner {
    /// `validEnd`: offset after the last complete chunk (whose CRC is verified).
    static func scan(path: String) throws -> (validEnd: Int, fileSize: Int) {
        let file = try MappedFile(path: path)
        let (_, first) = try NativeTagFormat.decodeHeader(file.bytes, path: path)
        let bytes = file.bytes
        var offset = first
        var lastChunk: (NativeChunkHeader, Int)? = nil
        while file.count - offset >= NativeTagFormat.chunkHeaderBytes,
              Array(bytes[offset..<(offset + 4)]) == NativeTagFormat.chunkMagic {
            let header = NativeChunkHeader(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + NativeTagFormat.chunkHeaderBytes)]))
            if header.inconsistency != nil || header.payloadBytes > NativeTagFormat.maxPayloadBytes { break }
            let end = offset + NativeTagFormat.chunkHeaderBytes + header.payloadBytes
            if end > file.count { break }
            lastChunk = (header, offset)
            offset = end
            file.release(upTo: offset)
        }
        if offset < file.count {
            let rest = bytes[offset...]
            let zeros = rest.allSatisfy { $0 == 0 }
            let prefixOfChunk = Array(rest.prefix(4)) == Array(NativeTagFormat.chunkMagic.prefix(min(4, rest.count)))
            guard zeros || prefixOfChunk else {
                throw TagFileError(.invalidRecord, file: path, byteOffset: Int64(offset),
                                   problem: "damaged data after the last complete chunk (not a torn chunk)",
                                   hint: "refusing to append; convert the readable part to a new file")
            }
        }
        if let (header, start) = lastChunk {
            var crc = CRC32C()
            crc.update(UnsafeRawBufferPointer(rebasing: bytes[(start + 4)..<(start + 48)]))
            let payloadStart = start + NativeTagFormat.chunkHeaderBytes
            crc.update(UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<(payloadStart + header.payloadBytes)]))
            guard crc.value == header.crc else {
                throw TagFileError(.checksumMismatch, file: path, byteOffset: Int64(start),
                                   problem: "the last complete chunk fails its CRC32C check", hint: "refusing to append to a damaged file")
            }
        }
        return (offset, file.count)
    }
}
