/// Polls `condition` every few milliseconds until it holds. `seconds` only guards against a hang (a test waits on
/// events and link time, never on a wall-clock window): reaching it returns false, which the caller reports as a
/// failure saying what it waited for.
///
/// The guard counts this waiter's own polls (`seconds` of 5 ms polls), not the wall clock: on a starved machine
/// (the cooperative pool held by CPU-bound tests, two CPU hogs beside the run) a wall-clock guard expires while
/// neither the waiter nor the work it waits on could run, and the waiter then fails a condition that was about to
/// hold. Polls only advance while the waiter runs, so the awaited work has the same chances after a stall as before.
public func eventually(_ seconds: Double = 600, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let pollMs = 5
    let polls = max(1, Int(seconds * 1000) / pollMs)
    for _ in 0..<polls {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(pollMs))
    }
    return try await condition()
}
