import CZeroMQ
import Synchronization

/// A connection event reported by libzmq for a monitored socket.
public struct MonitorEvent: Sendable, Equatable, CustomStringConvertible {
    /// What happened.
    public enum Kind: Sendable, Equatable {
        case connected, connectDelayed, connectRetried, listening, bindFailed, accepted, acceptFailed
        case closed, closeFailed, disconnected, monitorStopped
        case handshakeFailedNoDetail, handshakeSucceeded, handshakeFailedProtocol
        /// The server's authentication handler refused the handshake.
        case handshakeFailedAuth
        case other(UInt16)

        init(_ raw: UInt16) {
            switch Int32(raw) {
            case ZMQ_EVENT_CONNECTED: self = .connected
            case ZMQ_EVENT_CONNECT_DELAYED: self = .connectDelayed
            case ZMQ_EVENT_CONNECT_RETRIED: self = .connectRetried
            case ZMQ_EVENT_LISTENING: self = .listening
            case ZMQ_EVENT_BIND_FAILED: self = .bindFailed
            case ZMQ_EVENT_ACCEPTED: self = .accepted
            case ZMQ_EVENT_ACCEPT_FAILED: self = .acceptFailed
            case ZMQ_EVENT_CLOSED: self = .closed
            case ZMQ_EVENT_CLOSE_FAILED: self = .closeFailed
            case ZMQ_EVENT_DISCONNECTED: self = .disconnected
            case ZMQ_EVENT_MONITOR_STOPPED: self = .monitorStopped
            case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: self = .handshakeFailedNoDetail
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: self = .handshakeSucceeded
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: self = .handshakeFailedProtocol
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: self = .handshakeFailedAuth
            default: self = .other(raw)
            }
        }
    }

    /// The event.
    public var kind: Kind
    /// The event's value: a file descriptor, an errno, a retry interval or a ZAP status code, depending on `kind`.
    public var value: UInt32
    /// The endpoint the event concerns.
    public var endpoint: String

    public var description: String { "\(kind) \(endpoint) (\(value))" }
}

/// Receives the connection events of one socket.
///
/// Create it on the thread that owns the socket, right after creating the socket. The monitor's own
/// PAIR socket has the same single-owner rule as any ``Socket``. Read events regularly or call
/// ``stop()`` once they are no longer needed: the queue of unread events grows without bound.
public final class SocketMonitor {
    private let pair: Socket
    private let socket: Socket
    private static let counter = Atomic<UInt64>(0)

    /// Starts monitoring `socket` for all events.
    public init(_ socket: Socket, context: ZMQContext = .shared) throws(ZMQError) {
        let id = Self.counter.wrappingAdd(1, ordering: .relaxed).newValue
        let endpoint = "inproc://qlink-monitor-\(id)"
        let handle = try socket.open("zmq_socket_monitor")
        try retryingInterrupts("zmq_socket_monitor", subject: endpoint) {
            zmq_socket_monitor(handle, endpoint, ZMQ_EVENT_ALL)
        }
        self.socket = socket
        socket.isMonitored = true
        pair = try Socket(.pair, context: context, lingerMs: 0)
        // An unbounded pipe: libzmq's I/O thread must never block on a slow reader of events.
        try pair.set(.receiveHighWaterMark(0))
        try pair.connect(endpoint)
    }

    deinit {
        stop()
        pair.close()
    }

    /// Stops event delivery; events already queued can still be read.
    public func stop() {
        socket.stopMonitoring()
    }

    /// The next event, waiting up to `timeoutMs` (-1: forever, 0: only what is already queued).
    /// - Returns: `nil` on timeout.
    public func next(timeoutMs: Int32) throws(ZMQError) -> MonitorEvent? {
        try pair.set(.receiveTimeout(milliseconds: timeoutMs))
        guard let message = try pair.receive() else { return nil }
        guard let head = message[safe: 0], head.count == 6 else {
            throw ZMQError("zmq_socket_monitor", subject: "a malformed monitor event", code: EPROTO)
        }
        let (raw, value) = head.withUnsafeBytes { bytes in
            (bytes.loadUnaligned(fromByteOffset: 0, as: UInt16.self).littleEndian,
             bytes.loadUnaligned(fromByteOffset: 2, as: UInt32.self).littleEndian)
        }
        let endpoint = message[safe: 1]?.string ?? ""
        return MonitorEvent(kind: .init(raw), value: value, endpoint: endpoint)
    }

    /// Waits up to `timeoutMs` in total for an event matching `predicate`, discarding others.
    public func waitFor(timeoutMs: Int32, _ predicate: (MonitorEvent) -> Bool) throws(ZMQError) -> MonitorEvent? {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMs))
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            let remainingMs = Int32(max(0, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
            guard let event = try next(timeoutMs: remainingMs) else { return nil }
            if predicate(event) { return event }
            if remainingMs == 0 { return nil }
        }
    }
}
