/// A bounded re-sort stage: wraps a reader whose stream is sorted per channel but globally
/// unsorted by up to ``windowPs`` (typical of multi-channel instruments), and delivers a stream
/// sorted by time. It holds back only the events of the last window, so memory stays bounded.
///
/// Events that arrive more than the window behind an already delivered event cannot be put in
/// place; they are delivered at once (the output is then locally unsorted) and counted in
/// ``lateEvents`` so the caller can widen the window.
public final class ResortingReader: TagReader {
    /// How far (ps) an event may arrive behind a later one and still be put in order.
    public let windowPs: Int64
    /// Photons and markers that arrived after an event with a later time (had to be reordered).
    public private(set) var reorderedEvents: Int64 = 0
    /// Events that arrived more than the window late and could not be put in order.
    public private(set) var lateEvents: Int64 = 0

    private var base: any TagReader
    private var pendingTimes: [Int64] = []
    private var pendingChannels: [TagChannel] = []
    private var pendingMarkers: [MarkerEvent] = []
    private var maxSeenPs = Int64.min
    private var lastDeliveredPs = Int64.min
    private var baseFinished = false

    /// Wraps `base` with a re-sort window of `windowPs` picoseconds (at least 0).
    public init(_ base: any TagReader, windowPs: Int64) {
        self.base = base
        self.windowPs = max(0, windowPs)
    }

    public var header: TagStreamHeader { base.header }
    public var bytesConsumed: Int64 { base.bytesConsumed }
    public var totalBytes: Int64? { base.totalBytes }

    public func next() throws -> TagBatch? {
        while true {
            if baseFinished {
                if pendingTimes.isEmpty && pendingMarkers.isEmpty { return nil }
                return release(upTo: Int64.max, gaps: [])
            }
            guard let batch = try base.next() else {
                baseFinished = true
                continue
            }
            absorb(batch)
            let (behind, overflow) = maxSeenPs.subtractingReportingOverflow(windowPs)
            let cutoff = overflow ? Int64.min : behind
            let output = release(upTo: cutoff, gaps: batch.gaps)
            if !output.isEmpty || !output.markers.isEmpty || !output.gaps.isEmpty { return output }
        }
    }

    /// Merges `batch` into the pending events, counting what arrives out of order.
    private func absorb(_ batch: TagBatch) {
        var order = Array(0..<batch.count)
        var running = maxSeenPs
        var sorted = true
        for index in 0..<batch.count {
            let time = batch.timesPs[index]
            if time < running { reorderedEvents += 1; sorted = false } else { running = time }
            if time < lastDeliveredPs { lateEvents += 1 }
        }
        maxSeenPs = max(maxSeenPs, running)
        if !sorted {
            order.sort { batch.timesPs[$0] < batch.timesPs[$1] || (batch.timesPs[$0] == batch.timesPs[$1] && $0 < $1) }
        }
        // Merge the (now sorted) batch with the sorted pending events.
        var mergedTimes = [Int64]()
        var mergedChannels = [TagChannel]()
        mergedTimes.reserveCapacity(pendingTimes.count + batch.count)
        mergedChannels.reserveCapacity(pendingTimes.count + batch.count)
        var left = 0
        var right = 0
        while left < pendingTimes.count || right < order.count {
            if right == order.count || (left < pendingTimes.count && pendingTimes[left] <= batch.timesPs[order[right]]) {
                mergedTimes.append(pendingTimes[left])
                mergedChannels.append(pendingChannels[left])
                left += 1
            } else {
                mergedTimes.append(batch.timesPs[order[right]])
                mergedChannels.append(batch.channels[order[right]])
                right += 1
            }
        }
        pendingTimes = mergedTimes
        pendingChannels = mergedChannels
        for marker in batch.markers {
            if marker.timePs < maxSeenPs { reorderedEvents += 1 }
            if marker.timePs < lastDeliveredPs { lateEvents += 1 }
            maxSeenPs = max(maxSeenPs, marker.timePs)
        }
        pendingMarkers += batch.markers
        pendingMarkers.sort { $0.timePs < $1.timePs }
    }

    /// Delivers the pending events with time at most `cutoff`.
    private func release(upTo cutoff: Int64, gaps: [StreamGap]) -> TagBatch {
        var end = 0
        while end < pendingTimes.count && pendingTimes[end] <= cutoff { end += 1 }
        var output = TagBatch(timesPs: Array(pendingTimes[0..<end]), channels: Array(pendingChannels[0..<end]), gaps: gaps)
        pendingTimes.removeFirst(end)
        pendingChannels.removeFirst(end)
        let markerEnd = pendingMarkers.firstIndex { $0.timePs > cutoff } ?? pendingMarkers.count
        output.markers = Array(pendingMarkers[0..<markerEnd])
        pendingMarkers.removeFirst(markerEnd)
        if let last = output.timesPs.last { lastDeliveredPs = max(lastDeliveredPs, last) }
        if let last = output.markers.last { lastDeliveredPs = max(lastDeliveredPs, last.timePs) }
        return output
    }
}
