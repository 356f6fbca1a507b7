import TimeTags

/// A cross-correlation histogram of lags `t(second) − t(first)` for one channel pair.
///
/// Bin `k` holds lags in `startPs + k·binWidthPs ..< startPs + (k+1)·binWidthPs`.
public struct CorrelationHistogram: Sendable, Equatable, Codable {
    /// The channel pair.
    public var pair: ChannelPair
    /// Lower edge of the first bin, in picoseconds.
    public var startPs: Int64
    /// Width of each bin, in picoseconds.
    public var binWidthPs: Int64
    /// Counts per bin.
    public var counts: [Int64]

    /// An empty histogram. Throws when the bin width is not positive or there are no bins.
    public init(pair: ChannelPair, startPs: Int64, binWidthPs: Int64, binCount: Int) throws(CorrelationError) {
        guard binWidthPs > 0, binCount > 0, binCount <= 1 << 26 else {
            throw CorrelationError(.invalidParameter, "histogram needs a positive bin width and 1...2^26 bins",
                                   context: "binWidthPs \(binWidthPs), binCount \(binCount)")
        }
        let reach = Int64(binCount).multipliedReportingOverflow(by: binWidthPs)
        guard !reach.overflow, !startPs.addingReportingOverflow(reach.partialValue).overflow else {
            throw CorrelationError(.invalidParameter, "histogram range overflows", context: "startPs \(startPs)")
        }
        self.pair = pair
        self.startPs = startPs
        self.binWidthPs = binWidthPs
        self.counts = [Int64](repeating: 0, count: binCount)
    }

    /// A histogram covering `-rangePs ..< rangePs` in bins of `binWidthPs` (range rounded up to whole bins).
    public init(pair: ChannelPair, rangePs: Int64, binWidthPs: Int64) throws(CorrelationError) {
        guard binWidthPs > 0, rangePs > 0 else {
            throw CorrelationError(.invalidParameter, "histogram needs a positive range and bin width",
                                   context: "rangePs \(rangePs), binWidthPs \(binWidthPs)")
        }
        let half = (rangePs + binWidthPs - 1) / binWidthPs
        try self.init(pair: pair, startPs: -half * binWidthPs, binWidthPs: binWidthPs, binCount: Int(2 * half))
    }

    /// Number of bins.
    public var binCount: Int { counts.count }
    /// Upper edge of the last bin (exclusive), in picoseconds.
    public var endPs: Int64 { startPs + Int64(counts.count) * binWidthPs }
    /// Centre of bin `index`, in picoseconds.
    public func binCenterPs(_ index: Int) -> Double {
        Double(startPs) + (Double(index) + 0.5) * Double(binWidthPs)
    }
    /// Sum of all bins.
    public var total: Int64 { counts.reduce(0, +) }

    /// The bin holding `lagPs`, or nil when it is outside the range.
    @inline(__always) public func bin(of lagPs: Int64) -> Int? {
        guard lagPs >= startPs, lagPs < endPs else { return nil }
        return Int((lagPs - startPs) / binWidthPs)
    }
}

/// Builds cross-correlation histograms for many channel pairs in one pass over a chunked stream.
///
/// Every ordered event pair `(a, b)` (`a` on the first channel, `b` on the second, `a ≠ b`) whose lag falls in
/// a histogram's range adds one to its bin: the result equals a brute-force all-pairs histogram.
public struct HistogramBuilder: Sendable {
    private var stream: NeighborStream<HistogramVisitor>

    /// A builder for the given empty histograms (their ranges and bin widths are kept).
    public init(histograms: [CorrelationHistogram]) throws(CorrelationError) {
        guard !histograms.isEmpty else {
            throw CorrelationError(.invalidParameter, "no histograms to build", context: "HistogramBuilder")
        }
        let span = histograms.map { max(abs($0.startPs), abs($0.endPs - 1)) }.max() ?? 0
        stream = NeighborStream(spanPs: span, visitor: HistogramVisitor(histograms: histograms))
    }

    /// Number of threads used on large chunks (1 = single-threaded). Defaults to 2.
    public var threads: Int {
        get { stream.threads }
        set { stream.threads = max(1, newValue) }
    }

    /// Events per thread below which a chunk is not split across threads (default 2^20).
    public var minimumEventsPerThread: Int {
        get { stream.parallelThreshold }
        set { stream.parallelThreshold = max(1, newValue) }
    }

    /// Adds one chunk (sorted, starting no earlier than the previous chunk's last event).
    public mutating func process(_ batch: TagBatch) throws(CorrelationError) {
        try stream.process(times: batch.timesPs, channels: batch.channels)
    }

    /// Ends the stream. Call once after the last chunk.
    public mutating func finish() { stream.finish() }

    /// The histograms (complete after ``finish()``).
    public var histograms: [CorrelationHistogram] { stream.visitor.histograms }

    /// Builds histograms on one complete batch.
    public static func build(_ batch: TagBatch, histograms: [CorrelationHistogram],
                             threads: Int = 2) throws(CorrelationError) -> [CorrelationHistogram] {
        var builder = try HistogramBuilder(histograms: histograms)
        builder.threads = threads
        try builder.process(batch)
        builder.finish()
        return builder.histograms
    }
}

struct HistogramVisitor: NeighborVisitor, Sendable {
    let routes: PairRoutes
    var histograms: [CorrelationHistogram]

    init(histograms: [CorrelationHistogram]) {
        routes = PairRoutes(pairs: histograms.map(\.pair))
        self.histograms = histograms
    }

    func emptyCopy() -> HistogramVisitor {
        var copy = self
        for index in copy.histograms.indices {
            copy.histograms[index].counts = [Int64](repeating: 0, count: histograms[index].counts.count)
        }
        return copy
    }

    mutating func merge(_ other: HistogramVisitor) {
        for index in histograms.indices {
            for bin in histograms[index].counts.indices { histograms[index].counts[bin] += other.histograms[index].counts[bin] }
        }
    }

    @inline(__always)
    mutating func visit(earlierChannel: TagChannel, laterChannel: TagChannel, earlierTimePs: Int64, lagPs: Int64) {
        let e = routes.table.slot(earlierChannel)
        let l = routes.table.slot(laterChannel)
        guard e >= 0, l >= 0 else { return }
        for position in routes.specs(first: e, second: l) {
            let spec = routes.spec(at: position)
            if let bin = histograms[spec].bin(of: lagPs) { histograms[spec].counts[bin] &+= 1 }
        }
        for position in routes.specs(first: l, second: e) {
            let spec = routes.spec(at: position)
            if let bin = histograms[spec].bin(of: -lagPs) { histograms[spec].counts[bin] &+= 1 }
        }
    }
}
