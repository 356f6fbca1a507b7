/// A wire message that could not be decoded or that breaks the protocol.
///
/// Malformed input never crashes a receiver: decoding throws this error, and the receiver counts it
/// (see ``ProtocolCounters``), answers with an error message where it can and keeps running.
public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem it is.
    public enum Kind: String, Sendable, Equatable, CaseIterable, Codable {
        /// The message has the wrong number of frames.
        case frameCount
        /// The header frame is too short or its magic bytes are wrong.
        case badHeader
        /// The major protocol version differs from ours.
        case versionMismatch
        /// The message type is not known to this version.
        case unknownType
        /// The payload length differs from the header's or from the type's layout.
        case badLength
        /// The payload's CRC32C differs from the header's checksum.
        case checksumMismatch
        /// A text or JSON payload could not be parsed.
        case badPayload
        /// The message is larger than the receiver accepts.
        case oversized
        /// The sender has not introduced itself with a hello.
        case notIntroduced
        /// The sender's certificate does not allow the claim: another lab, a node in no lab, another node's
        /// name, or tags on channels its lab does not own (docs/security.md, "Who may speak for a lab").
        case refused
    }

    /// What kind of problem it is.
    public var kind: Kind
    /// What was wrong, in words.
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "protocol error (\(kind.rawValue)): \(detail)" }

    /// The numeric code carried by an ``ErrorReport`` on the wire.
    public var code: UInt16 {
        UInt16(Kind.allCases.firstIndex(of: kind) ?? 0) + 1
    }

    /// The kind for a wire code, if known.
    public static func kind(forCode code: UInt16) -> Kind? {
        let index = Int(code) - 1
        return Kind.allCases.indices.contains(index) ? Kind.allCases[index] : nil
    }
}
