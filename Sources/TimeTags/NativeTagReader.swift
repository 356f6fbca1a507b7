/// How a native file ends.
public enum NativeTailStatus: Sendable, Equatable {
    /// Not yet known (the reader has not reached the end).
    case unknown
    /// The last chunk ends exactly at the end of the file.
    case clean
    /// The file ends inside a chunk: a writer stopped mid-chunk. Every complete chunk before
    /// `offset` was read; `byteCount` bytes after it are the incomplete chunk.
    case torn(offset: Int64, byteCount: Int64)
}

/// Streams a QLink native tag file (`.qtag`) chunk by chunk from a memory mapping.
public final class NativeTagReader: TagReader {
    /// The header stored in the file.
    public let header: TagStreamHeader
    /// How the file ends; known once ``next()`` has returned `nil`.
    public private(set) var tailStatus: NativeTailStatus = .unknown
    /// Complete chunks read so far.
    public private(set) var chunksRead = 0

    private let file: MappedFile
    private var offset: Int
    private var finished = false

    /// Opens and maps `path` and checks its header.
    public init(path: String) throws {
        file = try MappedFile(path: path)
        let (parsed, first) = try NativeTagFormat.decodeHeader(file.bytes, path: path)
        header = parsed
        offset = first
    }

    /// Offset of the first byte after the header.
    public var bytesConsumed: Int64 { Int64(offset) }
    public var totalBytes: Int64? { Int64(file.count) }

    public func next() throws -> TagBatch? {
        while !finished {
            guard let (chunkHeader, payloadStart) = try nextChunkHeader() else { return nil }
            let bytes = file.bytes
            let payload = UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<(payloadStart + chunkHeader.payloadBytes)])
            var crc = CRC32C()
            crc.update(UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + 48)]))
            crc.update(payload)
            guard crc.value == chunkHeader.crc else {
                finished = true
                throw TagFileError(.checksumMismatch, file: file.path, byteOffset: Int64(offset),
                                   problem: "chunk \(chunksRead) fails its CRC32C check",
                                   hint: "the file is damaged here; the chunks before it were read")
            }
            let batch: TagBatch
            do {
                batch = try NativeChunkDecoder.decode(chunkHeader, payload: payload)
            } catch {
                finished = true
                throw TagFileError(.invalidRecord, file: file.path, byteOffset: Int64(offset),
                                   problem: "chunk \(chunksRead) \(error.reason)",
                                   hint: "the file is damaged or was written wrongly here; the chunks before it were read")
            }
            offset = payloadStart + chunkHeader.payloadBytes
            chunksRead += 1
            file.release(upTo: offset)
            if !batch.isEmpty || !batch.markers.isEmpty || !batch.gaps.isEmpty { return batch }
        }
        return nil
    }

    /// Validates the chunk header at `offset`; `nil` at the end of the file (tail status set).
    private func nextChunkHeader() throws -> (NativeChunkHeader, Int)? {
        let bytes = file.bytes
        let remaining = file.count - offset
        if remaining == 0 {
            finish(.clean)
            return nil
        }
        let magicLength = min(4, remaining)
        let magicMatches = Array(bytes[offset..<(offset + magicLength)]) == Array(NativeTagFormat.chunkMagic.prefix(magicLength))
        if !magicMatches {
            if bytes[offset...].allSatisfy({ $0 == 0 }) {
                // A crash can leave the end of a file filled with zeros.
                finish(.torn(offset: Int64(offset), byteCount: Int64(remaining)))
                return nil
            }
            finished = true
            throw TagFileError(.badMagic, file: file.path, byteOffset: Int64(offset),
                               problem: "expected a chunk (QTCK) after chunk \(chunksRead)",
                               hint: "the file is damaged here; the chunks before it were read")
        }
        if remaining < NativeTagFormat.chunkHeaderBytes {
            finish(.torn(offset: Int64(offset), byteCount: Int64(remaining)))
            return nil
        }
        let chunkHeader = NativeChunkHeader(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + NativeTagFormat.chunkHeaderBytes)]))
        if chunkHeader.payloadBytes > NativeTagFormat.maxPayloadBytes || chunkHeader.inconsistency != nil {
            finished = true
            throw TagFileError(.invalidRecord, file: file.path, byteOffset: Int64(offset),
                               problem: "chunk \(chunksRead) header is invalid: \(chunkHeader.inconsistency ?? "payload too large")")
        }
        let payloadStart = offset + NativeTagFormat.chunkHeaderBytes
        if chunkHeader.payloadBytes > file.count - payloadStart {
            finish(.torn(offset: Int64(offset), byteCount: Int64(remaining)))
            return nil
        }
        return (chunkHeader, payloadStart)
    }

    private func finish(_ status: NativeTailStatus) {
        tailStatus = status
        finished = true
    }
}
