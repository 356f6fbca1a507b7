/// A failure in the lab PKI or in authenticating a peer: what failed, where, and what to do.
public struct SecurityError: Error, Sendable, CustomStringConvertible {
    /// Categories of failure.
    public enum Kind: String, Sendable {
        /// Text that is not valid Z85, PEM or hexadecimal.
        case invalidEncoding
        /// A file that cannot be read or written.
        case fileAccess
        /// A private key file that others can read, or that is not a regular file.
        case insecureKeyFile
        /// A name or argument that QLink does not accept.
        case invalidArgument
        /// The CA directory or its database is missing or inconsistent.
        case authority
        /// A certificate that does not meet QLink's policy or fails verification.
        case verification
        /// An error reported by OpenSSL.
        case openSSL
    }

    /// The category.
    public var kind: Kind
    /// What went wrong, including the file or name involved.
    public var message: String
    /// What to do about it; empty when there is nothing to add.
    public var hint: String

    /// Creates an error of `kind` with `message` and an optional `hint`.
    public init(_ kind: Kind, _ message: String, hint: String = "") {
        self.kind = kind
        self.message = message
        self.hint = hint
    }

    public var description: String {
        hint.isEmpty ? message : "\(message); \(hint)"
    }
}
