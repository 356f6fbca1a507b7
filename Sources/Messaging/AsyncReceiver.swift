/// Bridges a socket owned by a dedicated thread into Swift concurrency.
///
/// The socket is created by `makeSocket` on the dedicated thread and never leaves it; received
/// messages are delivered through an `AsyncThrowingStream`. Ending iteration (or cancelling the
/// consuming task) stops the thread and closes the socket.
public enum AsyncReceiver {
    /// Starts a thread that receives from the socket `makeSocket` creates.
    /// - Parameters:
    ///   - name: the thread's name (shows in debuggers and crash logs).
    ///   - pollIntervalMs: how often the thread checks for a stop request while idle.
    ///   - makeSocket: creates, configures and binds or connects the socket.
    /// - Returns: the stream of messages and the thread (call ``SocketThread/finish()`` to stop it).
    public static func start(
        name: String,
        pollIntervalMs: Int = 50,
        makeSocket: @escaping @Sendable () throws -> Socket
    ) -> (messages: AsyncThrowingStream<Message, any Error>, thread: SocketThread) {
        let (stream, continuation) = AsyncThrowingStream<Message, any Error>.makeStream(bufferingPolicy: .unbounded)
        let thread = SocketThread(name: name) { thread in
            do {
                let socket = try makeSocket()
                defer { socket.close() }
                while !thread.isStopRequested {
                    let ready = try Poller.poll([(socket, .readable)], timeoutMs: pollIntervalMs)
                    guard ready[0].contains(.readable) else { continue }
                    while let message = try socket.receive(options: .dontWait) {
                        continuation.yield(message)
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in thread.stop() }
        return (stream, thread)
    }
}
