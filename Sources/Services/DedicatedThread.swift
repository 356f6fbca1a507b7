import Synchronization
import Messaging
import ServiceLifecycle

/// Runs a blocking loop on a dedicated ``SocketThread`` and awaits it from async code: the loop stops
/// on graceful shutdown (SIGTERM/SIGINT through ServiceGroup) or task cancellation.
enum DedicatedThread {
    static func run(name: String, body: @escaping @Sendable (SocketThread) -> Void) async {
        let box = ThreadBox()
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let thread = SocketThread(name: name) { thread in
                        body(thread)
                        continuation.resume()
                    }
                    box.set(thread)
                }
            } onGracefulShutdown: {
                box.stop()
            }
        } onCancel: {
            box.stop()
        }
    }
}

/// Holds the thread so shutdown handlers can ask it to stop, even if they run before it is stored.
final class ThreadBox: Sendable {
    private let state = Mutex<(thread: SocketThread?, stopRequested: Bool)>((nil, false))

    func set(_ thread: SocketThread) {
        let stop = state.withLock { state -> Bool in
            state.thread = thread
            return state.stopRequested
        }
        if stop { thread.stop() }
    }

    func stop() {
        let thread = state.withLock { state -> SocketThread? in
            state.stopRequested = true
            return state.thread
        }
        thread?.stop()
    }
}
