import CZeroMQ

/// A libzmq context: the I/O threads and the registry of `inproc://` endpoints.
///
/// Use one context per process (``shared``). A context is thread-safe; the sockets made from it are not.
/// Deinitialising a context waits until every socket made from it is closed.
public final class ZMQContext: @unchecked Sendable {
    // @unchecked: `zmq_ctx_*` functions are documented thread-safe; the handle is immutable after init.
    let handle: UnsafeMutableRawPointer

    /// The process-wide context. It lives for the whole process.
    public static let shared = ZMQContext()

    /// Creates a context with `ioThreads` I/O threads.
    public init(ioThreads: Int32 = 1) {
        guard let handle = zmq_ctx_new() else {
            fatalError("zmq_ctx_new failed: \(String(cString: zmq_strerror(qlink_errno())))")
        }
        zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads)
        self.handle = handle
    }

    deinit {
        while zmq_ctx_term(handle) != 0 && qlink_errno() == EINTR {}
    }

    /// Stops the context: blocking calls on its sockets return ``ZMQError/isContextTerminated``.
    /// Sockets must still be closed by their owners.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }
}
