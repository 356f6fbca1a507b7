/// A journal or spool operation that failed: what, on which file, and what to do.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The database file could not be opened or created.
        case open
        /// A read or write failed.
        case io
        /// The spool has no room for another batch.
        case spoolFull
    }

    public var kind: Kind
    public var path: String
    public var detail: String
    public var hint: String

    public init(_ kind: Kind, path: String, detail: String, hint: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
        self.hint = hint
    }

    public var description: String { "journal \(kind.rawValue) error on \(path): \(detail) — \(hint)" }
}
