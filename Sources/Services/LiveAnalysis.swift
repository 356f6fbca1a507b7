import Correlation
import TimeTags

/// Which channels mean what for the live analysis of a two-lab link.
public struct AnalysisLayout: Sendable, Equatable {
    /// Lab A's detectors H, V, D, A (Z basis: H/V, X basis: D/A).
    public var channelsA: [TagChannel]
    /// Lab B's detectors H, V, D, A.
    public var channelsB: [TagChannel]
    /// Half width of the coincidence window after clock correction, ps.
    public var windowHalfWidthPs: Int64 = 1_000
    /// Largest clock offset searched, ps.
    public var maxOffsetPs: Int64 = 1_000_000_000
    /// Link time of data from each lab used for the first offset search, ps.
    public var offsetSearchSpanPs: Int64 = 40_000_000_000
    /// The Bell state the link aims for.
    public var target: BellState = .psiMinus
    /// Link time per clock-tracking update after the offset is found, ps (`ClockTracker` blocks of a
    /// quarter of it).
    public var trackingSpanPs: Int64 = 1_000_000_000_000

    public init(channelsA: [TagChannel], channelsB: [TagChannel]) {
        self.channelsA = channelsA
        self.channelsB = channelsB
    }
}

/// Rolling results of the live analysis.
public struct AnalysisSnapshot: Sendable, Equatable {
    public var clockOffsetPs: Int64?
    public var offsetSignificance: Double?
    public var coincidences: Int64 = 0
    public var correlationZ: Estimate?
    public var correlationX: Estimate?
    /// Fidelity lower bound to the target state from the Z and X correlations.
    public var fidelity: Estimate?
    /// Tags that arrived behind the analysed time and were skipped.
    public var lateTags: Int64 = 0
    /// Clock offset updates from tracking (0: only the initial recovery so far).
    public var clockUpdates: Int = 0
    /// Frequency difference of lab B's clock from the tracker, ppm.
    public var clockDriftPpm: Double?
    /// Link time (lab A) of the latest offset value, ps.
    public var clockOffsetTimePs: Int64?
}

/// Merges two labs' tag streams onto one time base (lab B corrected by the recovered clock offset) and
/// counts coincidences in the Z and X bases with the streaming ``CoincidenceCounter``.
public struct LiveAnalysis: Sendable {
    public let layout: AnalysisLayout
    private var pendingA = TagBatch(), pendingB = TagBatch()
    private var counter: CoincidenceCounter?
    private var analysedThroughPs = Int64.min
    /// Raw times since the last tracking update (lab A, lab B on its own clock).
    private var trackA: [Int64] = [], trackB: [Int64] = []
    private var driftPpm = 0.0
    /// Lab A time reached at the last failed offset search: the next one waits for another span of data.
    private var lastSearchPs = Int64.min
    public private(set) var snapshot = AnalysisSnapshot()

    public init(layout: AnalysisLayout) {
        self.layout = layout
    }

    /// Adds a batch from lab 0 (A) or 1 (B) and analyses what both labs now cover.
    public mutating func add(lab: Int, batch: TagBatch) {
        let channels = lab == 0 ? layout.channelsA : layout.channelsB
        var kept = TagBatch(capacity: batch.count)
        for index in 0..<batch.count where channels.contains(batch.channels[index]) {
            kept.append(timePs: batch.timesPs[index], channel: batch.channels[index])
        }
        if lab == 0 { pendingA.append(contentsOf: kept) } else { pendingB.append(contentsOf: kept) }
        if snapshot.clockOffsetPs == nil { recoverOffset() }
        if snapshot.clockOffsetPs != nil {
            if lab == 0 { trackA.append(contentsOf: kept.timesPs) } else { trackB.append(contentsOf: kept.timesPs) }
            trackClock()
            analyse()
        }
    }

    /// Follows the clock offset over time: once both labs cover `trackingSpanPs` since the last update,
    /// Correlation's `ClockTracker` locks on from the current offset and its latest sample becomes the offset.
    private mutating func trackClock() {
        guard let offset = snapshot.clockOffsetPs, let firstA = trackA.first, let lastA = trackA.last, let lastB = trackB.last,
              lastA - firstA >= layout.trackingSpanPs, lastB - offset - firstA >= layout.trackingSpanPs else { return }
        var tracker = ClockTracker()
        tracker.blockPs = max(1, layout.trackingSpanPs / 4)
        tracker.initialHalfWidthPs = 4 * layout.windowHalfWidthPs
        tracker.finalHalfWidthPs = max(50, layout.windowHalfWidthPs / 4)
        let b = trackB.filter { $0 - offset <= lastA }
        if let track = try? tracker.track(a: trackA, b: b, initialOffsetPs: offset, initialDriftPpm: driftPpm), let last = track.samples.last {
            snapshot.clockOffsetPs = Int64(last.offsetPs.rounded())
            snapshot.clockOffsetTimePs = last.timePs
            snapshot.clockDriftPpm = last.driftPpm
            snapshot.clockUpdates += 1
            driftPpm = last.driftPpm
        }
        // Keep B's tags that lie beyond A's span for the next update.
        trackB = trackB.filter { $0 - offset > lastA }
        trackA.removeAll(keepingCapacity: true)
    }

    private mutating func recoverOffset() {
        guard let firstA = pendingA.timesPs.first, let lastA = pendingA.timesPs.last,
              let firstB = pendingB.timesPs.first, let lastB = pendingB.timesPs.last,
              lastA - firstA >= layout.offsetSearchSpanPs, lastB - firstB >= layout.offsetSearchSpanPs,
              lastSearchPs == Int64.min || lastA - lastSearchPs >= layout.offsetSearchSpanPs else { return }
        lastSearchPs = lastA
        var search = OffsetSearch()
        search.maxOffsetPs = layout.maxOffsetPs
        guard let result = try? search.run(a: pendingA.timesPs, b: pendingB.timesPs), result.fineSignificance >= 5 else {
            // Not enough signal yet: keep the most recent data only, so the buffers stay bounded.
            let limit = 4 * layout.offsetSearchSpanPs
            if lastA - firstA > limit { pendingA = Self.suffix(pendingA, from: lastA - limit) }
            if lastB - firstB > limit { pendingB = Self.suffix(pendingB, from: lastB - limit) }
            return
        }
        snapshot.clockOffsetPs = result.offsetPs
        snapshot.offsetSignificance = result.fineSignificance
        let a = layout.channelsA, b = layout.channelsB
        guard a.count == 4, b.count == 4, let window = try? CoincidenceWindow(halfWidthPs: layout.windowHalfWidthPs) else { return }
        // Z: HH, HV, VH, VV; X: DD, DA, AD, AA.
        var specs: [CoincidenceSpec] = []
        for (first, second) in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3)] {
            specs.append(CoincidenceSpec(ChannelPair(a[first], b[second]), window: window))
        }
        counter = try? CoincidenceCounter(specs: specs)
        counter?.threads = 1
    }

    static func suffix(_ batch: TagBatch, from timePs: Int64) -> TagBatch {
        let start = batch.timesPs.firstIndex { $0 >= timePs } ?? batch.count
        return TagBatch(timesPs: Array(batch.timesPs[start...]), channels: Array(batch.channels[start...]))
    }

    private mutating func analyse() {
        guard let offset = snapshot.clockOffsetPs, let lastA = pendingA.timesPs.last, let lastB = pendingB.timesPs.last else { return }
        let watermark = min(lastA, lastB - offset) - layout.windowHalfWidthPs
        guard watermark > analysedThroughPs else { return }
        var events: [(Int64, TagChannel)] = []
        var restA = TagBatch(), restB = TagBatch()
        for (index, time) in pendingA.timesPs.enumerated() {
            if time <= watermark { events.append((time, pendingA.channels[index])) } else { restA.append(timePs: time, channel: pendingA.channels[index]) }
        }
        for (index, raw) in pendingB.timesPs.enumerated() {
            let time = raw - offset
            if time <= watermark { events.append((time, pendingB.channels[index])) } else { restB.append(timePs: raw, channel: pendingB.channels[index]) }
        }
        pendingA = restA
        pendingB = restB
        events.sort { $0.0 < $1.0 }
        let late = events.prefix { $0.0 < analysedThroughPs }.count
        snapshot.lateTags += Int64(late)
        let merged = events.dropFirst(late)
        guard !merged.isEmpty else { return }
        analysedThroughPs = watermark
        try? counter?.process(TagBatch(timesPs: merged.map(\.0), channels: merged.map(\.1)))
        updateEstimates()
    }

    private mutating func updateEstimates() {
        guard let counts = counter?.counts, counts.count == 8 else { return }
        snapshot.coincidences = counts.reduce(0, +)
        let z = JointCounts(cells: counts[0..<4].map(Double.init))
        let x = JointCounts(cells: counts[4..<8].map(Double.init))
        snapshot.correlationZ = try? BellEstimators.correlation(raw: z)
        snapshot.correlationX = try? BellEstimators.correlation(raw: x)
        if let ez = snapshot.correlationZ, let ex = snapshot.correlationX {
            snapshot.fidelity = BellEstimators.fidelityLowerBound(to: layout.target, z: ez, x: ex)
        }
    }
}
