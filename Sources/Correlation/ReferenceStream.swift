import TimeTags

/// Receives each reference event together with the buffered events around it.
protocol ReferenceVisitor: Sendable {
    /// Whether an event on `channel` is a reference event.
    func isReference(_ channel: TagChannel) -> Bool
    /// One reference event at `times[index]`; `times[neighbors]` covers every event within the lag reach.
    mutating func visit(index: Int, times: [Int64], channels: [TagChannel], neighbors: Range<Int>)
}

/// Streams chunks past a ``ReferenceVisitor``: each reference event is visited once, when all events in
/// `lowerReachPs ... upperReachPs` around it have arrived. Events older than the reach are dropped.
struct ReferenceStream<V: ReferenceVisitor>: Sendable {
    let lowerReachPs: Int64
    let upperReachPs: Int64
    var visitor: V
    private var times: [Int64] = []
    private var channels: [TagChannel] = []
    private(set) var lastTimePs: Int64 = .min

    init(lowerReachPs: Int64, upperReachPs: Int64, visitor: V) {
        self.lowerReachPs = min(0, lowerReachPs)
        self.upperReachPs = max(0, upperReachPs)
        self.visitor = visitor
    }

    var bufferedCount: Int { times.count }

    mutating func process(_ batch: TagBatch) throws(CorrelationError) {
        guard !batch.isEmpty else { return }
        let previous = lastTimePs
        if let bad = batch.timesPs.withUnsafeBufferPointer({ firstUnsortedIndex($0, notBeforePs: previous) }) {
            throw CorrelationError(.unsortedInput, "event \(bad) of the chunk is earlier than the one before it",
                                   context: "time \(batch.timesPs[bad]) ps", hint: "sort events by time first")
        }
        times.append(contentsOf: batch.timesPs)
        channels.append(contentsOf: batch.channels)
        lastTimePs = batch.timesPs[batch.count - 1]
        run(final: false)
    }

    mutating func finish() { run(final: true) }

    private var nextReference = 0

    private mutating func run(final: Bool) {
        var low = 0
        var high = 0
        var i = nextReference
        while i < times.count {
            let t = times[i]
            if !final && t &+ upperReachPs >= lastTimePs { break }
            if visitor.isReference(channels[i]) {
                while low < times.count, times[low] < t &+ lowerReachPs { low += 1 }
                if high < i { high = i }
                while high < times.count, times[high] <= t &+ upperReachPs { high += 1 }
                visitor.visit(index: i, times: times, channels: channels, neighbors: low..<high)
            }
            i += 1
        }
        // Keep what a future reference event could still need.
        let oldestNeeded = (i < times.count ? times[i] : lastTimePs) &+ lowerReachPs
        var keepFrom = i
        while keepFrom > 0, times[keepFrom - 1] >= oldestNeeded { keepFrom -= 1 }
        if final { keepFrom = times.count }
        times.removeFirst(keepFrom)
        channels.removeFirst(keepFrom)
        nextReference = i - keepFrom
    }
}
