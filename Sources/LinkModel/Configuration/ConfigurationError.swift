import Foundation

/// A configuration file that QLink cannot use, with where and why.
///
/// The description names the file, the key path inside it (for example
/// `labs[0].detectors[1].delay_ps`), the line when known, what was found and what is expected,
/// so a user can fix the file without reading code.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The kind of problem; a small closed set so tests and callers can match on it.
    public enum Kind: String, Sendable, Equatable {
        /// The file could not be read.
        case unreadable
        /// The text is not valid YAML.
        case syntax
        /// A key that the configuration does not define.
        case unknownKey
        /// A required key is absent.
        case missingKey
        /// A value of the wrong type (a string where a number belongs, a list where a mapping belongs…).
        case wrongType
        /// A value of the right type outside what the key allows.
        case invalidValue
    }

    /// What went wrong.
    public var kind: Kind
    /// The file the configuration came from, or `<string>` for in-memory text.
    public var file: String
    /// The dotted key path in YAML spelling (`labs[0].detectors[1].delay_ps`); empty for the whole document.
    public var keyPath: String
    /// The 1-based line in the file when known.
    public var line: Int?
    /// A human-readable explanation of what was found and what is expected.
    public var message: String

    public init(kind: Kind, file: String, keyPath: String, line: Int? = nil, message: String) {
        self.kind = kind
        self.file = file
        self.keyPath = keyPath
        self.line = line
        self.message = message
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        let key = keyPath.isEmpty ? "" : " \(keyPath):"
        return "\(location):\(key) \(message)"
    }
}

extension ConfigurationError {
    /// Reads a configuration file as UTF-8 text.
    /// - Throws: an ``Kind/unreadable`` error naming the file and what to check.
    public static func readFile(_ path: String) throws(ConfigurationError) -> String {
        do {
            return try TextFiles.read(path, what: "configuration")
        } catch {
            throw ConfigurationError(kind: .unreadable, file: path, keyPath: "", message: "\(error.problem); \(error.hint)")
        }
    }
}
