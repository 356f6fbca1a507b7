import COpenSSL

/// A failure reported by the OpenSSL library, with the library's own reasons.
///
/// Created by draining OpenSSL's thread-local error queue right after a call fails, so the reasons belong to
/// that call and do not leak into the next one.
public struct OpenSSLError: Error, Sendable, CustomStringConvertible {
    /// What QLink was doing, e.g. `"sign certificate"`.
    public var operation: String
    /// Extra context such as a file name; empty when there is none.
    public var context: String
    /// The library's reason strings, oldest first (e.g. `"PEM routines::no start line"`).
    public var reasons: [String]

    /// Creates an error for `operation`, draining the OpenSSL error queue into `reasons`.
    public init(operation: String, context: String = "") {
        self.operation = operation
        self.context = context
        self.reasons = OpenSSLError.drainQueue()
    }

    /// Creates an error with explicit reasons (the queue is still cleared).
    public init(operation: String, context: String = "", reasons: [String]) {
        self.operation = operation
        self.context = context
        _ = OpenSSLError.drainQueue()
        self.reasons = reasons
    }

    public var description: String {
        var text = "OpenSSL: \(operation) failed"
        if !context.isEmpty { text += " (\(context))" }
        if !reasons.isEmpty { text += ": " + reasons.joined(separator: "; ") }
        return text
    }

    /// Removes every pending entry from this thread's OpenSSL error queue and returns their texts.
    public static func drainQueue() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            let text = String(decoding: bytes, as: UTF8.self)
            if reasons.count < 16 { reasons.append(text) }
        }
        return reasons
    }

    /// Clears the queue before a call whose failure will be reported, so old entries do not mix in.
    static func clearQueue() { ERR_clear_error() }
}

/// Throws an ``OpenSSLError`` for `operation` unless `result` is 1 (OpenSSL's usual success value).
@inline(__always)
func check(_ result: Int32, _ operation: @autoclosure () -> String, context: @autoclosure () -> String = "") throws {
    if result != 1 { throw OpenSSLError(operation: operation(), context: context()) }
}

/// Returns `pointer` or throws an ``OpenSSLError`` for `operation` when it is nil.
@inline(__always)
func require<T>(_ pointer: T?, _ operation: @autoclosure () -> String, context: @autoclosure () -> String = "") throws -> T {
    guard let pointer else { throw OpenSSLError(operation: operation(), context: context()) }
    return pointer
}
