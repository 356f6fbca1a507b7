import TimeTags

/// Receives every pair of events `(earlier, later)` that lie within the scan span of each other.
///
/// Each unordered pair of events is visited exactly once, from the event that comes first in the stream.
protocol NeighborVisitor: Sendable {
    /// A visitor with the same configuration and empty results (for parallel partial work).
    func emptyCopy() -> Self
    /// Adds the results of `other` to this visitor.
    mutating func merge(_ other: Self)
    /// One pair of events: `lagPs = laterTime − earlierTime ≥ 0`.
    mutating func visit(earlierChannel: TagChannel, laterChannel: TagChannel, earlierTimePs: Int64, lagPs: Int64)
}

/// The hot loop of the engine: for each anchor in `anchors`, visit the later events within `spanPs`.
///
/// A tight skip loop looks only at the gap to the next event; the (rare) anchors that have a neighbour
/// within the span are handed to ``visitNeighbors``, kept out of line so the skip loop stays in registers.
/// Cost is about one load and compare per event when the window is short against the mean spacing.
@inline(__always)
func scanNeighbors<V: NeighborVisitor>(
    times: UnsafeBufferPointer<Int64>, channels: UnsafeBufferPointer<TagChannel>,
    anchors: Range<Int>, spanPs: Int64, visitor: inout V
) {
    let count = min(times.count, channels.count)
    guard anchors.lowerBound >= 0, anchors.upperBound <= count, let t = times.baseAddress,
          let c = channels.baseAddress else { return }
    // The last event of the buffer has no later neighbour.
    let end = min(anchors.upperBound, count &- 1)
    var i = anchors.lowerBound
    while i < end {
        if t[i &+ 1] &- t[i] > spanPs { i &+= 1; continue }
        visitNeighbors(t, c, count: count, anchor: i, spanPs: spanPs, visitor: &visitor)
        i &+= 1
    }
}

/// Visits the later neighbours of one anchor (the rare path of ``scanNeighbors``).
@inline(never)
func visitNeighbors<V: NeighborVisitor>(
    _ t: UnsafePointer<Int64>, _ c: UnsafePointer<TagChannel>, count: Int, anchor i: Int, spanPs: Int64,
    visitor: inout V
) {
    let ti = t[i]
    let ci = c[i]
    var j = i &+ 1
    while j < count, t[j] &- ti <= spanPs {
        visitor.visit(earlierChannel: ci, laterChannel: c[j], earlierTimePs: ti, lagPs: t[j] &- ti)
        j &+= 1
    }
}

/// Checks that `times` is non-decreasing and starts no earlier than `notBeforePs`.
func firstUnsortedIndex(_ times: UnsafeBufferPointer<Int64>, notBeforePs: Int64) -> Int? {
    guard let t = times.baseAddress, times.count > 0 else { return nil }
    if t[0] < notBeforePs { return 0 }
    // Branch-free reduction first (vectorised: `a < b` is the sign of `a − b` corrected for overflow, in
    // integer operations only); find the position only when something is wrong.
    var flags: Int64 = 0
    var i = 1
    while i < times.count {
        let a = t[i], b = t[i &- 1]
        let d = a &- b
        flags |= d ^ ((a ^ b) & (d ^ a))
        i &+= 1
    }
    guard flags < 0 else { return nil }
    for k in 1..<times.count where t[k] < t[k - 1] { return k }
    return nil
}
