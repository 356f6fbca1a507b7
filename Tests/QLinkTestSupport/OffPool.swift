import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on its own thread and awaits the result, so that long CPU-bound test work (a simulated
/// hour, a browser process) never occupies the cooperative thread pool other suites' async code needs.
/// The thread runs at the lowest scheduling priority so that time-sensitive suites running beside it
/// (services with handshakes and deadlines) get the CPU first.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            #if canImport(Glibc)
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)   // on Linux: the calling thread only
            #endif
            do {
                continuation.resume(returning: try body())
            } catch {
                continuation.resume(throwing: error)
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
