/// Range checks used while decoding configuration sections.
///
/// Each helper throws `DecodingError.dataCorrupted` at the key's own coding path, which
/// ``StrictYAMLDecoder`` turns into a ``ConfigurationError`` naming the file, key and line.
extension KeyedDecodingContainer {
    /// Decodes a comparable value and checks it lies in `range`; `what` says what the value means.
    public func decode<T: Decodable & Comparable>(
        _ type: T.Type, forKey key: Key, in range: ClosedRange<T>, what: String
    ) throws -> T {
        let value = try decode(type, forKey: key)
        try check(value, in: range, forKey: key, what: what)
        return value
    }

    /// Like ``decode(_:forKey:in:what:)`` but optional, with a default when the key is absent.
    public func decode<T: Decodable & Comparable>(
        _ type: T.Type, forKey key: Key, in range: ClosedRange<T>, default defaultValue: T, what: String
    ) throws -> T {
        guard let value = try decodeIfPresent(type, forKey: key) else { return defaultValue }
        try check(value, in: range, forKey: key, what: what)
        return value
    }

    /// Throws a decoding error at `key` with `message` (what was found and what is expected).
    public func invalid(_ key: Key, _ message: String) -> DecodingError {
        DecodingError.dataCorrupted(.init(codingPath: codingPath + [key], debugDescription: message))
    }

    private func check<T: Comparable>(_ value: T, in range: ClosedRange<T>, forKey key: Key, what: String) throws {
        guard range.contains(value) else {
            throw invalid(key, "\(value) is out of range; expected \(what) between \(range.lowerBound) and \(range.upperBound)")
        }
    }
}
