import CZeroMQ

/// A libzmq call that failed: which operation, on what, and libzmq's own explanation.
///
/// `code` is the `errno` value libzmq reported; the description includes `zmq_strerror` text.
/// Timeouts and would-block conditions are not errors: ``Socket/send(_:options:)`` returns `false`
/// and ``Socket/receive(options:)`` returns `nil` for them.
public struct ZMQError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The libzmq operation that failed, e.g. `zmq_bind`.
    public var operation: String
    /// What it was applied to (an endpoint, an option name), if anything.
    public var subject: String?
    /// The `errno` value.
    public var code: Int32
    /// libzmq's message for `code`.
    public var message: String

    /// Builds an error from the current `errno`.
    init(_ operation: String, subject: String? = nil, code: Int32 = qlink_errno()) {
        self.operation = operation
        self.subject = subject
        self.code = code
        self.message = String(cString: zmq_strerror(code))
    }

    /// The context was terminated; the socket must be closed.
    public var isContextTerminated: Bool { code == ETERM }
    /// The endpoint is malformed or its transport unknown.
    public var isInvalidEndpoint: Bool { code == EINVAL || code == EPROTONOSUPPORT || code == ENODEV }
    /// The address is already in use.
    public var isAddressInUse: Bool { code == EADDRINUSE }
    /// A ROUTER with `routerMandatory` could not route to the given peer.
    public var isHostUnreachable: Bool { code == EHOSTUNREACH }

    public var description: String {
        let on = subject.map { " on \($0)" } ?? ""
        return "\(operation)\(on) failed: \(message) (errno \(code))"
    }
}

/// Runs a libzmq call that returns -1 on failure, retrying on EINTR.
/// - Returns: the call's non-negative result, or `nil` when libzmq reported EAGAIN.
@discardableResult
func retryingInterrupts(_ operation: String, subject: String? = nil, _ call: () -> Int32) throws(ZMQError) -> Int32? {
    while true {
        let result = call()
        if result >= 0 { return result }
        let code = qlink_errno()
        if code == EINTR { continue }
        if code == EAGAIN { return nil }
        throw ZMQError(operation, subject: subject, code: code)
    }
}
