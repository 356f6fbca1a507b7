import Correlation

/// Turns cumulative counters sampled over time (tags received per node, coincidences, heralds) into rates
/// over a rolling window, with Poisson standard errors.
///
/// Feed each sample with ``record(_:atPs:)``; samples older than the window (keeping one at or before its
/// start) are dropped, so memory stays bounded. A counter that goes backwards (a restart) restarts its
/// window.
public struct CumulativeRates: Sendable {
    /// Length of the window, in picoseconds.
    public let windowPs: Int64
    private var samples: [String: [(timePs: Int64, count: Int64)]] = [:]

    /// Rates over the last `windowPs`.
    public init(windowPs: Int64) {
        self.windowPs = max(1, windowPs)
    }

    /// Records the cumulative `count` of `key` at `timePs`. Samples out of time order are ignored.
    public mutating func record(_ key: String, _ count: Int64, atPs timePs: Int64) {
        var list = samples[key] ?? []
        if let last = list.last {
            guard timePs > last.timePs else { return }
            if count < last.count { list.removeAll() }
        }
        list.append((timePs, count))
        // Keep the newest sample at or before the window start, and everything after it.
        let start = timePs - windowPs
        if let firstInside = list.firstIndex(where: { $0.timePs > start }), firstInside > 1 {
            list.removeFirst(firstInside - 1)
        }
        samples[key] = list
    }

    /// Records every counter of `counts` at `timePs`.
    public mutating func record(_ counts: [String: Int64], atPs timePs: Int64) {
        for (key, count) in counts { record(key, count, atPs: timePs) }
    }

    /// The rate of `key` over the window (or over the span seen so far, when shorter), in Hz with its Poisson
    /// standard error; nil until two samples span some time.
    public func rateHz(_ key: String) -> Estimate? {
        guard let list = samples[key], let last = list.last, let first = list.first, last.timePs > first.timePs else { return nil }
        let events = Double(last.count - first.count)
        let seconds = Double(last.timePs - first.timePs) / picosecondsPerSecond
        return Estimate(events / seconds, standardError: max(events, 1).squareRoot() / seconds)
    }

    /// The counters seen so far.
    public var keys: [String] { samples.keys.sorted() }
}
