/// Formats a tag stream on a pipe can use.
public enum TagStreamFormat: String, Sendable, Equatable, CaseIterable {
    /// The native `.qtag` format: file header, then chunks (as ``NativeTagWriter`` writes them).
    case native
    /// Text lines `channel,time_ps`, or the columns and time unit a header line names (``CSVLines``).
    case csv
}

/// Decodes a tag stream that arrives in pieces (a pipe from a hardware bridge): feed bytes as they
/// come; whole chunks (native) or whole lines (CSV) come out as batches, partial ones wait for more.
///
/// Corrupt input is an error with the byte offset in the stream; nothing crashes on bad bytes.
/// Batches come out in time order across calls (through a ``TimeOrderGate``, as from ``TimeOrderedReader``):
/// markers and gaps later than a batch's last photon come with a later batch, or from ``finish()``.
public struct TagStreamDecoder: Sendable {
    public let format: TagStreamFormat
    /// The stream's header (native streams, once read).
    public private(set) var header: TagStreamHeader?
    /// Bytes consumed so far.
    public private(set) var offset: Int64 = 0
    private var buffer: [UInt8] = []
    private var line = 0
    private var csv = CSVLines()
    private let name: String
    /// An error found after some complete tags: those are returned first, the error on the next call.
    private var pendingError: TagFileError?
    private var gate = TimeOrderGate()

    /// - Parameter name: how errors name the stream (e.g. "standard input").
    public init(format: TagStreamFormat, name: String = "standard input") {
        self.format = format
        self.name = name
    }

    /// Adds `bytes` and returns the tags now complete (possibly empty).
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(TagFileError) -> TagBatch {
        if let pendingError { throw pendingError }
        buffer.append(contentsOf: bytes)
        var batch = TagBatch()
        var consumed = 0
        do {
            switch format {
            case .native: consumed = try decodeNative(into: &batch)
            case .csv: consumed = try decodeCSV(into: &batch)
            }
        } catch {
            let failure = (error as? TagFileError) ?? TagFileError(.invalidRecord, file: name, byteOffset: offset, problem: "\(error)")
            // The complete tags before the bad record still count; the error follows on the next call.
            guard !batch.isEmpty else { throw failure }
            pendingError = failure
            // No photon follows the damage: the held markers and gaps go out now.
            var output = gate.pass(batch)
            let rest = gate.finish()
            output.markers += rest.markers
            output.gaps += rest.gaps
            return output
        }
        if consumed > 0 {
            buffer.removeFirst(consumed)
            offset += Int64(consumed)
        }
        return gate.pass(batch)
    }

    /// Checks the end of the stream: an incomplete chunk or line left over is an error.
    public mutating func finish() throws(TagFileError) -> TagBatch {
        if let pendingError { throw pendingError }
        var last = TagBatch()
        if format == .csv, !buffer.isEmpty, buffer.last != 0x0A {
            last = try feed([0x0A])
            if pendingError != nil { return last }
        }
        guard buffer.isEmpty else {
            throw TagFileError(.truncated, file: name, byteOffset: offset,
                               problem: "the stream ended inside a \(format == .native ? "chunk" : "line") (\(buffer.count) bytes left over)",
                               hint: "the writer stopped mid-record; the tags before it were read")
        }
        let rest = gate.finish()
        last.markers += rest.markers
        last.gaps += rest.gaps
        return last
    }

    private mutating func decodeNative(into batch: inout TagBatch) throws -> Int {
        var position = 0
        let name = name, offset = offset
        var parsedHeader = header
        defer { header = parsedHeader }
        return try buffer.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws -> Int in
            if parsedHeader == nil {
                if bytes.count >= 8, Array(bytes[0..<8]) != NativeTagFormat.fileMagic {
                    throw TagFileError(.badMagic, file: name, byteOffset: offset, problem: "not a QLink native tag stream (bad magic)",
                                       hint: "for text lines channel,time_ps use the CSV format")
                }
                guard bytes.count >= 20 else { return 0 }
                let jsonLength = Int(bytes.le(12, as: UInt32.self))
                guard jsonLength <= NativeTagFormat.maxPayloadBytes else {
                    throw TagFileError(.badHeader, file: name, byteOffset: offset + 12, problem: "header of \(jsonLength) bytes is implausible")
                }
                guard bytes.count >= 20 + jsonLength else { return 0 }
                do {
                    let (parsed, first) = try NativeTagFormat.decodeHeader(UnsafeRawBufferPointer(rebasing: bytes[0..<(20 + jsonLength)]), path: name)
                    parsedHeader = parsed
                    position = first
                } catch let error as TagFileError {
                    throw error
                } catch {
                    throw TagFileError(.badHeader, file: name, byteOffset: offset, problem: "\(error)")
                }
            }
            while bytes.count - position >= NativeTagFormat.chunkHeaderBytes {
                guard Array(bytes[position..<(position + 4)]) == NativeTagFormat.chunkMagic else {
                    throw TagFileError(.badMagic, file: name, byteOffset: offset + Int64(position), problem: "expected a chunk (QTCK)")
                }
                let chunk = NativeChunkHeader(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + NativeTagFormat.chunkHeaderBytes)]))
                if chunk.payloadBytes > NativeTagFormat.maxPayloadBytes || chunk.inconsistency != nil {
                    throw TagFileError(.invalidRecord, file: name, byteOffset: offset + Int64(position),
                                       problem: "chunk header is invalid: \(chunk.inconsistency ?? "payload too large")")
                }
                let payloadStart = position + NativeTagFormat.chunkHeaderBytes
                guard bytes.count - payloadStart >= chunk.payloadBytes else { break }
                let payload = UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<(payloadStart + chunk.payloadBytes)])
                var crc = CRC32C()
                crc.update(UnsafeRawBufferPointer(rebasing: bytes[(position + 4)..<(position + 48)]))
                crc.update(payload)
                guard crc.value == chunk.crc else {
                    throw TagFileError(.checksumMismatch, file: name, byteOffset: offset + Int64(position), problem: "chunk fails its CRC32C check")
                }
                let decoded: TagBatch
                do throws(NativeChunkProblem) {
                    decoded = try NativeChunkDecoder.decode(chunk, payload: payload)
                } catch {
                    throw TagFileError(.invalidRecord, file: name, byteOffset: offset + Int64(position), problem: "chunk \(error.reason)")
                }
                batch.append(contentsOf: decoded)
                position = payloadStart + chunk.payloadBytes
            }
            return position
        }
    }

    private mutating func decodeCSV(into batch: inout TagBatch) throws -> Int {
        var position = 0
        while let newline = buffer[position...].firstIndex(of: 0x0A) {
            line += 1
            let lineOffset = offset + Int64(position)
            let range = position..<newline
            position = newline + 1
            var csv = self.csv
            defer { self.csv = csv }
            let problem = buffer.withUnsafeBytes { bytes -> CSVLines.Problem? in
                do throws(CSVLines.Problem) {
                    try csv.parse(bytes, range, into: &batch)
                    return nil
                } catch {
                    return error
                }
            }
            if let error = problem {
                throw TagFileError(.invalidRecord, file: name, byteOffset: lineOffset, problem: "line \(line): \(error.text)", hint: error.hint)
            }
        }
        return position
    }
}
