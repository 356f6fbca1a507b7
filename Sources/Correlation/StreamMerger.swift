import TimeTags

/// Merges two sorted chunked streams (for example two labs' files on one time axis) into one sorted stream.
///
/// Each input's chunks must be sorted and continue the previous ones. Events are released once no later
/// chunk of either input can come before them, so memory is bounded by how far one input runs ahead of the
/// other (feed the input that is behind). Markers travel with the photons; equal times keep input A first.
public struct StreamMerger: Sendable {
    private var pending: [TagBatch] = [TagBatch(), TagBatch()]
    private var last: [Int64] = [.min, .min]
    private var finished = [false, false]

    public init() {}

    /// Events held, waiting for the other input.
    public var heldEvents: Int { pending[0].count + pending[1].count }

    /// The latest time seen on input `index` (0 = A, 1 = B).
    public func lastTimePs(_ index: Int) -> Int64 { last[index] }

    /// Adds a chunk of input `index` (0 = A, 1 = B); returns the events that are now final, sorted.
    public mutating func add(_ batch: TagBatch, input index: Int) throws(CorrelationError) -> TagBatch {
        guard index == 0 || index == 1 else {
            throw CorrelationError(.invalidParameter, "input must be 0 or 1", context: "stream merger")
        }
        if let first = batch.timesPs.first {
            let previous = last[index]
            guard first >= previous, batch.isSorted else {
                throw CorrelationError(.unsortedInput, "input \(index == 0 ? "A" : "B") goes back in time",
                                       context: "stream merger at \(first) ps", hint: "sort each input by time first")
            }
            last[index] = batch.timesPs[batch.count - 1]
        }
        pending[index].append(contentsOf: batch)
        return release()
    }

    /// Marks input `index` as ended; returns the events that are now final.
    public mutating func end(input index: Int) -> TagBatch {
        guard index == 0 || index == 1 else { return TagBatch() }
        finished[index] = true
        return release()
    }

    private mutating func release() -> TagBatch {
        // Everything up to the earlier of the two inputs' last times is final (an ended input imposes no limit).
        let limit: Int64
        switch (finished[0], finished[1]) {
        case (true, true): limit = .max
        case (true, false): limit = last[1]
        case (false, true): limit = last[0]
        case (false, false): limit = min(last[0], last[1])
        }
        let cutA = firstIndex(in: pending[0].timesPs, above: limit)
        let cutB = firstIndex(in: pending[1].timesPs, above: limit)
        var times: [Int64] = [], channels: [TagChannel] = []
        times.reserveCapacity(cutA + cutB)
        channels.reserveCapacity(cutA + cutB)
        do {
            // Local references end with this scope, so removing the released events below does not copy.
            let timesA = pending[0].timesPs, channelsA = pending[0].channels
            let timesB = pending[1].timesPs, channelsB = pending[1].channels
            var i = 0, j = 0
            while i < cutA && j < cutB {
                if timesA[i] <= timesB[j] {
                    times.append(timesA[i]); channels.append(channelsA[i]); i += 1
                } else {
                    times.append(timesB[j]); channels.append(channelsB[j]); j += 1
                }
            }
            times.append(contentsOf: timesA[i..<cutA]); channels.append(contentsOf: channelsA[i..<cutA])
            times.append(contentsOf: timesB[j..<cutB]); channels.append(contentsOf: channelsB[j..<cutB])
        }
        var output = TagBatch(timesPs: times, channels: channels)
        for k in 0..<2 {
            let cut = k == 0 ? cutA : cutB
            output.markers += pending[k].markers.filter { $0.timePs <= limit }
            output.gaps += pending[k].gaps.filter { $0.startPs <= limit }
            pending[k].timesPs.removeFirst(cut)
            pending[k].channels.removeFirst(cut)
            pending[k].markers.removeAll { $0.timePs <= limit }
            pending[k].gaps.removeAll { $0.startPs <= limit }
        }
        output.markers.sort { $0.timePs < $1.timePs }
        return output
    }
}
