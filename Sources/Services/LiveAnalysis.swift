import Correlation
import Protocol
import TimeTags

/// Which channels mean what for the live analysis of a two-lab link: each lab's outcome detectors and where
/// its measurement basis comes from (the detectors themselves, a fixed basis, time segments or markers).
public struct AnalysisLayout: Sendable, Equatable {
    /// The outcome detectors of both labs (side, outcome and, for passive basis choice, basis).
    public var roles: [DetectorRole]
    /// Where lab A's basis comes from.
    public var sourceA: BasisSource
    /// Where lab B's basis comes from.
    public var sourceB: BasisSource
    /// Lab A's outcome channels.
    public var channelsA: [TagChannel] { roles.filter { $0.side == .a }.map(\.channel) }
    /// Lab B's outcome channels.
    public var channelsB: [TagChannel] { roles.filter { $0.side == .b }.map(\.channel) }
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
    /// A heralded link: each lab's readouts are correlated with the herald they belong to (``HeraldedAnalysis``),
    /// per herald type, instead of with each other.
    public var heralded = false

    /// Passive basis choice: lab A's and lab B's detectors H, V, D, A in that order (Z basis: H/V, X basis: D/A).
    public init(channelsA: [TagChannel], channelsB: [TagChannel]) {
        var roles: [DetectorRole] = []
        for (side, channels) in [(LabSide.a, channelsA), (.b, channelsB)] {
            for (channel, name) in zip(channels, ["H", "V", "D", "A"]) {
                if let role = DetectorRole.fromName(name, channel: channel, side: side) { roles.append(role) }
            }
        }
        self.init(roles: roles, sourceA: .detectors, sourceB: .detectors)
    }

    /// Outcome detectors `roles` with the labs' basis sources (e.g. `.markers` for a simulator whose labs
    /// announce each basis period with a marker).
    public init(roles: [DetectorRole], sourceA: BasisSource, sourceB: BasisSource) {
        self.roles = roles
        self.sourceA = sourceA
        self.sourceB = sourceB
    }
}

/// Rolling results of the live analysis.
public struct AnalysisSnapshot: Sendable, Equatable {
    public var clockOffsetPs: Int64?
    public var offsetSignificance: Double?
    public var coincidences: Int64 = 0
    public var correlationZ: Estimate?
    public var correlationX: Estimate?
    /// ⟨YY⟩, when both labs measured in Y.
    public var correlationY: Estimate?
    /// Fidelity to the target state from ZZ, XX and YY when all three were measured, else the lower bound
    /// from ZZ and XX.
    public var fidelity: Estimate?
    /// Whether ``fidelity`` is the Z/X lower bound (false: the full fidelity from Z, X and Y).
    public var fidelityIsLowerBound = true
    /// Outcome tags dropped because their lab had no basis yet (before the first basis marker or segment).
    public var unlabelledTags: Int64 = 0
    /// Tags that arrived behind the analysed time and were skipped.
    public var lateTags: Int64 = 0
    /// Clock offset updates from tracking (0: only the initial recovery so far).
    public var clockUpdates: Int = 0
    /// Frequency difference of lab B's clock from the tracker, ppm.
    public var clockDriftPpm: Double?
    /// Link time (lab A) of the latest offset value, ps.
    public var clockOffsetTimePs: Int64?
    /// Pair source: accidental coincidences expected in the analysed span from the two labs' outcome rates
    /// (N_A · N_B · window / span), for the coincidences-to-accidentals ratio.
    public var accidentals: Double?
    /// The latest tracking update's offset minus the offset predicted from the previous one (offset plus drift
    /// times the time since), ps; after a step the tracker could not follow, the offset found by a new search
    /// minus the tracked one.
    public var clockResidualPs: Double?
    /// Heralded link: heralds analysed so far (successes whose readouts could have arrived).
    public var heraldsAnalysed: Int64?
    /// Heralded link: fidelity to the heralded state per herald type (`psi_plus`, `psi_minus`).
    public var fidelityByHerald: [String: Estimate] = [:]
    /// Heralded link: lag of each lab's readout after its herald's attempt time (lab A, lab B), ps.
    public var readoutLagsPs: [Int64]?
}

/// Labels each lab's outcome tags with its basis (Correlation's ``BasisLabeler``: passive detectors, fixed,
/// segments or markers carried in the batches), merges the two labs onto one time base (lab B corrected by the
/// recovered clock offset) and counts coincidences per basis combination with ``BasisCorrelationCounter``.
public struct LiveAnalysis: Sendable {
    public let layout: AnalysisLayout
    private var pendingA = TagBatch(), pendingB = TagBatch()
    /// One labeller per lab stream (same labels; each sees only its lab's tags and markers).
    private var labelers: [BasisLabeler]
    private var counter: BasisCorrelationCounter?
    private var firstAnalysedPs: Int64?
    private var analysedThroughPs = Int64.min
    /// Outcome tags of lab A and lab B that went into the coincidence counting.
    private var analysedTags = (a: Int64(0), b: Int64(0))
    /// Raw times since the last tracking update (lab A, lab B on its own clock).
    private var trackA: [Int64] = [], trackB: [Int64] = []
    private var driftPpm = 0.0
    /// Lab A time reached at the last failed offset search: the next one waits for another span of data.
    private var lastSearchPs = Int64.min
    public private(set) var snapshot = AnalysisSnapshot()
    /// Heralded link: the per-herald correlation.
    private var heralded: HeraldedAnalysis?
    private var heraldedRelocks = 0

    public init(layout: AnalysisLayout) {
        self.layout = layout
        if let labeler = try? BasisLabeler(roles: layout.roles, sourceA: layout.sourceA, sourceB: layout.sourceB) {
            labelers = [labeler, labeler]
            if layout.heralded {
                heralded = HeraldedAnalysis(outcomeChannels: labeler.outcomeChannels, windowHalfWidthPs: layout.windowHalfWidthPs,
                                            maxLagPs: layout.maxOffsetPs)
            }
        } else {
            labelers = []
        }
    }

    /// Heralded link: adds the successful heralds decided from lab A's stream (attempt times in order), which
    /// covers the station through `coveredThroughPs`.
    public mutating func addHeralds(_ heralds: [(timePs: Int64, state: HeraldedState)], coveredThroughPs: Int64?) {
        guard heralded != nil else { return }
        heralded?.addHeralds(heralds, coveredThroughPs: coveredThroughPs)
        updateHeraldedEstimates()
    }

    /// Heralded link: adds the heralds decided from lab A's stream (in order), which covers the station through
    /// `coveredThroughPs`; failed attempts carry no state and are left out.
    public mutating func addHeralds(_ heralds: [Herald], coveredThroughPs: Int64?) {
        addHeralds(heralds.compactMap { herald in
            switch herald.outcome {
            case .psiPlus: (herald.timePs, HeraldedState.psiPlus)
            case .psiMinus: (herald.timePs, HeraldedState.psiMinus)
            case .failure: nil
            }
        }, coveredThroughPs: coveredThroughPs)
    }

    private mutating func updateHeraldedEstimates() {
        guard let heralded else { return }
        if let lags = heralded.lagsPs {
            let offset = lags.b - lags.a
            snapshot.readoutLagsPs = [lags.a, lags.b]
            if snapshot.clockOffsetPs == nil {
                snapshot.clockOffsetPs = offset
                snapshot.clockOffsetTimePs = heralded.analysedThroughPs == .min ? nil : heralded.analysedThroughPs
            } else if let last = snapshot.clockOffsetTimePs, heralded.analysedThroughPs - last >= layout.trackingSpanPs {
                // One tracked value per tracking span (journaled by the coordinator).
                snapshot.clockOffsetPs = offset
                snapshot.clockOffsetTimePs = heralded.analysedThroughPs
                snapshot.clockUpdates += 1
            } else if snapshot.clockOffsetTimePs == nil, heralded.analysedThroughPs != .min {
                snapshot.clockOffsetTimePs = heralded.analysedThroughPs
            }
        }
        if heralded.relocks > heraldedRelocks, let step = heralded.lastStepPs {
            // The lags were found again after a clock step: the step is the residual of this update.
            heraldedRelocks = heralded.relocks
            snapshot.clockResidualPs = step
            if let lags = heralded.lagsPs { snapshot.clockOffsetPs = lags.b - lags.a }
            snapshot.clockUpdates += 1
            snapshot.clockOffsetTimePs = heralded.analysedThroughPs
        }
        snapshot.heraldsAnalysed = heralded.heraldsAnalysed.reduce(0, +)
        snapshot.coincidences = heralded.heraldsWithReadouts.reduce(0, +)
        snapshot.correlationZ = heralded.correlation("Z")
        snapshot.correlationX = heralded.correlation("X")
        snapshot.correlationY = heralded.correlation("Y")
        let fidelity = heralded.fidelity()
        snapshot.fidelity = fidelity.combined
        snapshot.fidelityIsLowerBound = fidelity.isLowerBound
        snapshot.fidelityByHerald = Dictionary(uniqueKeysWithValues: fidelity.perState.map { ($0.key == .psiPlus ? "psi_plus" : "psi_minus", $0.value) })
    }

    /// Adds a batch from lab 0 (A) or 1 (B) and analyses what both labs now cover.
    public mutating func add(lab: Int, batch: TagBatch) {
        guard lab == 0 || lab == 1, labelers.count == 2 else { return }
        let channels = Set(lab == 0 ? layout.channelsA : layout.channelsB)
        var outcomes = TagBatch(capacity: batch.count)
        for index in 0..<batch.count where channels.contains(batch.channels[index]) {
            outcomes.append(timePs: batch.timesPs[index], channel: batch.channels[index])
        }
        outcomes.markers = batch.markers
        let before = labelers[lab].unlabelledEvents
        var kept = labelers[lab].process(outcomes)
        snapshot.unlabelledTags += labelers[lab].unlabelledEvents - before
        kept.markers = []
        if heralded != nil {
            heralded?.addReadouts(lab: lab, kept, coveredThroughPs: batch.timesPs.last)
            updateHeraldedEstimates()
            return
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
            let sinceLastPs = Double(last.timePs - (snapshot.clockOffsetTimePs ?? last.timePs))
            // The first update refines the searched offset (sub-nanosecond bins); residuals start after it.
            if snapshot.clockUpdates > 0 {
                snapshot.clockResidualPs = last.offsetPs - (Double(offset) + driftPpm * 1e-6 * sinceLastPs)
            }
            snapshot.clockOffsetPs = Int64(last.offsetPs.rounded())
            snapshot.clockOffsetTimePs = last.timePs
            snapshot.clockDriftPpm = last.driftPpm
            snapshot.clockUpdates += 1
            driftPpm = last.driftPpm
        } else {
            // Lost lock (a clock step beyond the tracker's window): search the offset again over this span.
            var search = OffsetSearch()
            search.maxOffsetPs = layout.maxOffsetPs
            // Only a step beyond the tracker's reach counts (the search's fine bins are coarser than tracking).
            if let result = try? search.run(a: trackA, b: trackB), result.fineSignificance >= 5,
               abs(result.offsetPs - offset) > tracker.initialHalfWidthPs {
                snapshot.clockResidualPs = Double(result.offsetPs - offset)
                snapshot.clockOffsetPs = result.offsetPs
                snapshot.clockOffsetTimePs = lastA
                snapshot.clockUpdates += 1
            }
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
        guard let labeler = labelers.first, let window = try? CoincidenceWindow(halfWidthPs: layout.windowHalfWidthPs) else { return }
        counter = try? BasisCorrelationCounter(outcomeChannels: labeler.outcomeChannels, window: window)
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
        let fromA = Int64(pendingA.count - restA.count), fromB = Int64(pendingB.count - restB.count)
        pendingA = restA
        pendingB = restB
        events.sort { $0.0 < $1.0 }
        let late = events.prefix { $0.0 < analysedThroughPs }.count
        snapshot.lateTags += Int64(late)
        let merged = events.dropFirst(late)
        guard !merged.isEmpty else { return }
        analysedThroughPs = watermark
        if late == 0 { analysedTags.a += fromA; analysedTags.b += fromB }
        if firstAnalysedPs == nil { firstAnalysedPs = merged.first?.0 }
        try? counter?.process(TagBatch(timesPs: merged.map(\.0), channels: merged.map(\.1)))
        updateEstimates()
    }

    private mutating func updateEstimates() {
        guard let counter else { return }
        let durationPs = max(1, analysedThroughPs - (firstAnalysedPs ?? analysedThroughPs))
        let settings = counter.results(durationPs: durationPs)
        snapshot.coincidences = Int64(settings.map { $0.counts.cells.reduce(0, +) }.reduce(0, +))
        if firstAnalysedPs != nil, analysedTags.a > 0, analysedTags.b > 0 {
            snapshot.accidentals = Double(analysedTags.a) * Double(analysedTags.b) * Double(2 * layout.windowHalfWidthPs + 1) / Double(durationPs)
        }
        snapshot.correlationZ = SettingEstimates.correlation(settings, "Z", "Z", .raw)
        snapshot.correlationX = SettingEstimates.correlation(settings, "X", "X", .raw)
        snapshot.correlationY = SettingEstimates.correlation(settings, "Y", "Y", .raw)
        if let full = SettingEstimates.fidelity(settings, to: layout.target, .raw) {
            snapshot.fidelity = full
            snapshot.fidelityIsLowerBound = false
        } else if let bound = SettingEstimates.fidelityLowerBound(settings, to: layout.target, .raw) {
            snapshot.fidelity = bound
            snapshot.fidelityIsLowerBound = true
        }
    }
}
