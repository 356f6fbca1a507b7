/// Running summary of a tag stream: counts per channel, time span, markers, gaps, sortedness.
public struct TagStatistics: Sendable, Equatable {
    /// Photon count per channel.
    public var photonsByChannel: [TagChannel: Int64] = [:]
    /// Marker count per marker number.
    public var markersByNumber: [Int32: Int64] = [:]
    /// Number of gaps.
    public var gapCount: Int64 = 0
    /// Sum of the lost events the gaps report.
    public var lostEvents: Int64 = 0
    /// Time of the first photon, in stream order.
    public var firstTimePs: Int64?
    /// Time of the last photon, in stream order.
    public var lastTimePs: Int64?
    /// Earliest and latest photon time.
    public var minTimePs: Int64?
    /// Latest photon time.
    public var maxTimePs: Int64?
    /// Photons with a time earlier than the photon before them.
    public var outOfOrderPhotons: Int64 = 0
    /// Largest backwards step between consecutive photons, in ps (0 when sorted).
    public var largestBackwardStepPs: Int64 = 0

    /// Empty statistics.
    public init() {}

    /// Total photons.
    public var photonCount: Int64 { photonsByChannel.values.reduce(0, +) }
    /// Total markers.
    public var markerCount: Int64 { markersByNumber.values.reduce(0, +) }
    /// Span from the earliest to the latest photon in ps (`Int64.max` when the span does not fit 64 bits).
    public var durationPs: Int64 { Self.distancePs(from: minTimePs ?? 0, to: maxTimePs ?? 0) }
    /// Whether every photon follows the previous one in time.
    public var isSorted: Bool { outOfOrderPhotons == 0 }

    /// Mean rate of `channel` over `overPs` (default: the span of the photons), in Hz (0 for a zero duration).
    public func rateHz(channel: TagChannel, overPs: Int64? = nil) -> Double {
        let duration = overPs ?? durationPs
        guard duration > 0 else { return 0 }
        return Double(photonsByChannel[channel] ?? 0) / (Double(duration) * 1e-12)
    }

    /// `later − earlier`, saturated at `Int64.max`.
    private static func distancePs(from earlier: Int64, to later: Int64) -> Int64 {
        let (difference, overflow) = later.subtractingReportingOverflow(earlier)
        return overflow ? Int64.max : difference
    }

    /// Adds the events of `batch`.
    public mutating func add(_ batch: TagBatch) {
        var small = [Int64](repeating: 0, count: 256)
        var previous = lastTimePs ?? Int64.min
        var low = minTimePs ?? Int64.max
        var high = maxTimePs ?? Int64.min
        for index in 0..<batch.count {
            let channel = batch.channels[index]
            if channel >= 0 && channel < 256 { small[Int(channel)] += 1 } else { photonsByChannel[channel, default: 0] += 1 }
            let time = batch.timesPs[index]
            if time < previous {
                outOfOrderPhotons += 1
                largestBackwardStepPs = max(largestBackwardStepPs, Self.distancePs(from: time, to: previous))
            }
            previous = time
            low = min(low, time)
            high = max(high, time)
        }
        for channel in 0..<256 where small[channel] > 0 { photonsByChannel[TagChannel(channel), default: 0] += small[channel] }
        if !batch.isEmpty {
            if firstTimePs == nil { firstTimePs = batch.timesPs[0] }
            lastTimePs = batch.timesPs[batch.count - 1]
            minTimePs = low
            maxTimePs = high
        }
        for marker in batch.markers { markersByNumber[marker.marker, default: 0] += 1 }
        gapCount += Int64(batch.gaps.count)
        for gap in batch.gaps { lostEvents += gap.lostEvents ?? 0 }
    }
}
