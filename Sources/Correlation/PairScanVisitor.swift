import TimeTags

/// The pairs' coincidences (main and side windows) and histograms, counted together: each visited pair of events
/// is routed to its channel pair once, checked against all of that pair's windows without branches, and binned
/// (by a multiplication instead of a division when the histogram spans less than 2³² ps).
///
/// Fed by ``CrossLabScan`` (two labs: ``countCrossLab(_:_:candidatesA:candidatesB:spanPs:)``) or by a
/// ``NeighborStream`` (one stream holding both labs: ``visit(earlierChannel:laterChannel:earlierTimePs:lagPs:)``).
struct PairScanVisitor: NeighborVisitor, Sendable {
    let routes: PairRoutes
    /// Per window (pair after pair, `windowsPerPair` each): its lower edge and its width (upper − lower).
    private let windowLowerPs: [Int64]
    private let windowSpanPs: [UInt64]
    let windowsPerPair: Int
    /// The empty histograms (pair, range, bins), whose counts live in `bins`.
    private let shapes: [CorrelationHistogram]
    private let binners: [Binner]
    /// One count per window.
    private(set) var counts: [Int64]
    /// Every histogram's bins, pair after pair (`binners[p].offset` on).
    private var bins: [Int64]

    /// An empty visitor; stands in while a scan holds the real one.
    static let placeholder = PairScanVisitor(pairs: [], specs: [], histograms: [])

    init(pairs: [ChannelPair], specs: [CoincidenceSpec], histograms: [CorrelationHistogram]) {
        routes = PairRoutes(pairs: pairs)
        windowLowerPs = specs.map(\.window.lowerPs)
        windowSpanPs = specs.map { UInt64(bitPattern: $0.window.upperPs &- $0.window.lowerPs) }
        windowsPerPair = pairs.isEmpty ? 0 : specs.count / pairs.count
        counts = [Int64](repeating: 0, count: specs.count)
        var binners: [Binner] = []
        var offset = 0
        for histogram in histograms {
            binners.append(Binner(histogram, offset: offset))
            offset += histogram.binCount
        }
        self.binners = binners
        shapes = histograms
        bins = [Int64](repeating: 0, count: offset)
    }

    /// The pairs' histograms.
    var histograms: [CorrelationHistogram] {
        zip(shapes, binners).map { shape, binner in
            var histogram = shape
            histogram.counts = Array(bins[binner.offset..<(binner.offset + shape.binCount)])
            return histogram
        }
    }

    func emptyCopy() -> PairScanVisitor {
        var copy = self
        copy.counts = [Int64](repeating: 0, count: counts.count)
        copy.bins = [Int64](repeating: 0, count: bins.count)
        return copy
    }

    mutating func merge(_ other: PairScanVisitor) {
        for index in counts.indices { counts[index] &+= other.counts[index] }
        for index in bins.indices { bins[index] &+= other.bins[index] }
    }

    mutating func visit(earlierChannel: TagChannel, laterChannel: TagChannel, earlierTimePs: Int64, lagPs: Int64) {
        let e = routes.table.slot(earlierChannel)
        let l = routes.table.slot(laterChannel)
        guard e >= 0, l >= 0 else { return }
        let routes = self.routes
        withTally { tally in
            for position in routes.specs(first: e, second: l) { tally.add(pair: routes.spec(at: position), lagPs: lagPs) }
            for position in routes.specs(first: l, second: e) { tally.add(pair: routes.spec(at: position), lagPs: -lagPs) }
        }
    }

    /// Counts, for each candidate `k`, the pairs of lab A's event `candidatesA[k]` with lab B's events from
    /// `candidatesB[k]` on while they lie within `spanPs` after it (the first lies within `±spanPs`).
    ///
    /// Unchecked reads; invariants (``CrossLabScan`` establishes them): each `candidatesA[k]` indexes `a`, each
    /// `candidatesB[k]` is at most `b`'s count, and `b` is sorted (the inner loop stops at its end regardless).
    mutating func countCrossLab(_ a: LabEvents, _ b: LabEvents, candidatesA: UnsafeBufferPointer<Int>,
                                candidatesB: UnsafeBufferPointer<Int>, spanPs: Int64) {
        guard !candidatesA.isEmpty, let tb = b.times.baseAddress, let cb = b.channels.baseAddress else { return }
        let nb = min(b.times.count, b.channels.count)
        let routes = self.routes
        withTally { tally in
            for k in 0..<min(candidatesA.count, candidatesB.count) {
                let i = candidatesA[k]
                let e = routes.table.slot(a.channels[i])
                guard e >= 0 else { continue }
                let t = a.times[i]
                var j = candidatesB[k]
                while j < nb, tb[j] &- t <= spanPs {
                    let l = routes.table.slot(cb[j])
                    if l >= 0 {
                        for position in routes.specs(first: e, second: l) { tally.add(pair: routes.spec(at: position), lagPs: tb[j] &- t) }
                    }
                    j &+= 1
                }
            }
        }
    }

    /// Runs `body` with pointers to the counts and bins (one uniqueness check per call, not per pair).
    private mutating func withTally(_ body: (Tally) -> Void) {
        let (lower, span, binners, perPair) = (windowLowerPs, windowSpanPs, self.binners, windowsPerPair)
        counts.withUnsafeMutableBufferPointer { counts in
            bins.withUnsafeMutableBufferPointer { bins in
                lower.withUnsafeBufferPointer { lower in
                    span.withUnsafeBufferPointer { span in
                        binners.withUnsafeBufferPointer { binners in
                            guard let c = counts.baseAddress, let lo = lower.baseAddress, let sp = span.baseAddress else { return }
                            // Without histograms (a visitor of coincidences only) nothing is binned.
                            let bn = binners.isEmpty ? nil : binners.baseAddress
                            body(Tally(counts: c, bins: bn == nil ? nil : bins.baseAddress, lowerPs: lo, spanPs: sp, binners: bn,
                                       windowsPerPair: perPair))
                        }
                    }
                }
            }
        }
    }
}

/// Where a lag falls in one histogram: `bin = (lag − startPs) / widthPs` for `startPs ≤ lag < endPs`.
struct Binner: Sendable {
    let startPs: Int64
    let endPs: Int64
    let widthPs: Int64
    /// ⌈2⁶⁴ / width⌉: for offsets below 2³² the quotient is the high word of offset × magic (Lemire, Kaser and
    /// Kurz 2019); 0 when the histogram spans 2³² ps or more, or the width is 1 (then the division is used).
    let magic: UInt64
    /// First bin in the flat bin storage.
    let offset: Int

    init(_ histogram: CorrelationHistogram, offset: Int) {
        startPs = histogram.startPs
        endPs = histogram.endPs
        widthPs = histogram.binWidthPs
        let spanPs = UInt64(bitPattern: histogram.endPs &- histogram.startPs)
        magic = widthPs > 1 && spanPs <= UInt64(UInt32.max) ? UInt64.max / UInt64(widthPs) &+ 1 : 0
        self.offset = offset
    }

    /// The bin (in the flat storage) of `lagPs`, or nil outside the range.
    @inline(__always) func bin(of lagPs: Int64) -> Int? {
        guard lagPs >= startPs, lagPs < endPs else { return nil }
        let x = UInt64(bitPattern: lagPs &- startPs)
        let quotient = magic != 0 ? magic.multipliedFullWidth(by: x).high : x / UInt64(widthPs)
        return offset &+ Int(truncatingIfNeeded: quotient)
    }
}

/// Pointers to a ``PairScanVisitor``'s counts while it counts (valid inside `withTally` only).
private struct Tally {
    let counts: UnsafeMutablePointer<Int64>
    let bins: UnsafeMutablePointer<Int64>?
    let lowerPs: UnsafePointer<Int64>
    let spanPs: UnsafePointer<UInt64>
    /// One per pair, or nil (with `bins`) when nothing is binned.
    let binners: UnsafePointer<Binner>?
    let windowsPerPair: Int

    /// One pair of events of channel pair `pair` at `lagPs` (second − first).
    @inline(__always) func add(pair: Int, lagPs: Int64) {
        let base = pair &* windowsPerPair
        for index in base..<(base &+ windowsPerPair) {
            counts[index] &+= UInt64(bitPattern: lagPs &- lowerPs[index]) <= spanPs[index] ? 1 : 0
        }
        if let bins, let binners, let bin = binners[pair].bin(of: lagPs) { bins[bin] &+= 1 }
    }
}
