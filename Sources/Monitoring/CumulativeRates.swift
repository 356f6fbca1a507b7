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
        guard let window = window(key) else { return nil }
        let events = Double(window.events)
        let seconds = Double(window.spanPs) / picosecondsPerSecond
        return Estimate(events / seconds, standardError: max(events, 1).squareRoot() / seconds)
    }

    /// What `key` counted over the window (or over the span seen so far, when shorter); nil until two samples
    /// span some time.
    public func window(_ key: String) -> CountWindow? {
        guard let list = samples[key], let last = list.last, let first = list.first, last.timePs > first.timePs else { return nil }
        return CountWindow(startPs: first.timePs, endPs: last.timePs, events: last.count - first.count)
    }

    /// What `key` counted from its sample at `startPs` to its latest; nil without a sample at exactly `startPs`
    /// (counters recorded together share their sample times).
    public func events(_ key: String, sincePs startPs: Int64) -> Int64? {
        guard let list = samples[key], let last = list.last, let start = list.first(where: { $0.timePs == startPs }) else { return nil }
        return last.count - start.count
    }

    /// The counters seen so far.
    public var keys: [String] { samples.keys.sorted() }
}

/// Events a cumulative counter counted between two of its samples.
public struct CountWindow: Sendable, Equatable {
    /// Times of the two samples, in picoseconds.
    public var startPs: Int64
    public var endPs: Int64
    /// Events counted between them.
    public var events: Int64

    public init(startPs: Int64, endPs: Int64, events: Int64) {
        self.startPs = startPs
        self.endPs = endPs
        self.events = events
    }

    /// `endPs − startPs`.
    public var spanPs: Int64 { endPs - startPs }
}
