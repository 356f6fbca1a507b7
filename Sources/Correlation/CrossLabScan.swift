import TimeTags

/// Visits every pair (lab A event, lab B event) whose times lie within `spanPs` of each other, exactly once,
/// with the two labs fed as separate sorted chunked streams: no merged stream is built.
///
/// Each lab's chunks are held by reference (never copied) until no later chunk of the other lab can reach them.
/// A new chunk is scanned against the other lab's held chunks with a two-pointer window scan, so a pair is
/// visited when the later of its two chunks arrives, whatever the chunk sizes. The visitor is called with lab A's
/// event as `earlierChannel`, lab B's as `laterChannel` and `lagPs = t_B − t_A` of either sign (the pair
/// visitors route both orders of a pair).
///
/// This file and ``scanNeighbors`` are the engine's unsafe-pointer loops; everything else uses checked arrays.
struct CrossLabScan<V: NeighborVisitor>: Sendable {
    let spanPs: Int64
    var visitor: V
    /// Per lab, the chunks a later chunk of the other lab may still reach.
    private var held: [[TagBatch]] = [[], []]
    /// Per lab, the last time seen (later events come at or after it).
    private var lastPs: [Int64] = [.min, .min]
    private var ended = [false, false]

    init(spanPs: Int64, visitor: V) {
        self.spanPs = spanPs
        self.visitor = visitor
    }

    /// Events held for the other lab.
    var heldEvents: Int { held[0].reduce(0) { $0 + $1.count } + held[1].reduce(0) { $0 + $1.count } }

    /// Adds a chunk of lab `lab` (0 = A, 1 = B), sorted and continuing that lab's previous chunks.
    mutating func add(lab: Int, _ batch: TagBatch) {
        guard let last = batch.timesPs.last else { return }
        for chunk in held[1 - lab] {
            if lab == 0 { scan(a: batch, b: chunk) } else { scan(a: chunk, b: batch) }
        }
        lastPs[lab] = last
        if !ended[1 - lab] { held[lab].append(batch) }
        prune()
    }

    /// Lab `lab` has ended: nothing of the other lab needs to wait for it.
    mutating func end(lab: Int) {
        ended[lab] = true
        prune()
    }

    /// Drops the chunks that no later event of the other lab can reach.
    private mutating func prune() {
        for lab in 0..<2 {
            let other = 1 - lab
            let (otherEnded, otherLast, span) = (ended[other], lastPs[other], spanPs)
            held[lab].removeAll { chunk in
                let (reach, overflow) = chunk.timesPs[chunk.count - 1].addingReportingOverflow(span)
                return otherEnded || (!overflow && otherLast > reach)
            }
        }
    }

    /// Visits the pairs between lab A's chunk `a` and lab B's chunk `b` (each sorted).
    private mutating func scan(a: TagBatch, b: TagBatch) {
        guard let firstB = b.timesPs.first, let lastB = b.timesPs.last else { return }
        // Only lab A's events within the span of b's range can pair with it.
        let low = firstIndex(in: a.timesPs, atOrAbove: firstB.subtractingReportingOverflow(spanPs).overflow ? .min : firstB &- spanPs)
        let high = firstIndex(in: a.timesPs, above: lastB.addingReportingOverflow(spanPs).overflow ? .max : lastB &+ spanPs)
        guard low < high else { return }
        let span = spanPs
        a.timesPs.withUnsafeBufferPointer { ta in
            a.channels.withUnsafeBufferPointer { ca in
                b.timesPs.withUnsafeBufferPointer { tb in
                    b.channels.withUnsafeBufferPointer { cb in
                        scanWindows(ta, ca, anchors: low..<high, tb, cb, spanPs: span, visitor: &visitor)
                    }
                }
            }
        }
    }
}

/// For each lab A event in `anchors`, visits the lab B events within ±`spanPs` (both buffers sorted; the anchors'
/// times lie within the span of b's range, so the window bounds do not overflow for realistic times).
@inline(__always)
private func scanWindows<V: NeighborVisitor>(
    _ ta: UnsafeBufferPointer<Int64>, _ ca: UnsafeBufferPointer<TagChannel>, anchors: Range<Int>,
    _ tb: UnsafeBufferPointer<Int64>, _ cb: UnsafeBufferPointer<TagChannel>, spanPs: Int64, visitor: inout V
) {
    guard let pa = ta.baseAddress, let qa = ca.baseAddress, let pb = tb.baseAddress, let qb = cb.baseAddress,
          anchors.lowerBound >= 0, anchors.upperBound <= min(ta.count, ca.count) else { return }
    let nb = min(tb.count, cb.count)
    var start = 0
    var i = anchors.lowerBound
    while i < anchors.upperBound {
        let t = pa[i]
        let from = t &- spanPs
        while start < nb && pb[start] < from { start &+= 1 }
        if start < nb && pb[start] &- t <= spanPs {
            visitWindow(pb, qb, count: nb, from: start, anchorTimePs: t, anchorChannel: qa[i], spanPs: spanPs, visitor: &visitor)
        }
        i &+= 1
    }
}

/// Visits lab B's events from `from` on while they lie within the span of the anchor (the rare path of
/// ``scanWindows``, kept out of line so the scan stays in registers).
@inline(never)
private func visitWindow<V: NeighborVisitor>(
    _ tb: UnsafePointer<Int64>, _ cb: UnsafePointer<TagChannel>, count: Int, from: Int, anchorTimePs t: Int64,
    anchorChannel: TagChannel, spanPs: Int64, visitor: inout V
) {
    var j = from
    while j < count, tb[j] &- t <= spanPs {
        visitor.visit(earlierChannel: anchorChannel, laterChannel: cb[j], earlierTimePs: t, lagPs: tb[j] &- t)
        j &+= 1
    }
}
