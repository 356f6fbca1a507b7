/// The fixed little-endian header at the start of every QLink message's frame (after a broadcast's topic).
///
/// Layout (48 bytes, all little-endian, no padding; see docs/protocol.md):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 2 | magic `Q` `L` (0x51 0x4C) |
/// | 2 | 1 | major version (``MessageHeader/currentVersion``) |
/// | 3 | 1 | message type |
/// | 4 | 2 | header length in bytes (≥ 48; readers skip what they do not know) |
/// | 6 | 2 | flags (reserved, 0) |
/// | 8 | 8 | sender session id |
/// | 16 | 8 | sequence number |
/// | 24 | 8 | event time, ps (signed) |
/// | 32 | 4 | payload length in bytes (the payload follows the header) |
/// | 36 | 4 | CRC32C of the payload |
/// | 40 | 4 | item count (tags in a batch, 0 otherwise) |
/// | 44 | 4 | reserved (0) |
public struct MessageHeader: Sendable, Equatable {
    /// The protocol's major version. A receiver rejects any other major version.
    public static let currentVersion: UInt8 = 3
    /// The size of the header this version writes.
    public static let size = 48
    /// The magic bytes "QL".
    public static let magic: (UInt8, UInt8) = (0x51, 0x4C)

    public var version: UInt8 = MessageHeader.currentVersion
    public var type: MessageType
    public var flags: UInt16 = 0
    /// A random id chosen by the sender when it starts; a new id means the sender restarted.
    public var sessionId: UInt64
    /// The sender's sequence number for this stream of messages (starts at 1).
    public var sequence: UInt64
    /// An event time in ps (batch start, herald time, …), 0 when not meaningful.
    public var eventTimePs: Int64 = 0
    public var payloadLength: UInt32 = 0
    public var checksum: UInt32 = 0
    public var itemCount: UInt32 = 0

    public init(type: MessageType, sessionId: UInt64, sequence: UInt64, eventTimePs: Int64 = 0) {
        self.type = type
        self.sessionId = sessionId
        self.sequence = sequence
        self.eventTimePs = eventTimePs
    }

    /// The 48 header bytes.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: MessageHeader.size)
        writer.put(MessageHeader.magic.0)
        writer.put(MessageHeader.magic.1)
        writer.put(version)
        writer.put(type.rawValue)
        writer.put(UInt16(MessageHeader.size))
        writer.put(flags)
        writer.put(sessionId)
        writer.put(sequence)
        writer.put(eventTimePs)
        writer.put(payloadLength)
        writer.put(checksum)
        writer.put(itemCount)
        writer.put(UInt32(0))
        return writer.bytes
    }

    /// Reads a header from `bytes` (any alignment).
    /// - Throws: ``ProtocolError`` for a short frame, bad magic, another major version or an unknown type.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(ProtocolError) -> MessageHeader {
        guard bytes.count >= size else {
            throw ProtocolError(.badHeader, "header frame has \(bytes.count) bytes, needs at least \(size)")
        }
        var reader = ByteReader(bytes)
        let m0: UInt8 = try reader.read()
        let m1: UInt8 = try reader.read()
        guard m0 == magic.0, m1 == magic.1 else {
            throw ProtocolError(.badHeader, "header does not start with the magic bytes 'QL'")
        }
        let version: UInt8 = try reader.read()
        guard version == currentVersion else {
            throw ProtocolError(.versionMismatch, "protocol version \(version), this side speaks \(currentVersion)")
        }
        let rawType: UInt8 = try reader.read()
        guard let type = MessageType(rawValue: rawType) else {
            throw ProtocolError(.unknownType, "message type \(rawType) is not known to protocol version \(currentVersion)")
        }
        let headerLength = Int(try reader.read(UInt16.self))
        guard headerLength >= size, headerLength <= bytes.count else {
            throw ProtocolError(.badHeader, "header length field \(headerLength) is outside \(size)…\(bytes.count)")
        }
        var header = MessageHeader(type: type, sessionId: 0, sequence: 0)
        header.flags = try reader.read()
        header.sessionId = try reader.read()
        header.sequence = try reader.read()
        header.eventTimePs = try reader.read()
        header.payloadLength = try reader.read()
        header.checksum = try reader.read()
        header.itemCount = try reader.read()
        return header
    }
}
