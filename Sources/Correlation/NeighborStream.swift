import Dispatch
import TimeTags

/// Feeds a stream of sorted chunks through ``scanNeighbors`` with the events near each chunk's end carried
/// into the next chunk, so that every pair of events within the span is visited exactly once.
///
/// Memory held between chunks is the events in the last `spanPs` of the stream.
struct NeighborStream<V: NeighborVisitor>: Sendable {
    let spanPs: Int64
    var visitor: V
    /// Events whose later neighbours may still arrive (times and channels).
    private var carryTimes: [Int64] = []
    private var carryChannels: [TagChannel] = []
    /// Time of the last event seen.
    private(set) var lastTimePs: Int64 = .min
    /// Anchors per thread below which work is not split across cores.
    var parallelThreshold = 1 << 20
    /// Number of cores to use for large chunks.
    var threads = 2

    init(spanPs: Int64, visitor: V) {
        self.spanPs = spanPs
        self.visitor = visitor
    }

    /// Number of events held from one chunk to the next.
    var carriedCount: Int { carryTimes.count }

    /// Processes one chunk; throws when it is unsorted or starts before the previous chunk's last event
    /// (`checkOrder` false: the caller guarantees both, e.g. a merger's output).
    mutating func process(times: [Int64], channels: [TagChannel], checkOrder: Bool = true) throws(CorrelationError) {
        guard times.count == channels.count else {
            throw CorrelationError(.invalidParameter, "times and channels differ in length",
                                   context: "chunk of \(times.count) times, \(channels.count) channels")
        }
        guard !times.isEmpty else { return }
        let previous = lastTimePs
        if checkOrder, let bad = times.withUnsafeBufferPointer({ firstUnsortedIndex($0, notBeforePs: previous) }) {
            throw CorrelationError(.unsortedInput, "event \(bad) of the chunk is earlier than the one before it",
                                   context: "time \(times[bad]) ps", hint: "sort events by time before correlating")
        }
        lastTimePs = times[times.count - 1]
        if !carryTimes.isEmpty {
            // Chunk events that a carried event can still reach.
            let reach = carryTimes[carryTimes.count - 1] &+ spanPs
            let junctionEnd = firstIndex(in: times, above: reach)
            if junctionEnd == times.count {
                carryTimes.append(contentsOf: times)
                carryChannels.append(contentsOf: channels)
                let (t, c) = (carryTimes, carryChannels)
                carryTimes = []
                carryChannels = []
                processBuffer(times: t, channels: c)
                return
            }
            let carried = carryTimes.count
            carryTimes.append(contentsOf: times[0..<junctionEnd])
            carryChannels.append(contentsOf: channels[0..<junctionEnd])
            scan(times: carryTimes, channels: carryChannels, anchors: 0..<carried)
            carryTimes.removeAll(keepingCapacity: true)
            carryChannels.removeAll(keepingCapacity: true)
        }
        processBuffer(times: times, channels: channels)
    }

    /// Visits the pairs among the events still carried; call once at the end of the stream.
    mutating func finish() {
        scan(times: carryTimes, channels: carryChannels, anchors: 0..<carryTimes.count)
        carryTimes.removeAll()
        carryChannels.removeAll()
    }

    /// Scans the anchors whose neighbours are complete and carries the rest.
    private mutating func processBuffer(times: [Int64], channels: [TagChannel]) {
        let last = times[times.count - 1]
        // Anchors with t + span < last cannot pair with future events (which come at or after `last`).
        let limit = last.subtractingReportingOverflow(spanPs)
        let complete = limit.overflow ? 0 : firstIndex(in: times, atOrAbove: limit.partialValue)
        scan(times: times, channels: channels, anchors: 0..<complete)
        carryTimes.append(contentsOf: times[complete...])
        carryChannels.append(contentsOf: channels[complete...])
    }

    private mutating func scan(times: [Int64], channels: [TagChannel], anchors: Range<Int>) {
        guard !anchors.isEmpty else { return }
        let span = spanPs
        let parts = anchors.count >= parallelThreshold * 2 ? max(1, threads) : 1
        if parts == 1 {
            times.withUnsafeBufferPointer { t in
                channels.withUnsafeBufferPointer { c in
                    scanNeighbors(times: t, channels: c, anchors: anchors, spanPs: span, visitor: &visitor)
                }
            }
            return
        }
        var partials = (0..<parts).map { _ in visitor.emptyCopy() }
        let step = (anchors.count + parts - 1) / parts
        times.withUnsafeBufferPointer { t in
            channels.withUnsafeBufferPointer { c in
                partials.withUnsafeMutableBufferPointer { slots in
                    let job = ParallelScanJob(times: t, channels: c, visitors: slots)
                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                        let low = anchors.lowerBound + part * step
                        let high = min(anchors.upperBound, low + step)
                        job.run(part: part, anchors: low..<high, spanPs: span)
                    }
                }
            }
        }
        for partial in partials { visitor.merge(partial) }
    }
}

/// Pointers shared by the threads of one parallel scan; each thread writes only its own visitor slot.
private struct ParallelScanJob<V: NeighborVisitor>: @unchecked Sendable {
    let times: UnsafeBufferPointer<Int64>
    let channels: UnsafeBufferPointer<TagChannel>
    let visitors: UnsafeMutableBufferPointer<V>

    func run(part: Int, anchors: Range<Int>, spanPs: Int64) {
        guard !anchors.isEmpty, part >= 0, part < visitors.count else { return }
        scanNeighbors(times: times, channels: channels, anchors: anchors, spanPs: spanPs, visitor: &visitors[part])
    }
}

/// Index of the first element of sorted `times` that is `>= value`.
func firstIndex(in times: [Int64], atOrAbove value: Int64) -> Int {
    var low = 0, high = times.count
    while low < high {
        let mid = (low + high) / 2
        if times[mid] < value { low = mid + 1 } else { high = mid }
    }
    return low
}

/// Index of the first element of sorted `times` that is `> value`.
func firstIndex(in times: [Int64], above value: Int64) -> Int {
    var low = 0, high = times.count
    while low < high {
        let mid = (low + high) / 2
        if times[mid] <= value { low = mid + 1 } else { high = mid }
    }
    return low
}
