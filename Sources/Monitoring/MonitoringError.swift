/// A monitoring operation that failed: what, why and what to do.
public struct MonitoringError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: String, Sendable, Equatable {
        /// The monitoring configuration cannot be used.
        case invalidConfiguration
        /// The link model needed for planning is missing or unusable.
        case noModel
        /// Too little was measured to estimate something.
        case insufficientData
        /// Encoding a payload failed.
        case encodingFailed
        /// A sink (webhook, history) did not accept alerts.
        case deliveryFailed
        /// The status server could not start or a request failed.
        case server
        /// A status response could not be read.
        case badResponse
    }

    /// The kind of failure.
    public var kind: Kind
    /// What failed.
    public var message: String
    /// What to do about it.
    public var hint: String?

    public init(_ kind: Kind, _ message: String, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.hint = hint
    }

    public var description: String {
        hint.map { "\(message); \($0)" } ?? message
    }
}
