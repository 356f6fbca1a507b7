/// An error from the correlation engine: what failed, where, and what to do about it.
public struct CorrelationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: String, Sendable, Codable {
        /// A parameter (window, bin width, range, channel list) is not usable.
        case invalidParameter
        /// Input events are not sorted by time, or a chunk starts before the previous one ended.
        case unsortedInput
        /// There is too little data for the requested estimate.
        case insufficientData
        /// A correlation peak could not be found.
        case noPeakFound
    }

    /// The kind of failure.
    public var kind: Kind
    /// What failed.
    public var message: String
    /// Where it failed (operation, channel pair, time).
    public var context: String
    /// What the caller can do about it.
    public var hint: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, context: String = "", hint: String = "") {
        self.kind = kind
        self.message = message
        self.context = context
        self.hint = hint
    }

    public var description: String {
        var text = "\(kind.rawValue): \(message)"
        if !context.isEmpty { text += " [\(context)]" }
        if !hint.isEmpty { text += " — \(hint)" }
        return text
    }
}
