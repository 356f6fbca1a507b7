/// Counts of rejected messages by kind, kept by every receiver so that rejected input is visible.
public struct ProtocolCounters: Sendable, Equatable, Codable {
    /// Rejections per ``ProtocolError/Kind`` raw value.
    public private(set) var rejected: [String: Int64] = [:]

    public init() {}

    /// Counts one rejection.
    public mutating func count(_ error: ProtocolError) {
        rejected[error.kind.rawValue, default: 0] += 1
    }

    /// Rejections of `kind`.
    public subscript(kind: ProtocolError.Kind) -> Int64 { rejected[kind.rawValue] ?? 0 }

    /// All rejections.
    public var total: Int64 { rejected.values.reduce(0, +) }
}
