import Foundation

/// One value of a PicoQuant PTU header tag.
public enum PTUTagValue: Sendable, Equatable {
    /// `tyEmpty8`: a tag without a value (section markers such as `Header_End`).
    case empty
    /// `tyBool8`.
    case bool(Bool)
    /// `tyInt8`: a signed 64-bit integer.
    case int(Int64)
    /// `tyBitSet64`.
    case bitSet(UInt64)
    /// `tyColor8`.
    case color(UInt64)
    /// `tyFloat8`.
    case float(Double)
    /// `tyTDateTime`: days since 1899-12-30, converted to a date.
    case date(Date)
    /// `tyFloat8Array`.
    case floatArray([Double])
    /// `tyAnsiString`.
    case string(String)
    /// `tyWideString` (UTF-16).
    case wideString(String)
    /// `tyBinaryBlob`: the blob bytes.
    case blob([UInt8])

    /// The value as text, for display and metadata.
    public var text: String {
        switch self {
        case .empty: return ""
        case .bool(let value): return value ? "true" : "false"
        case .int(let value): return String(value)
        case .bitSet(let value), .color(let value): return "0x" + String(value, radix: 16)
        case .float(let value): return String(value)
        case .date(let value): return value.formatted(.iso8601)
        case .floatArray(let values): return values.map { String($0) }.joined(separator: " ")
        case .string(let value), .wideString(let value): return value
        case .blob(let bytes): return "<\(bytes.count) bytes>"
        }
    }
}

/// One tag of a PTU header: a name, an array index (-1 when not an array element) and a value.
public struct PTUTag: Sendable, Equatable {
    /// Tag identifier, such as `MeasDesc_GlobalResolution`.
    public var name: String
    /// Index for array-like tags, -1 otherwise.
    public var index: Int32
    /// The value.
    public var value: PTUTagValue
    /// Byte offset of the tag's 48-byte entry in the file.
    public var byteOffset: Int

    /// `Name` or `Name(index)`.
    public var displayName: String { index < 0 ? name : "\(name)(\(index))" }
}

/// The parsed header of a PTU file.
public struct PTUHeader: Sendable, Equatable {
    /// File format version string from bytes 8..<16 (e.g. "1.0.00").
    public var version: String
    /// Every tag in file order, up to and including `Header_End`.
    public var tags: [PTUTag]
    /// Byte offset of the first TTTR record.
    public var dataOffset: Int

    /// The first tag called `name` (with `index`, when given).
    public func tag(_ name: String, index: Int32? = nil) -> PTUTagValue? {
        tags.first { $0.name == name && (index == nil || $0.index == index) }?.value
    }

    /// Byte offset of the first tag called `name`, if present.
    public func byteOffset(of name: String) -> Int? {
        tags.first { $0.name == name }?.byteOffset
    }

    /// Integer value of `name`, if present and integral.
    public func int(_ name: String) -> Int64? {
        switch tag(name) {
        case .int(let value)?: return value
        case .bitSet(let value)?, .color(let value)?: return Int64(bitPattern: value)
        default: return nil
        }
    }

    /// Floating-point value of `name`, if present and numeric.
    public func double(_ name: String) -> Double? {
        switch tag(name) {
        case .float(let value)?: return value
        case .int(let value)?: return Double(value)
        default: return nil
        }
    }

    /// String value of `name`, if present and textual.
    public func string(_ name: String) -> String? {
        switch tag(name) {
        case .string(let value)?, .wideString(let value)?: return value
        default: return nil
        }
    }
}

/// Parses PTU headers.
enum PTUHeaderParser {
    static let magic: [UInt8] = Array("PQTTTR".utf8)
    private static let tagSize = 48

    /// Parses the header at the start of `bytes`; `path` names the file in errors.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> PTUHeader {
        guard bytes.count >= 16 else {
            throw TagFileError(.truncated, file: path, byteOffset: Int64(bytes.count),
                               problem: "file is \(bytes.count) bytes, shorter than a PTU preamble")
        }
        guard Array(bytes[0..<6]) == magic else {
            throw TagFileError(.badMagic, file: path, byteOffset: 0, problem: "not a PTU file (magic is not PQTTTR)")
        }
        let version = text(bytes, 8, 8)
        var tags: [PTUTag] = []
        var offset = 16
        while true {
            guard offset + tagSize <= bytes.count else {
                throw TagFileError(.truncated, file: path, byteOffset: Int64(offset),
                                   problem: "header ends before Header_End")
            }
            let tagOffset = offset
            let name = text(bytes, offset, 32)
            let index = bytes.le(offset + 32, as: Int32.self)
            let type = bytes.le(offset + 36, as: UInt32.self)
            let raw = bytes.le(offset + 40, as: UInt64.self)
            offset += tagSize
            let value: PTUTagValue
            switch type {
            case 0xFFFF_0008: value = .empty
            case 0x0000_0008: value = .bool(raw != 0)
            case 0x1000_0008: value = .int(Int64(bitPattern: raw))
            case 0x1100_0008: value = .bitSet(raw)
            case 0x1200_0008: value = .color(raw)
            case 0x2000_0008: value = .float(Double(bitPattern: raw))
            case 0x2100_0008:
                let days = Double(bitPattern: raw)
                // Days beyond ±10 000 years (or not finite) are damage: shown as the epoch rather than an unprintable date.
                value = .date(Date(timeIntervalSince1970: days.isFinite && abs(days) < 3.7e6 ? (days - 25569) * 86400 : 0))
            case 0x2001_FFFF, 0x4001_FFFF, 0x4002_FFFF, 0xFFFF_FFFF:
                guard raw <= UInt64(bytes.count - offset) else {
                    throw TagFileError(.badHeader, file: path, byteOffset: Int64(offset - tagSize),
                                       problem: "tag \(name) claims \(raw) bytes of data but the file has \(bytes.count - offset) left")
                }
                let length = Int(raw)
                switch type {
                case 0x2001_FFFF:
                    value = .floatArray((0..<(length / 8)).map { Double(bitPattern: bytes.le(offset + 8 * $0, as: UInt64.self)) })
                case 0x4001_FFFF:
                    value = .string(text(bytes, offset, length))
                case 0x4002_FFFF:
                    let units = (0..<(length / 2)).map { bytes.le(offset + 2 * $0, as: UInt16.self) }
                    let end = units.firstIndex(of: 0) ?? units.count
                    value = .wideString(String(decoding: units[0..<end], as: UTF16.self))
                default:
                    value = .blob(Array(bytes[offset..<(offset + length)]))
                }
                offset += length
            default:
                throw TagFileError(.badHeader, file: path, byteOffset: Int64(offset - tagSize),
                                   problem: "tag \(name) has unknown type 0x\(String(type, radix: 16))")
            }
            tags.append(PTUTag(name: name, index: index, value: value, byteOffset: tagOffset))
            if name == "Header_End" { break }
        }
        return PTUHeader(version: version, tags: tags, dataOffset: offset)
    }

    /// Text of a NUL-padded field (UTF-8, falling back to Latin-1).
    private static func text(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ length: Int) -> String {
        let field = bytes[offset..<(offset + length)]
        let end = field.firstIndex(of: 0) ?? field.endIndex
        let slice = Array(field[field.startIndex..<end])
        if let utf8 = String(validating: slice, as: UTF8.self) { return utf8 }
        return String(slice.map { Character(Unicode.Scalar($0)) })
    }
}
