import CZeroMQ
import Foundation

/// One frame of a ZeroMQ message: an immutable run of bytes.
///
/// A received frame keeps libzmq's buffer (no copy); a frame built from bytes owns a heap buffer
/// that large sends hand to libzmq without copying. Frames are immutable, so sending one frame
/// several times or from several messages is safe.
public struct Frame: Sendable, Equatable, CustomStringConvertible {
    let storage: FrameStorage

    /// A frame holding a copy of `bytes`.
    public init<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let buffer = HeapBuffer(count: bytes.count)
        UnsafeMutableRawBufferPointer(start: buffer.pointer, count: bytes.count).copyBytes(from: bytes)
        storage = .heap(buffer)
    }

    /// A frame holding the UTF-8 bytes of `string`.
    public init(_ string: String) {
        self.init(Array(string.utf8))
    }

    /// A frame of `count` bytes written in place by `initializer`, without an intermediate copy.
    public init(count: Int, initializingWith initializer: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let buffer = HeapBuffer(count: count)
        try initializer(UnsafeMutableRawBufferPointer(start: buffer.pointer, count: count))
        storage = .heap(buffer)
    }

    init(received message: ReceivedMessage) {
        storage = .received(message)
    }

    /// Number of bytes.
    public var count: Int {
        switch storage {
        case .heap(let buffer): return buffer.count
        case .received(let message): return message.count
        }
    }

    /// Calls `body` with the frame's bytes; the pointer is valid only inside `body`.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        switch storage {
        case .heap(let buffer):
            return try body(UnsafeRawBufferPointer(start: buffer.pointer, count: buffer.count))
        case .received(let message):
            return try message.withUnsafeBytes(body)
        }
    }

    /// A copy of the bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The bytes as UTF-8 text, or `nil` if they are not valid UTF-8.
    public var string: String? { withUnsafeBytes { String(validating: $0.bindMemory(to: UInt8.self), as: UTF8.self) } }

    /// A message property set by the security layer on received frames: `User-Id`, `Peer-Address`,
    /// or metadata returned by the ZAP handler. `nil` for frames built locally or absent properties.
    public func property(_ name: String) -> String? {
        guard case .received(let message) = storage else { return nil }
        return message.property(name)
    }

    public static func == (lhs: Frame, rhs: Frame) -> Bool {
        lhs.withUnsafeBytes { left in rhs.withUnsafeBytes { right in left.elementsEqual(right) } }
    }

    public var description: String {
        if let text = string, text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
            return "\"\(text)\""
        }
        return "<\(count) bytes>"
    }
}

enum FrameStorage: @unchecked Sendable {
    // @unchecked: both backings are immutable after construction.
    case heap(HeapBuffer)
    case received(ReceivedMessage)
}

/// An immutable heap buffer that libzmq may borrow for zero-copy sends.
final class HeapBuffer {
    let pointer: UnsafeMutableRawPointer
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1), alignment: 16)
    }

    deinit { pointer.deallocate() }
}

/// A received `zmq_msg_t`, kept at a stable heap address and closed exactly once.
final class ReceivedMessage {
    let message: UnsafeMutablePointer<zmq_msg_t>

    /// Takes ownership of an initialised message.
    init(taking message: UnsafeMutablePointer<zmq_msg_t>) {
        self.message = message
    }

    deinit {
        zmq_msg_close(message)
        qlink_zmq_msg_free(message)
    }

    var count: Int { zmq_msg_size(message) }

    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(start: zmq_msg_data(message), count: zmq_msg_size(message)))
    }

    func property(_ name: String) -> String? {
        guard let value = zmq_msg_gets(message, name) else { return nil }
        return String(cString: value)
    }
}

/// Frames at or below this size are copied into libzmq's own buffer; larger ones are sent without copying.
let zeroCopyThreshold = 1024

extension Frame {
    /// Initialises `message` with this frame's bytes for sending.
    func initialise(_ message: UnsafeMutablePointer<zmq_msg_t>) throws(ZMQError) {
        switch storage {
        case .heap(let buffer) where buffer.count > zeroCopyThreshold:
            let hint = Unmanaged.passRetained(buffer).toOpaque()
            let result = zmq_msg_init_data(message, buffer.pointer, buffer.count, { _, hint in
                if let hint { Unmanaged<HeapBuffer>.fromOpaque(hint).release() }
            }, hint)
            if result != 0 {
                Unmanaged<HeapBuffer>.fromOpaque(hint).release()
                throw ZMQError("zmq_msg_init_data")
            }
        default:
            let size = count
            guard zmq_msg_init_size(message, size) == 0 else { throw ZMQError("zmq_msg_init_size") }
            withUnsafeBytes { source in
                if let base = source.baseAddress, size > 0 {
                    zmq_msg_data(message).copyMemory(from: base, byteCount: size)
                }
            }
        }
    }
}
