/// An error reading or writing a time-tag file: what went wrong, in which file, at which byte.
///
/// Readers deliver every event decoded before the damage first and throw this error on the
/// following call, so a damaged recording still yields everything up to the damage.
public struct TagFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of problem.
    public enum Kind: String, Sendable, Equatable {
        /// The file could not be opened, mapped or created.
        case cannotOpen
        /// The file does not start with the expected magic bytes.
        case badMagic
        /// The file header is malformed or contradicts itself.
        case badHeader
        /// The file declares a record type or format version this reader does not know.
        case unsupported
        /// The file ends in the middle of a record or before the header says it should.
        case truncated
        /// A record holds values the format does not allow.
        case invalidRecord
        /// A checksum does not match the data it covers.
        case checksumMismatch
        /// Reading from or writing to the file failed.
        case ioFailure
        /// The caller passed an argument that cannot work (unknown format, bad option).
        case invalidArgument
    }

    /// The class of problem.
    public var kind: Kind
    /// Path of the file concerned.
    public var file: String
    /// Byte offset in the file where the problem was found, when known.
    public var byteOffset: Int64?
    /// What is wrong, in words.
    public var problem: String
    /// What the user can do about it, when there is something to suggest.
    public var hint: String?

    /// Creates an error.
    public init(_ kind: Kind, file: String, byteOffset: Int64? = nil, problem: String, hint: String? = nil) {
        self.kind = kind
        self.file = file
        self.byteOffset = byteOffset
        self.problem = problem
        self.hint = hint
    }

    /// `file: at byte N: problem (hint)`.
    public var description: String {
        var text = file
        if let byteOffset { text += ": at byte \(byteOffset)" }
        text += ": \(problem)"
        if let hint { text += " (\(hint))" }
        return text
    }
}
