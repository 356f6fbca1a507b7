import Foundation

/// Runs `body` on its own thread and awaits the result, so that long CPU-bound test work (a simulated
/// hour, a family of reconstructions, a browser process) never occupies the cooperative thread pool other
/// suites' async code needs.
///
/// The thread keeps the process's normal priority: no suite has a deadline to protect (they wait on events and
/// link time), and beside CPU-bound processes of normal priority (a loaded machine) a lowered priority starves
/// the work (a nice-19 thread got about 7 % of a core beside two `yes`).
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
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
