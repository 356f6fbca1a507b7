import Foundation
import Synchronization

/// A dedicated OS thread for blocking socket work, so libzmq calls never occupy Swift's small
/// cooperative thread pool.
///
/// The body creates and owns its sockets; it should poll with a timeout and return when
/// ``isStopRequested`` becomes true. ``stop()`` requests that and ``join()`` waits for the body to return.
public final class SocketThread: Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private let finished = Mutex<Bool>(false)
    private let condition = NSCondition()

    /// Starts `body` on a new thread named `name`.
    public init(name: String, body: @escaping @Sendable (SocketThread) -> Void) {
        let thread = Thread { [self] in
            body(self)
            condition.lock()
            finished.withLock { $0 = true }
            condition.broadcast()
            condition.unlock()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Whether ``stop()`` has been called.
    public var isStopRequested: Bool { stopFlag.load(ordering: .acquiring) }

    /// Asks the body to finish.
    public func stop() { stopFlag.store(true, ordering: .releasing) }

    /// Blocks the calling thread until the body has returned.
    public func join() {
        condition.lock()
        while !finished.withLock({ $0 }) { condition.wait() }
        condition.unlock()
    }

    /// Waits without blocking a cooperative thread until the body has returned.
    public func finish() async {
        stop()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread { [self] in
                join()
                continuation.resume()
            }
        }
    }
}
