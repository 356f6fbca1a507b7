import CZeroMQ

/// A ZeroMQ socket with a single owner.
///
/// libzmq sockets are not thread-safe, so `Socket` is deliberately not `Sendable`: the compiler
/// keeps it inside the thread or isolation domain that created it (move it with `sending`). Blocking
/// calls must not run on Swift's cooperative pool; run socket loops on a ``SocketThread``.
///
/// The socket closes when ``close()`` is called or when it is deinitialised.
public final class Socket {
    /// The socket pattern.
    public let type: SocketType
    private var handle: UnsafeMutableRawPointer?
    /// Keeps the context alive for as long as the socket is open.
    private let context: ZMQContext

    /// Creates a socket of `type` in `context`, with `linger` (ms) as the default.
    public init(_ type: SocketType, context: ZMQContext = .shared, lingerMs: Int32 = 500) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.rawValue) else {
            throw ZMQError("zmq_socket", subject: type.description)
        }
        self.type = type
        self.handle = handle
        self.context = context
        try set(.linger(milliseconds: lingerMs))
    }

    /// Whether a ``SocketMonitor`` is attached; it is stopped before the socket closes.
    var isMonitored = false

    deinit {
        close()
    }

    /// Closes the socket. Pending outgoing messages are kept for the linger period. Closing twice is harmless.
    public func close() {
        guard let handle else { return }
        stopMonitoring()
        zmq_close(handle)
        self.handle = nil
    }

    /// Detaches the monitor, if any, so libzmq emits no further events.
    ///
    /// libzmq delivers monitor events with a blocking send from its I/O thread: events emitted after the
    /// monitor's reader is gone would stall every socket of the context. So monitoring always stops
    /// before either side closes.
    func stopMonitoring() {
        guard isMonitored, let handle else { return }
        zmq_socket_monitor(handle, nil, 0)
        isMonitored = false
    }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool { handle == nil }

    func open(_ operation: String) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError(operation, subject: "closed \(type) socket", code: ENOTSOCK) }
        return handle
    }

    /// Binds to `endpoint` (`tcp://127.0.0.1:0` or `tcp://127.0.0.1:*` picks a free port).
    /// - Returns: the endpoint actually bound, with the real port.
    @discardableResult
    public func bind(_ endpoint: String) throws(ZMQError) -> String {
        let handle = try open("zmq_bind")
        let requested = endpoint.hasSuffix(":0") ? String(endpoint.dropLast()) + "*" : endpoint
        // A failed zmq_bind is never "try again later". With a monitor attached, libzmq 4.3.4 sends the failure's
        // events (closed, bind failed) from this thread and may leave errno at EAGAIN from polling its command
        // mailbox (more likely when the thread is descheduled between the two events, on a loaded machine),
        // hiding EADDRINUSE: taken as success, the socket would report an empty endpoint and listen nowhere.
        // Nothing is bound after a failure, so the bind is tried again until errno names the reason.
        for _ in 0..<Self.bindAttemptsForAReason {
            if zmq_bind(handle, requested) == 0 { return try lastEndpoint() }
            let code = qlink_errno()
            if code != EAGAIN && code != EINTR { throw ZMQError("zmq_bind", subject: endpoint, code: code) }
        }
        throw ZMQError("zmq_bind", subject: "\(endpoint) (libzmq failed \(Self.bindAttemptsForAReason) times without a reason)", code: EAGAIN)
    }

    /// Failed binds tried before giving up on libzmq naming the reason (``bind(_:)``).
    static let bindAttemptsForAReason = 100

    /// Connects to `endpoint`. Connecting is asynchronous: it succeeds before the peer exists.
    public func connect(_ endpoint: String) throws(ZMQError) {
        let handle = try open("zmq_connect")
        try retryingInterrupts("zmq_connect", subject: endpoint) { zmq_connect(handle, endpoint) }
    }

    /// Disconnects from an endpoint given to ``connect(_:)``.
    public func disconnect(_ endpoint: String) throws(ZMQError) {
        let handle = try open("zmq_disconnect")
        try retryingInterrupts("zmq_disconnect", subject: endpoint) { zmq_disconnect(handle, endpoint) }
    }

    /// Stops listening on an endpoint returned by ``bind(_:)``.
    public func unbind(_ endpoint: String) throws(ZMQError) {
        let handle = try open("zmq_unbind")
        try retryingInterrupts("zmq_unbind", subject: endpoint) { zmq_unbind(handle, endpoint) }
    }

    /// The endpoint most recently bound or connected.
    public func lastEndpoint() throws(ZMQError) -> String {
        try string(ZMQ_LAST_ENDPOINT, name: "ZMQ_LAST_ENDPOINT")
    }
}

/// Flags for sending.
public struct SendOptions: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// Return at once instead of blocking when the message cannot be queued.
    public static let dontWait = SendOptions(rawValue: ZMQ_DONTWAIT)
}

/// Flags for receiving.
public struct ReceiveOptions: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// Return at once instead of blocking when no message is waiting.
    public static let dontWait = ReceiveOptions(rawValue: ZMQ_DONTWAIT)
}

extension Socket {
    /// Sends all frames of `message` atomically.
    /// - Returns: `false` if the message could not be queued in time (send timeout, high-water mark
    ///   with ``SendOptions/dontWait``); nothing was sent then.
    public func send(_ message: Message, options: SendOptions = []) throws(ZMQError) -> Bool {
        let handle = try open("zmq_msg_send")
        guard !message.frames.isEmpty else {
            throw ZMQError("zmq_msg_send", subject: "an empty message (no frames)", code: EINVAL)
        }
        let last = message.frames.count - 1
        for (index, frame) in message.frames.enumerated() {
            let flags = options.rawValue | (index < last ? ZMQ_SNDMORE : 0)
            let msg = qlink_zmq_msg_alloc()!
            defer { qlink_zmq_msg_free(msg) }
            try frame.initialise(msg)
            // libzmq takes ownership of a message only when send succeeds; close it otherwise.
            let sent: Int32?
            do {
                sent = try retryingInterrupts("zmq_msg_send", subject: "\(type) socket") { zmq_msg_send(msg, handle, flags) }
            } catch {
                zmq_msg_close(msg)
                throw error
            }
            if sent == nil {
                zmq_msg_close(msg)
                // Later frames of a multipart message never block once the first is queued.
                return false
            }
        }
        return true
    }

    /// Sends one frame made of `strings` as a multipart message (convenience for control messages).
    public func send(strings: String..., options: SendOptions = []) throws(ZMQError) -> Bool {
        try send(Message(strings.map(Frame.init)), options: options)
    }

    /// Receives a whole multipart message.
    /// - Returns: `nil` when nothing arrived before the receive timeout, or at once with ``ReceiveOptions/dontWait``.
    public func receive(options: ReceiveOptions = []) throws(ZMQError) -> Message? {
        let handle = try open("zmq_msg_recv")
        var frames: [Frame] = []
        while true {
            let msg = qlink_zmq_msg_alloc()!
            zmq_msg_init(msg)
            let owner = ReceivedMessage(taking: msg)
            // After the first frame the rest of a multipart message is already here: never wait.
            let flags = frames.isEmpty ? options.rawValue : 0
            guard try retryingInterrupts("zmq_msg_recv", subject: "\(type) socket", { zmq_msg_recv(msg, handle, flags) }) != nil else {
                return nil
            }
            let more = zmq_msg_more(msg) != 0
            frames.append(Frame(received: owner))
            if !more { return Message(frames) }
        }
    }

    /// Whether a message can be received without blocking now.
    public var isReadable: Bool {
        ((try? int32(ZMQ_EVENTS, name: "ZMQ_EVENTS")) ?? 0) & Int32(ZMQ_POLLIN) != 0
    }
}
