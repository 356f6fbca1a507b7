/// Polls `condition` every few milliseconds until it holds. `seconds` only guards against a hang (a test waits on
/// events and link time, never on a wall-clock window): reaching it returns false, which the caller reports as a
/// failure saying what it waited for.
public func eventually(_ seconds: Double = 600, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return try await condition()
}
