#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Streams a CSV text file of tags: `channel,time_ps` lines, or the columns and time unit its header names
/// (``CSVLines``: `channel,time_ns`, `time_us,channel`, …).
///
/// Lines starting with `#` are comments. Two extensions carry non-photon events losslessly: `M<n>,time` is
/// marker `n`, and `G,start,end,lost,channel` is a gap (`lost` and `channel` may be empty).
public final class CSVTagReader: TagReader {
    /// The header (resolution 1 ps).
    public let header: TagStreamHeader
    private let file: MappedFile
    private let chunkTags: Int
    private var offset = 0
    private var line = 0
    private var lines = CSVLines()
    private var pendingError: TagFileError?
    private var finished = false

    /// Maps `path`; `chunkTags` bounds the photons per batch.
    public init(path: String, chunkTags: Int = 1 << 16) throws {
        file = try MappedFile(path: path)
        self.chunkTags = max(1, chunkTags)
        header = TagStreamHeader(format: .csv, device: "", mode: .t2, resolutionPs: 1)
    }

    public var bytesConsumed: Int64 { Int64(offset) }
    public var totalBytes: Int64? { Int64(file.count) }

    public func next() throws -> TagBatch? {
        if finished { return nil }
        if let error = pendingError {
            finished = true
            throw error
        }
        let bytes = file.bytes
        var batch = TagBatch(capacity: min(chunkTags, 1 << 16))
        while offset < bytes.count && batch.count < chunkTags {
            let lineStart = offset
            var end = offset
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            offset = min(bytes.count, end + 1)
            line += 1
            do {
                try lines.parse(bytes, lineStart..<end, into: &batch)
            } catch {
                pendingError = TagFileError(.invalidRecord, file: file.path, byteOffset: Int64(lineStart),
                                            problem: "line \(line): \(error.text)", hint: error.hint)
                offset = bytes.count
                break
            }
        }
        file.release(upTo: offset)
        if batch.isEmpty && batch.markers.isEmpty && batch.gaps.isEmpty {
            finished = true
            if let error = pendingError { throw error }
            return nil
        }
        return batch
    }
}

/// Writes tags as `channel,time_ps` text (with a header line, markers as `M<n>,time_ps` and gaps
/// as `G,start,end,lost,channel`), which ``CSVTagReader`` reads back losslessly.
///
/// Lines are in time order: markers and gaps (by start) are interleaved with the photons, before a
/// photon at the same time; markers and gaps later than a batch's last photon wait (in a
/// ``TimeOrderGate``) for the batch whose photons reach them, and ``finish()`` writes what remains.
public final class CSVTagWriter: TagSink {
    private let path: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private var gate = TimeOrderGate()

    /// Creates `path` (replacing it when `overwrite`) and writes the header line.
    public init(path: String, overwrite: Bool = false) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | (overwrite ? O_TRUNC : O_EXCL), 0o644)
        guard descriptor >= 0 else {
            throw TagFileError(.cannotOpen, file: path, problem: "cannot create file: \(String(cString: strerror(errno)))",
                               hint: overwrite ? "check the directory and permissions" : "the file may already exist; pass overwrite to replace it")
        }
        buffer.reserveCapacity(1 << 20 + 256)
        buffer += Array("channel,time_ps\n".utf8)
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    public func write(_ batch: TagBatch) throws {
        try ensureOpen()
        try appendInOrder(gate.pass(batch))
    }

    /// Writes the markers and gaps still waiting, makes the file durable and closes it.
    public func finish() throws {
        guard descriptor >= 0 else { return }
        try appendInOrder(gate.finish())
        guard fsync(descriptor) == 0 else {
            throw TagFileError(.ioFailure, file: path, problem: "fsync failed: \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        descriptor = -1
    }

    /// Appends the lines of `batch` (whose markers and gaps are sorted) in time order and drains them.
    private func appendInOrder(_ batch: TagBatch) throws {
        var photon = 0, marker = 0, gap = 0
        while photon < batch.count || marker < batch.markers.count || gap < batch.gaps.count {
            let photonPs = photon < batch.count ? batch.timesPs[photon] : Int64.max
            let markerPs = marker < batch.markers.count ? batch.markers[marker].timePs : Int64.max
            let gapPs = gap < batch.gaps.count ? batch.gaps[gap].startPs : Int64.max
            if marker < batch.markers.count && markerPs <= photonPs && markerPs <= gapPs {
                appendMarker(batch.markers[marker])
                marker += 1
            } else if gap < batch.gaps.count && gapPs <= photonPs {
                appendGap(batch.gaps[gap])
                gap += 1
            } else {
                appendInteger(Int64(batch.channels[photon]))
                buffer.append(0x2C)
                appendInteger(photonPs)
                buffer.append(0x0A)
                photon += 1
            }
            if buffer.count >= 1 << 20 { try drain() }
        }
        try drain()
    }

    private func appendMarker(_ marker: MarkerEvent) {
        buffer.append(0x4D)
        appendInteger(Int64(marker.marker))
        buffer.append(0x2C)
        appendInteger(marker.timePs)
        buffer.append(0x0A)
    }

    private func appendGap(_ gap: StreamGap) {
        buffer += [0x47, 0x2C]
        appendInteger(gap.startPs)
        buffer.append(0x2C)
        appendInteger(gap.endPs)
        buffer.append(0x2C)
        if let lost = gap.lostEvents { appendInteger(lost) }
        buffer.append(0x2C)
        if let channel = gap.channel { appendInteger(Int64(channel)) }
        buffer.append(0x0A)
    }

    private func appendInteger(_ value: Int64) {
        if value < 0 { buffer.append(0x2D) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[count] = UInt8(48 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { buffer.append(raw[index]) }
        }
    }

    private func ensureOpen() throws {
        guard descriptor >= 0 else {
            throw TagFileError(.invalidArgument, file: path, problem: "writer is already closed")
        }
    }

    private func drain() throws {
        try ensureOpen()
        try buffer.withUnsafeBytes { try writeFully(descriptor, $0, path: path) }
        buffer.removeAll(keepingCapacity: true)
    }
}
