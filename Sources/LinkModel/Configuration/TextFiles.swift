import Foundation

/// Why a text file (a configuration, a certificate, a key) could not be read, worded for the user: what is wrong,
/// with which file, and what to do.
public struct TextFileProblem: Error, Sendable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// What is wrong (`is a folder, not a file`, `is not UTF-8 text: byte 0xFF at offset 0`, …).
    public var problem: String
    /// What to do about it.
    public var hint: String

    public var description: String { "\(path): \(problem) (\(hint))" }
}

/// Reads text files with errors that say what, where and what to do: a missing file, a folder, a file that cannot be
/// opened and one that is not UTF-8 (with the offset of the first bad byte) are each told apart.
public enum TextFiles {
    /// The UTF-8 text of `path`; `what` names the kind of file in the hints ("configuration", "CA certificate").
    public static func read(_ path: String, what: String) throws(TextFileProblem) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TextFileProblem(path: path, problem: "no such file", hint: "check the path of the \(what)")
        }
        if isDirectory.boolValue {
            throw TextFileProblem(path: path, problem: "is a folder, not a file", hint: "pass the \(what) file inside it")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TextFileProblem(path: path, problem: "cannot be opened", hint: "check its permissions (the \(what) must be readable by this user)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            let offset = firstInvalidUTF8Offset(data)
            let byte = offset < data.count ? String(format: "0x%02X", data[data.startIndex + offset]) : "end"
            throw TextFileProblem(path: path, problem: "is not UTF-8 text (byte \(byte) at offset \(offset))",
                                  hint: "the \(what) must be a UTF-8 text file; is this the right file?")
        }
        return text
    }

    /// The offset of the first byte that does not belong to a valid UTF-8 sequence.
    static func firstInvalidUTF8Offset(_ data: Data) -> Int {
        var decoder = UTF8()
        var iterator = data.makeIterator()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return offset
            case .error: return offset
            }
        }
    }
}
