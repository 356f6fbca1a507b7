import TimeTags

/// Singles counts per channel in consecutive time bins (count rates over time).
public struct SinglesTimeline: Sendable, Codable, Equatable {
    /// Width of each bin, in picoseconds.
    public let binWidthPs: Int64
    /// Start of bin 0, in picoseconds.
    public let originPs: Int64
    /// Counts per channel per bin.
    public private(set) var counts: [TagChannel: [Int64]] = [:]

    public init(binWidthPs: Int64, originPs: Int64 = 0) throws(CorrelationError) {
        guard binWidthPs > 0 else {
            throw CorrelationError(.invalidParameter, "bin width must be positive", context: "SinglesTimeline")
        }
        self.binWidthPs = binWidthPs
        self.originPs = originPs
    }

    /// Adds the events of a batch (events before the origin are ignored).
    public mutating func add(_ batch: TagBatch) {
        for (t, c) in zip(batch.timesPs, batch.channels) where t >= originPs {
            let bin = Int((t - originPs) / binWidthPs)
            var row = counts[c] ?? []
            if row.count <= bin { row.append(contentsOf: repeatElement(0, count: bin - row.count + 1)) }
            row[bin] += 1
            counts[c] = row
        }
    }

    /// Count rate of `channel` in each bin, in Hz.
    public func ratesHz(_ channel: TagChannel) -> [Double] {
        (counts[channel] ?? []).map { Double($0) / (Double(binWidthPs) * 1e-12) }
    }
}

/// Counts over the most recent stretch of time (for example the last 10 s), for live monitoring.
///
/// Time is divided into bins of `binWidthPs`; only the bins in the last `windowPs` are kept, so memory is
/// fixed. Counts are keyed by name (a channel's singles, a pair's coincidences).
public struct RollingCounter: Sendable {
    public let binWidthPs: Int64
    public let binCount: Int
    private var bins: [String: [Int64]] = [:]
    private var newestBin: Int64 = .min

    /// A counter over the last `windowPs`, in `binCount` bins.
    public init(windowPs: Int64, binCount: Int = 100) throws(CorrelationError) {
        guard windowPs > 0, binCount > 0, windowPs / Int64(binCount) > 0 else {
            throw CorrelationError(.invalidParameter, "rolling window needs a positive span and bin count",
                                   context: "windowPs \(windowPs), binCount \(binCount)")
        }
        binWidthPs = windowPs / Int64(binCount)
        self.binCount = binCount
    }

    /// Records `count` events of `key` at `timePs`. Events older than the window are ignored.
    public mutating func record(_ key: String, count: Int64 = 1, atPs timePs: Int64) {
        let bin = timePs >= 0 ? timePs / binWidthPs : (timePs - binWidthPs + 1) / binWidthPs
        advance(to: bin)
        guard bin > newestBin - Int64(binCount) else { return }
        var row = bins[key] ?? [Int64](repeating: 0, count: binCount)
        row[Int(bin.remainderReportingOverflow(dividingBy: Int64(binCount)).partialValue + Int64(binCount)) % binCount] += count
        bins[key] = row
    }

    /// Records the singles of every channel in a batch.
    public mutating func recordSingles(_ batch: TagBatch) {
        for (t, c) in zip(batch.timesPs, batch.channels) { record("ch\(c)", atPs: t) }
    }

    /// Moves the window so that it ends at `timePs` (clearing bins that fall out of it).
    public mutating func advance(toPs timePs: Int64) {
        advance(to: timePs >= 0 ? timePs / binWidthPs : (timePs - binWidthPs + 1) / binWidthPs)
    }

    private mutating func advance(to bin: Int64) {
        guard bin > newestBin else { return }
        let cleared = newestBin == .min ? Int64(binCount) : min(Int64(binCount), bin - newestBin)
        for key in bins.keys {
            for step in 0..<cleared {
                let slot = Int(((bin - step) % Int64(binCount) + Int64(binCount)) % Int64(binCount))
                bins[key]?[slot] = 0
            }
        }
        newestBin = bin
    }

    /// Total of `key` in the window.
    public func total(_ key: String) -> Int64 { bins[key]?.reduce(0, +) ?? 0 }

    /// Mean rate of `key` over the window, in Hz.
    public func rateHz(_ key: String) -> Double {
        Double(total(key)) / (Double(binWidthPs) * Double(binCount) * 1e-12)
    }
}
