import Foundation

/// Constants and the header of QLink's native tag format (`.qtag`); see `docs/formats.md`.
public enum NativeTagFormat {
    /// File magic: `89 51 54 41 47 0D 0A 1A` ("\u{89}QTAG\r\n\u{1A}").
    public static let fileMagic: [UInt8] = [0x89, 0x51, 0x54, 0x41, 0x47, 0x0D, 0x0A, 0x1A]
    /// Chunk magic: "QTCK".
    public static let chunkMagic: [UInt8] = [0x51, 0x54, 0x43, 0x4B]
    /// The format version this code writes and reads.
    public static let version: UInt16 = 1
    /// Size of the fixed chunk header in bytes.
    public static let chunkHeaderBytes = 52
    /// Default number of tags per chunk.
    public static let defaultChunkTags = 1 << 16
    /// Largest payload a reader accepts (a guard against absurd lengths in damaged files).
    static let maxPayloadBytes = 1 << 30

    /// The JSON document in the file header.
    struct HeaderDocument: Codable, Equatable {
        var formatVersion: Int
        var sourceFormat: String
        var device: String
        var mode: String
        var resolutionPs: Double
        var syncPeriodPs: Double?
        var channelNames: [String: String]
        var node: String?
        var clock: String?
        var metadata: [String: String]

        init(_ header: TagStreamHeader) {
            formatVersion = Int(NativeTagFormat.version)
            sourceFormat = (header.format == .native ? header.sourceFormat ?? .native : header.format).rawValue
            device = header.device
            mode = header.mode.rawValue
            resolutionPs = header.resolutionPs
            syncPeriodPs = header.syncPeriodPs
            channelNames = Dictionary(uniqueKeysWithValues: header.channelNames.map { (String($0.key), $0.value) })
            node = header.node
            clock = header.clock
            metadata = header.metadata
        }

        var streamHeader: TagStreamHeader {
            var names: [TagChannel: String] = [:]
            for (key, value) in channelNames { if let channel = TagChannel(key) { names[channel] = value } }
            return TagStreamHeader(
                format: .native, device: device, mode: TagMeasurementMode(rawValue: mode) ?? .unknown,
                resolutionPs: resolutionPs, syncPeriodPs: syncPeriodPs, channelNames: names, node: node,
                clock: clock, metadata: metadata, sourceFormat: TagFileFormat(rawValue: sourceFormat))
        }
    }

    /// The complete file header bytes for `header`.
    static func encodeHeader(_ header: TagStreamHeader, path: String) throws -> [UInt8] {
        let document = HeaderDocument(header)
        try checkTimeScales(document, path: path) { _ in nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = Array(try encoder.encode(document))
        var bytes = fileMagic
        bytes.appendLE(version)
        bytes.appendLE(UInt16(0))
        bytes.appendLE(UInt32(json.count))
        bytes += json
        bytes.appendLE(CRC32C.checksum(Array(bytes[8...])))
        return bytes
    }

    /// Checks the header fields that scale time against ``TimeScaleLimits``; `offset` gives the byte
    /// offset of a JSON key in the file (nil when writing).
    static func checkTimeScales(_ document: HeaderDocument, path: String, offset: (String) -> Int64?) throws {
        _ = try TimeScaleLimits.check(document.resolutionPs, in: TimeScaleLimits.resolutionPs, field: "resolutionPs",
                                      what: "time resolution", file: path, byteOffset: offset("resolutionPs"))
        if let syncPeriodPs = document.syncPeriodPs {
            _ = try TimeScaleLimits.check(syncPeriodPs, in: TimeScaleLimits.syncPeriodPs, field: "syncPeriodPs",
                                          what: "T3 sync period", file: path, byteOffset: offset("syncPeriodPs"))
        }
    }

    /// Parses the file header; returns it and the offset of the first chunk.
    static func decodeHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (TagStreamHeader, Int) {
        guard bytes.count >= 20 else {
            throw TagFileError(.truncated, file: path, byteOffset: Int64(bytes.count), problem: "file is shorter than a QLink tag file header")
        }
        guard Array(bytes[0..<8]) == fileMagic else {
            throw TagFileError(.badMagic, file: path, byteOffset: 0, problem: "not a QLink tag file (bad magic)")
        }
        let version = bytes.le(8, as: UInt16.self)
        guard version == NativeTagFormat.version else {
            throw TagFileError(.unsupported, file: path, byteOffset: 8, problem: "format version \(version) is not supported (this QLink reads version \(NativeTagFormat.version))",
                               hint: "use a newer QLink")
        }
        let jsonLength = Int(bytes.le(12, as: UInt32.self))
        guard jsonLength <= bytes.count - 20 else {
            throw TagFileError(.truncated, file: path, byteOffset: 12, problem: "header JSON of \(jsonLength) bytes runs past the end of the file")
        }
        let crcOffset = 16 + jsonLength
        let stored = bytes.le(crcOffset, as: UInt32.self)
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[8..<crcOffset]))
        guard stored == computed else {
            throw TagFileError(.checksumMismatch, file: path, byteOffset: Int64(crcOffset), problem: "header checksum mismatch")
        }
        let document: HeaderDocument
        do {
            document = try JSONDecoder().decode(HeaderDocument.self, from: Data(bytes[16..<crcOffset]))
        } catch {
            throw TagFileError(.badHeader, file: path, byteOffset: 16, problem: "header JSON is invalid: \(error)")
        }
        let json = UnsafeRawBufferPointer(rebasing: bytes[16..<crcOffset])
        try checkTimeScales(document, path: path) { key in
            let pattern = Array("\"\(key)\"".utf8)
            guard json.count >= pattern.count else { return 16 }
            let start = (0...(json.count - pattern.count)).first { json[$0..<($0 + pattern.count)].elementsEqual(pattern) }
            return Int64(16 + (start ?? 0))
        }
        return (document.streamHeader, crcOffset + 4)
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` in little-endian byte order.
    @inline(__always)
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
