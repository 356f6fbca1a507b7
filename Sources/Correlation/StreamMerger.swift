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
        try add(batch, input: index, checkOrder: true)
    }

    /// ``add(_:input:)``; `checkOrder` false skips the check that the chunk is sorted (the caller sorted it), not
    /// the check that it continues the input.
    mutating func add(_ batch: TagBatch, input index: Int, checkOrder: Bool) throws(CorrelationError) -> TagBatch {
        guard index == 0 || index == 1 else {
            throw CorrelationError(.invalidParameter, "input must be 0 or 1", context: "stream merger")
        }
        if let first = batch.timesPs.first {
            let previous = last[index]
            guard first >= previous,
                  !checkOrder || batch.timesPs.withUnsafeBufferPointer({ firstUnsortedIndex($0, notBeforePs: first) }) == nil else {
                throw CorrelationError(.unsortedInput, "input \(index == 0 ? "A" : "B") goes back in time",
                                       context: "stream merger at \(first) ps", hint: "sort each input by time first")
            }
            last[index] = batch.timesPs[batch.count - 1]
        }
        if pending[index].isEmpty && pending[index].markers.isEmpty && pending[index].gaps.isEmpty {
            pending[index] = batch  // adopt the chunk's storage instead of copying it
        } else {
            pending[index].append(contentsOf: batch)
        }
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
        var output: TagBatch
        if cutB == 0 {
            output = pending[0].takeFirstPhotons(cutA)
        } else if cutA == 0 {
            output = pending[1].takeFirstPhotons(cutB)
        } else {
            output = Self.merge(pending[0], cutA, pending[1], cutB)
            pending[0].dropFirstPhotons(cutA)
            pending[1].dropFirstPhotons(cutB)
        }
        for k in 0..<2 where !pending[k].markers.isEmpty || !pending[k].gaps.isEmpty {
            output.markers += pending[k].markers.filter { $0.timePs <= limit }
            output.gaps += pending[k].gaps.filter { $0.startPs <= limit }
            pending[k].markers.removeAll { $0.timePs <= limit }
            pending[k].gaps.removeAll { $0.startPs <= limit }
        }
        if output.markers.count > 1 { output.markers.sort { $0.timePs < $1.timePs } }
        return output
    }

    /// The first `countA` photons of `a` and `countB` of `b` merged by time (equal times: `a` first).
    static func merge(_ a: TagBatch, _ countA: Int, _ b: TagBatch, _ countB: Int) -> TagBatch {
        let total = countA + countB
        var channels: [TagChannel] = []
        let times = [Int64](unsafeUninitializedCapacity: total) { outTimes, timesCount in
            channels = [TagChannel](unsafeUninitializedCapacity: total) { outChannels, channelsCount in
                a.timesPs.withUnsafeBufferPointer { ta in
                    a.channels.withUnsafeBufferPointer { ca in
                        b.timesPs.withUnsafeBufferPointer { tb in
                            b.channels.withUnsafeBufferPointer { cb in
                                mergeRuns(ta, ca, countA, tb, cb, countB, outTimes, outChannels)
                            }
                        }
                    }
                }
                channelsCount = total
            }
            timesCount = total
        }
        return TagBatch(timesPs: times, channels: channels)
    }
}

extension TagBatch {
    /// Removes the first `count` photons (markers and gaps stay) and returns them; takes the storage whole when
    /// that is all of them (no copy).
    mutating func takeFirstPhotons(_ count: Int) -> TagBatch {
        guard count > 0 else { return TagBatch() }
        if count >= self.count {
            let head = TagBatch(timesPs: timesPs, channels: channels)
            timesPs = []
            channels = []
            return head
        }
        let head = TagBatch(timesPs: Array(timesPs[..<count]), channels: Array(channels[..<count]))
        dropFirstPhotons(count)
        return head
    }

    /// Removes the first `count` photons (markers and gaps stay).
    mutating func dropFirstPhotons(_ count: Int) {
        guard count > 0 else { return }
        if count >= self.count {
            timesPs.removeAll(keepingCapacity: true)
            channels.removeAll(keepingCapacity: true)
        } else {
            timesPs.removeFirst(count)
            channels.removeFirst(count)
        }
    }
}

/// Merges `countA` events of run A with `countB` of run B into `outTimes`/`outChannels` (room for both), equal
/// times taking A first. The selection is computed, not branched on: the two labs' events interleave at random,
/// so a branch would be mispredicted about every other event.
@inline(__always)
private func mergeRuns(_ ta: UnsafeBufferPointer<Int64>, _ ca: UnsafeBufferPointer<TagChannel>, _ countA: Int,
                       _ tb: UnsafeBufferPointer<Int64>, _ cb: UnsafeBufferPointer<TagChannel>, _ countB: Int,
                       _ outTimes: UnsafeMutableBufferPointer<Int64>, _ outChannels: UnsafeMutableBufferPointer<TagChannel>) {
    guard let pa = ta.baseAddress, let qa = ca.baseAddress, let pb = tb.baseAddress, let qb = cb.baseAddress,
          let ot = outTimes.baseAddress, let oc = outChannels.baseAddress else { return }
    var i = 0, j = 0, k = 0
    while i < countA && j < countB {
        let x = pa[i], y = pb[j]
        let takeA = x <= y
        ot[k] = takeA ? x : y
        oc[k] = takeA ? qa[i] : qb[j]
        let step = takeA ? 1 : 0
        i &+= step
        j &+= 1 &- step
        k &+= 1
    }
    while i < countA { ot[k] = pa[i]; oc[k] = qa[i]; i &+= 1; k &+= 1 }
    while j < countB { ot[k] = pb[j]; oc[k] = qb[j]; j &+= 1; k &+= 1 }
}
