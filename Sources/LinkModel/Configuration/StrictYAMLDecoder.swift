import Yams

/// Decodes `Decodable` types from YAML and rejects anything the types do not ask for.
///
/// Swift property names map to YAML keys in snake case (`delayPs` ↔ `delay_ps`). Unlike plain
/// `Codable` decoding, a key present in the file that no type reads is an error, so a misspelt
/// option never silently falls back to its default. Every error becomes a ``ConfigurationError``
/// naming the file, the key path and the line.
public struct StrictYAMLDecoder: Sendable {
    public init() {}

    /// Decodes `type` from YAML text.
    /// - Parameters:
    ///   - yaml: the document.
    ///   - file: a name for the source used in error messages.
    public func decode<T: Decodable>(_ type: T.Type, from yaml: String, file: String = "<string>") throws(ConfigurationError) -> T {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ConfigurationError(kind: .syntax, file: file, keyPath: "", message: "the document is empty; expected a mapping of configuration keys")
            }
            root = node
        } catch let error as ConfigurationError {
            throw error
        } catch let error as YamlError {
            throw ConfigurationError(kind: .syntax, file: file, keyPath: "", line: Self.line(of: error), message: "not valid YAML: \(error)")
        } catch {
            throw ConfigurationError(kind: .syntax, file: file, keyPath: "", message: "not valid YAML: \(error)")
        }
        let context = DecodingContext()
        let value: T
        do {
            value = try T(from: NodeDecoder(node: root, codingPath: [], context: context))
        } catch let error as DecodingError {
            throw context.configurationError(for: error, file: file)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(kind: .invalidValue, file: file, keyPath: "", message: "\(error)")
        }
        if let unknown = context.firstUnknownKey() {
            throw ConfigurationError(
                kind: .unknownKey, file: file, keyPath: unknown.path, line: unknown.line,
                message: "unknown key '\(unknown.key)'; allowed here: \(unknown.allowed.sorted().joined(separator: ", "))")
        }
        return value
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }
}

// MARK: - Key spelling

/// Converts a Swift property name to its YAML spelling: `lossDbPerKm` → `loss_db_per_km`.
func yamlKey(_ swiftName: String) -> String {
    var result = ""
    for character in swiftName {
        if character.isUppercase {
            if !result.isEmpty { result.append("_") }
            result.append(contentsOf: character.lowercased())
        } else {
            result.append(character)
        }
    }
    return result
}

/// Renders a coding path as `labs[0].detectors[1].delay_ps`.
func yamlPath(_ codingPath: [any CodingKey]) -> String {
    var result = ""
    for key in codingPath {
        if let index = key.intValue {
            result += "[\(index)]"
        } else {
            if !result.isEmpty { result += "." }
            result += yamlKey(key.stringValue)
        }
    }
    return result
}

struct IndexKey: CodingKey {
    var stringValue: String { "\(intValue!)" }
    var intValue: Int?
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

// MARK: - Bookkeeping

/// Remembers every mapping seen and which of its keys were read, and where nodes are in the file.
final class DecodingContext {
    struct MappingRecord {
        var path: String
        var keys: [(name: String, line: Int?)]
        var used: Set<String> = []
    }

    var mappings: [String: MappingRecord] = [:]
    var order: [String] = []
    var lines: [String: Int] = [:]

    func register(path: String, mapping: Node.Mapping) {
        lines[path] = mapping.mark?.line
        if mappings[path] == nil {
            let keys = mapping.map { (name: $0.key.string ?? "\($0.key)", line: $0.key.mark?.line) }
            mappings[path] = MappingRecord(path: path, keys: keys)
            order.append(path)
        }
    }

    func markUsed(path: String, key: String) {
        mappings[path]?.used.insert(key)
    }

    func firstUnknownKey() -> (path: String, key: String, line: Int?, allowed: Set<String>)? {
        for path in order {
            guard let record = mappings[path] else { continue }
            for key in record.keys where !record.used.contains(key.name) {
                let full = path.isEmpty ? key.name : "\(path).\(key.name)"
                return (full, key.name, key.line, record.used)
            }
        }
        return nil
    }

    func configurationError(for error: DecodingError, file: String) -> ConfigurationError {
        switch error {
        case .keyNotFound(let key, let context):
            let path = yamlPath(context.codingPath + [key])
            let wanted = yamlKey(key.stringValue)
            if let record = mappings[yamlPath(context.codingPath)],
               let typo = record.keys.first(where: { !record.used.contains($0.name) && editDistance($0.name, wanted) <= 2 }) {
                let typoPath = yamlPath(context.codingPath).isEmpty ? typo.name : "\(yamlPath(context.codingPath)).\(typo.name)"
                return ConfigurationError(kind: .unknownKey, file: file, keyPath: typoPath, line: typo.line,
                                          message: "unknown key '\(typo.name)'; did you mean '\(wanted)'? (allowed here include \(([wanted] + record.used.sorted()).joined(separator: ", ")))")
            }
            return ConfigurationError(kind: .missingKey, file: file, keyPath: path, line: lines[yamlPath(context.codingPath)],
                                      message: "required key '\(yamlKey(key.stringValue))' is missing")
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let path = yamlPath(context.codingPath)
            return ConfigurationError(kind: .wrongType, file: file, keyPath: path, line: lines[path], message: context.debugDescription)
        case .dataCorrupted(let context):
            let path = yamlPath(context.codingPath)
            return ConfigurationError(kind: .invalidValue, file: file, keyPath: path, line: lines[path], message: context.debugDescription)
        @unknown default:
            return ConfigurationError(kind: .invalidValue, file: file, keyPath: "", message: "\(error)")
        }
    }
}

// MARK: - Decoder

struct NodeDecoder: Decoder {
    let node: Node
    let codingPath: [any CodingKey]
    let context: DecodingContext
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(node: Node, codingPath: [any CodingKey], context: DecodingContext) {
        self.node = node
        self.codingPath = codingPath
        self.context = context
        context.lines[yamlPath(codingPath)] = node.mark?.line
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let mapping) = node else {
            throw DecodingError.typeMismatch([String: Any].self, .init(
                codingPath: codingPath, debugDescription: "expected a mapping of keys, found \(describe(node))"))
        }
        context.register(path: yamlPath(codingPath), mapping: mapping)
        return KeyedDecodingContainer(MappingContainer<Key>(mapping: mapping, codingPath: codingPath, context: context))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let sequence) = node else {
            throw DecodingError.typeMismatch([Any].self, .init(
                codingPath: codingPath, debugDescription: "expected a list, found \(describe(node))"))
        }
        return SequenceContainer(items: Array(sequence), codingPath: codingPath, context: context)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        ScalarContainer(node: node, codingPath: codingPath, context: context)
    }
}

func describe(_ node: Node) -> String {
    switch node {
    case .scalar(let scalar): return "'\(scalar.string)'"
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    }
}

struct MappingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let mapping: Node.Mapping
    let codingPath: [any CodingKey]
    let context: DecodingContext

    var allKeys: [Key] {
        mapping.keys.compactMap { $0.string }.compactMap { name in
            Key(stringValue: name) ?? Key(stringValue: snakeToCamel(name))
        }
    }

    private func value(for key: Key) -> Node? {
        let name = yamlKey(key.stringValue)
        context.markUsed(path: yamlPath(codingPath), key: name)
        if let node = mapping[name] { return node }
        if name != key.stringValue, let node = mapping[key.stringValue] {
            context.markUsed(path: yamlPath(codingPath), key: key.stringValue)
            return node
        }
        return nil
    }

    private func decoder(for key: Key) throws -> NodeDecoder {
        guard let node = value(for: key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        return NodeDecoder(node: node, codingPath: codingPath + [key], context: context)
    }

    func contains(_ key: Key) -> Bool {
        let name = yamlKey(key.stringValue)
        return mapping[name] != nil || mapping[key.stringValue] != nil
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let node = value(for: key) else { return true }
        return isNull(node)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try T(from: decoder(for: key))
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let node = value(for: key), !isNull(node) else { return nil }
        return try T(from: NodeDecoder(node: node, codingPath: codingPath + [key], context: context))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(for: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(for: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        NodeDecoder(node: .mapping(mapping), codingPath: codingPath, context: context)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        try decoder(for: key)
    }
}

func snakeToCamel(_ name: String) -> String {
    let parts = name.split(separator: "_")
    guard let first = parts.first else { return name }
    return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
}

func isNull(_ node: Node) -> Bool {
    guard case .scalar(let scalar) = node else { return false }
    if scalar.style != .plain && scalar.style != .any { return false }
    return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
}

struct SequenceContainer: UnkeyedDecodingContainer {
    let items: [Node]
    let codingPath: [any CodingKey]
    let context: DecodingContext
    var currentIndex = 0

    init(items: [Node], codingPath: [any CodingKey], context: DecodingContext) {
        self.items = items
        self.codingPath = codingPath
        self.context = context
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func next() throws -> NodeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(
                codingPath: codingPath + [IndexKey(currentIndex)], debugDescription: "the list has too few entries"))
        }
        defer { currentIndex += 1 }
        return NodeDecoder(node: items[currentIndex], codingPath: codingPath + [IndexKey(currentIndex)], context: context)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        if isNull(items[currentIndex]) {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: next())
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        try next()
    }
}

struct ScalarContainer: SingleValueDecodingContainer {
    let node: Node
    let codingPath: [any CodingKey]
    let context: DecodingContext

    func decodeNil() -> Bool { isNull(node) }

    private func scalar(_ expected: String) throws -> String {
        guard case .scalar(let scalar) = node else {
            throw DecodingError.typeMismatch(String.self, .init(
                codingPath: codingPath, debugDescription: "expected \(expected), found \(describe(node))"))
        }
        return scalar.string
    }

    private func mismatch(_ text: String, _ expected: String) -> DecodingError {
        var message = "expected \(expected), found '\(text)'"
        if let hint = UnitInValue.hint(text, key: codingPath.last.map { yamlKey($0.stringValue) }) { message += "; " + hint }
        return DecodingError.typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: message))
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        let text = try scalar("true or false")
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw mismatch(text, "true or false")
        }
    }

    func decode(_ type: String.Type) throws -> String {
        try scalar("a string")
    }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let text = try scalar("an integer").replacingOccurrences(of: "_", with: "")
        if let value = T(text) { return value }
        // Accept exact integers written in exponent form, such as 1e6.
        if let double = Double(text), double.rounded() == double, let value = T(exactly: double) { return value }
        // The range only helps for a number that is out of it or not whole.
        throw mismatch(text, Double(text) == nil ? "an integer" : "an integer between \(T.min) and \(T.max)")
    }

    func decode(_ type: Double.Type) throws -> Double {
        let text = try scalar("a number").replacingOccurrences(of: "_", with: "")
        switch text.lowercased() {
        case ".inf", "+.inf": return .infinity
        case "-.inf": return -.infinity
        default: break
        }
        guard let value = Double(text), value.isFinite else { throw mismatch(text, "a number") }
        return value
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: NodeDecoder(node: node, codingPath: codingPath, context: context))
    }
}

/// Levenshtein distance, used to suggest the key a user probably meant.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

/// A value written with a unit (`1 ns`, `10 km`, `5 MHz`): QLink's units live in the key's name (`window_ps`,
/// `length_km`, `repetition_rate_hz`), so the hint says which number to write instead.
enum UnitInValue {
    /// Units a value might carry, by the key suffix whose unit they convert to, as factors to that unit.
    private static let units: [String: [String: Double]] = [
        "ps": ["ps": 1, "ns": 1e3, "us": 1e6, "µs": 1e6, "ms": 1e9, "s": 1e12],
        "s": ["ps": 1e-12, "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "min": 60, "h": 3600],
        "hz": ["hz": 1, "khz": 1e3, "mhz": 1e6, "ghz": 1e9],
        "km": ["m": 1e-3, "km": 1],
        "db": ["db": 1],
    ]

    /// The hint for `text` under the key `key`, or nil when `text` is not a number followed by a unit.
    static func hint(_ text: String, key: String?) -> String? {
        guard let match = text.wholeMatch(of: /\s*([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-zµ]+)\s*/),
              let number = Double(match.1) else { return nil }
        let unit = String(match.2).lowercased()
        guard let key, let suffix = key.split(separator: "_").last.map({ String($0).lowercased() }), let table = units[suffix] else {
            return "write the number alone: the unit is part of each key's name (e.g. window_ps, length_km, repetition_rate_hz)"
        }
        guard let factor = table[unit] else {
            return "write the number alone in \(suffix == "hz" ? "Hz" : suffix) (the unit of \(key)), without '\(match.2)'"
        }
        let converted = number * factor
        let written = converted.rounded() == converted && abs(converted) < 1e15 ? String(Int64(converted)) : "\(converted)"
        return "the unit is in the key's name: write \(key): \(written)"
    }
}
