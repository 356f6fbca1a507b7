import TimeTags

/// Counts every pair (lab A event, lab B event) whose times lie within `spanPs` of each other, exactly once, with
/// the two labs fed as separate sorted chunked streams: no merged stream is built.
///
/// Each lab's chunks are held by reference (never copied) until no later chunk of the other lab can reach them.
/// A new chunk is scanned against the other lab's held chunks, so a pair is counted when the later of its two
/// chunks arrives, whatever the chunk sizes. The pairs go to ``PairScanVisitor`` with lab A's channel first and
/// `lag = t_B − t_A` of either sign.
///
/// The scan is a merge walk of lab A against lab B shifted by `−spanPs`, without data-dependent branches: each
/// step either takes lab A's next event (and notes it as a candidate when lab B's first event not before its
/// window opens lies within its window) or steps lab B on. Four independent walks over consecutive quarters of
/// the anchors run interleaved in one loop, so the processor overlaps their load-to-compare latencies; the
/// candidates (events with a partner within the span, a few in a hundred at typical rates) are counted after.
///
/// This file and ``scanNeighbors`` are the engine's unsafe-pointer loops; everything else uses checked arrays.
///
/// Invariants of the unchecked walk (``walk(_:anchors:_:spanPs:_:_:)``, ``windowStart(_:count:anchorPs:spanPs:)``
/// and ``PairScanVisitor/countCrossLab(_:_:candidatesA:candidatesB:spanPs:)``): every held chunk is sorted by time,
/// has one channel per time and spans at most 2⁶² ps; a block holds at most ``blockAnchors`` anchors, all within
/// the span of the other chunk's range. With sorted chunks each lane of the walk takes exactly its own anchors and
/// steps lab B only up to the window of its last anchor, which lies inside the chunk, so every read is inside the
/// chunks and every write inside the lane's quarter of the candidate buffers. ``add(lab:_:)`` establishes the
/// invariants for any input: it checks each chunk's order exactly and sorts a chunk out of order (the safe path,
/// the counts stay exact), and throws for a chunk that starts before its lab's previous one ends (the pairs with
/// the other lab's chunks dropped since could no longer be counted) or whose channels do not match its times.
struct CrossLabScan: Sendable {
    let spanPs: Int64
    var visitor: PairScanVisitor
    /// Per lab, the chunks a later chunk of the other lab may still reach.
    private var held: [[TagBatch]] = [[], []]
    /// Per lab, the last time seen (later events come at or after it).
    private var lastPs: [Int64] = [.min, .min]
    private var ended = [false, false]
    /// Candidates of one block (lab A index, lab B index), reused from block to block.
    private var candidatesA = [Int](repeating: 0, count: CrossLabScan.blockAnchors)
    private var candidatesB = [Int](repeating: 0, count: CrossLabScan.blockAnchors)

    /// Anchors (lab A events) walked per block: the candidate buffers' size (two 32 KiB arrays, in L1/L2).
    static let blockAnchors = 4096

    init(spanPs: Int64, visitor: PairScanVisitor) {
        self.spanPs = spanPs
        self.visitor = visitor
    }

    /// Events held for the other lab.
    var heldEvents: Int { held[0].reduce(0) { $0 + $1.count } + held[1].reduce(0) { $0 + $1.count } }

    /// Adds a chunk of lab `lab` (0 = A, 1 = B) continuing that lab's previous chunks: a chunk out of time order
    /// is sorted first. Throws when the chunk starts before the lab's previous chunk ends, when its channels do not
    /// match its times, or when it spans more than 2⁶² ps (53 days; the walk compares time differences).
    mutating func add(lab: Int, _ raw: TagBatch) throws(CorrelationError) {
        guard raw.channels.count == raw.count else {
            throw CorrelationError(.invalidParameter, "\(raw.channels.count) channels for \(raw.count) times", context: "link analysis lab \(lab)",
                                   hint: "give one channel per time tag")
        }
        var batch = raw
        if batch.timesPs.withUnsafeBufferPointer({ firstUnsortedIndex($0, notBeforePs: .min) }) != nil {
            let order = batch.timesPs.indices.sorted { (batch.timesPs[$0], $0) < (batch.timesPs[$1], $1) }
            batch = TagBatch(timesPs: order.map { raw.timesPs[$0] }, channels: order.map { raw.channels[$0] })
        }
        guard let first = batch.timesPs.first, let last = batch.timesPs.last else { return }
        guard first >= lastPs[lab] else {
            throw CorrelationError(.unsortedInput, "lab \(lab == 0 ? "A" : "B") goes back in time from \(lastPs[lab]) ps", context: "link analysis at \(first) ps",
                                   hint: "feed each lab's chunks in time order")
        }
        let (spread, overflow) = last.subtractingReportingOverflow(first)
        guard !overflow, spread <= 1 << 62 else {
            throw CorrelationError(.invalidParameter, "a chunk spans \(first) ps to \(last) ps", context: "link analysis lab \(lab)",
                                   hint: "cut the stream into chunks shorter than 2^62 ps")
        }
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

    /// Counts the pairs between lab A's chunk `a` and lab B's chunk `b` (each sorted, checked by ``add(lab:_:)``).
    private mutating func scan(a: TagBatch, b: TagBatch) {
        guard let firstB = b.timesPs.first, let lastB = b.timesPs.last else { return }
        // Only lab A's events within the span of b's range can pair with it. These bounds also keep the walk's
        // lab B index inside b: lab B steps on only past events before `t_A − span ≤ lastB`.
        let low = firstIndex(in: a.timesPs, atOrAbove: firstB.subtractingReportingOverflow(spanPs).overflow ? .min : firstB &- spanPs)
        let high = firstIndex(in: a.timesPs, above: lastB.addingReportingOverflow(spanPs).overflow ? .max : lastB &+ spanPs)
        guard low < high else { return }
        let span = spanPs
        // The scratch buffers are taken out of `self` while the visitor (also in `self`) counts.
        var ia = candidatesA, jb = candidatesB
        (candidatesA, candidatesB) = ([], [])
        defer { (candidatesA, candidatesB) = (ia, jb) }
        ia.withUnsafeMutableBufferPointer { ia in
            jb.withUnsafeMutableBufferPointer { jb in
                a.timesPs.withUnsafeBufferPointer { ta in
                    a.channels.withUnsafeBufferPointer { ca in
                        b.timesPs.withUnsafeBufferPointer { tb in
                            b.channels.withUnsafeBufferPointer { cb in
                                let labA = LabEvents(ta, ca), labB = LabEvents(tb, cb)
                                var start = low
                                while start < high {
                                    let end = min(high, start + Self.blockAnchors)
                                    let found = walk(ta, anchors: start..<end, tb, spanPs: span, ia, jb)
                                    func count(_ lane: Range<Int>) {
                                        visitor.countCrossLab(labA, labB, candidatesA: UnsafeBufferPointer(rebasing: ia[lane]),
                                                              candidatesB: UnsafeBufferPointer(rebasing: jb[lane]), spanPs: span)
                                    }
                                    count(found.0); count(found.1); count(found.2); count(found.3)
                                    start = end
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One lab's events of a chunk, as pointers (valid for the scan only).
struct LabEvents {
    let times: UnsafeBufferPointer<Int64>
    let channels: UnsafeBufferPointer<TagChannel>
    init(_ times: UnsafeBufferPointer<Int64>, _ channels: UnsafeBufferPointer<TagChannel>) {
        self.times = times
        self.channels = channels
    }
}

/// The walk of one block of anchors (lab A events, at most ``CrossLabScan/blockAnchors``, all within the span of
/// `tb`'s range). Writes, per quarter of the block, the candidates (lab A index into `ia`, the index of the first
/// lab B event not before `t_A − span` into `jb`) from that quarter's offset on; returns per quarter the range of
/// `ia`/`jb` written.
///
/// The walk of a quarter is exact in length: it takes each of its lab A events once and steps lab B from the
/// first event of the first anchor's window to the first of the last anchor's, so the four quarters run
/// interleaved for the shortest one's length and each then finishes alone.
private func walk(_ ta: UnsafeBufferPointer<Int64>, anchors: Range<Int>, _ tb: UnsafeBufferPointer<Int64>, spanPs: Int64,
                  _ ia: UnsafeMutableBufferPointer<Int>, _ jb: UnsafeMutableBufferPointer<Int>)
    -> (Range<Int>, Range<Int>, Range<Int>, Range<Int>) {
    guard let pa = ta.baseAddress, let pb = tb.baseAddress, let ca = ia.baseAddress, let cb = jb.baseAddress,
          anchors.count <= min(ia.count, jb.count) else { return (0..<0, 0..<0, 0..<0, 0..<0) }
    let n = anchors.count
    let quarter = (n + 3) / 4
    let twoSpan = UInt64(bitPattern: spanPs) &* 2
    // Lane k: its anchors, lab B start and steps; its candidates are written from offset k * quarter.
    @inline(__always) func lane(_ k: Int) -> (i: Int, j: Int, steps: Int) {
        let from = anchors.lowerBound + min(n, k * quarter), to = anchors.lowerBound + min(n, (k + 1) * quarter)
        guard from < to else { return (from, 0, 0) }
        let j = windowStart(pb, count: tb.count, anchorPs: pa[from], spanPs: spanPs)
        return (from, j, (to - from) + (windowStart(pb, count: tb.count, anchorPs: pa[to - 1], spanPs: spanPs) - j))
    }
    // One step of a lane: d = t_B − t_A; lab A is taken when t_B ≥ t_A − span (d + span ≥ 0), and is a candidate
    // when also t_B ≤ t_A + span.
    @inline(__always) func step(_ i: inout Int, _ j: inout Int, _ w: inout Int) {
        let ds = (pb[j] &- pa[i]) &+ spanPs
        let take = ds >= 0 ? 1 : 0
        ca[w] = i
        cb[w] = j
        w &+= UInt64(bitPattern: ds) <= twoSpan ? 1 : 0
        i &+= take
        j &+= 1 &- take
    }
    let l0 = lane(0), l1 = lane(1), l2 = lane(2), l3 = lane(3)
    var (i0, i1, i2, i3) = (l0.i, l1.i, l2.i, l3.i)
    var (j0, j1, j2, j3) = (l0.j, l1.j, l2.j, l3.j)
    var (w0, w1, w2, w3) = (0, quarter, 2 * quarter, 3 * quarter)
    let together = min(l0.steps, l1.steps, l2.steps, l3.steps)
    var s = 0
    while s < together {
        step(&i0, &j0, &w0); step(&i1, &j1, &w1); step(&i2, &j2, &w2); step(&i3, &j3, &w3)
        s &+= 1
    }
    for _ in together..<l0.steps { step(&i0, &j0, &w0) }
    for _ in together..<l1.steps { step(&i1, &j1, &w1) }
    for _ in together..<l2.steps { step(&i2, &j2, &w2) }
    for _ in together..<l3.steps { step(&i3, &j3, &w3) }
    return (0..<w0, quarter..<w1, (2 * quarter)..<w2, (3 * quarter)..<w3)
}

/// Index of the first of the `count` sorted times at `pb` not before `anchorPs − spanPs` (compared as
/// differences, like the walk).
@inline(__always)
private func windowStart(_ pb: UnsafePointer<Int64>, count: Int, anchorPs: Int64, spanPs: Int64) -> Int {
    var low = 0, high = count
    while low < high {
        let mid = (low + high) / 2
        if (pb[mid] &- anchorPs) &+ spanPs < 0 { low = mid + 1 } else { high = mid }
    }
    return low
}
