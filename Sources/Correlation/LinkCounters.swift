import TimeTags

/// The counters ``LinkAnalysis`` feeds with each lab's events once they are on lab A's axis: coincidences with
/// side windows, histograms, singles, joint outcomes per basis pair and heralded outcomes.
///
/// The pairs' coincidences and histograms (``PairScanVisitor``) are counted in one scan
/// (the histogram's span covers the side windows), so each close pair is looked at once for both. With two labs
/// the scan counts lab A against lab B directly (``CrossLabScan``: every pair is lab A's channel with lab B's), and
/// so do the basis counters (each basis cell is lab A's outcome with lab B's): no merged stream is built for them;
/// only the herald patterns' counter, which needs both labs' events in one time order, is fed through a
/// ``StreamMerger``, and only when it exists. With one stream holding both labs, the stream is scanned for
/// neighbours (``NeighborStream``).
struct LinkCounters: Sendable {
    let configuration: LinkAnalysisConfiguration
    let outcomeChannels: OutcomeChannels?
    /// The pairs' specifications: per pair the main window, then its side windows.
    let specs: [CoincidenceSpec]
    /// The pairs' scan: lab A against lab B (two labs), or the one stream's neighbours.
    private var crossScan: CrossLabScan?
    private var neighborScan: NeighborStream<PairScanVisitor>?
    private var singlesCounter: SinglesCounter
    /// Merges the labs for the herald patterns' counter (two labs with herald patterns only).
    private var merger: StreamMerger?
    private(set) var bases: BasisCorrelationCounter?
    private(set) var heralded: HeraldedCounter?
    /// Per lab, the first and last time counted and whether the lab has ended.
    private var firstTimePs: [Int64?] = [nil, nil]
    private var lastTimePs: [Int64] = [.min, .min]
    private var ended = [false, false]
    /// Specifications per pair: the main window, then its side windows.
    var specsPerPair: Int { 1 + 2 * configuration.sideWindows }

    init(_ configuration: LinkAnalysisConfiguration, outcomeChannels: OutcomeChannels?) throws(CorrelationError) {
        self.configuration = configuration
        self.outcomeChannels = outcomeChannels
        let window = try CoincidenceWindow(halfWidthPs: configuration.windowHalfWidthPs)
        let spacing = max(configuration.histogramRangePs / 4, 4 * window.widthPs)
        var specs: [CoincidenceSpec] = []
        for pair in configuration.pairs {
            let main = CoincidenceSpec(pair, window: window)
            specs.append(main)
            specs += Accidentals.sideWindows(of: main, count: configuration.sideWindows, spacingPs: spacing)
        }
        guard !specs.isEmpty else {
            throw CorrelationError(.invalidParameter, "no channel pairs to count", context: "link analysis",
                                   hint: "give at least one channel pair")
        }
        self.specs = specs
        var built: [CorrelationHistogram] = []
        for pair in configuration.pairs {
            built.append(try CorrelationHistogram(pair: pair, rangePs: configuration.histogramRangePs, binWidthPs: configuration.histogramBinPs))
        }
        let visitor = PairScanVisitor(pairs: configuration.pairs, specs: specs, histograms: built)
        let coincidenceSpan = specs.map(\.window.reachPs).max() ?? 0
        let histogramSpan = built.map { max(abs($0.startPs), abs($0.endPs - 1)) }.max() ?? 0
        let span = max(coincidenceSpan, histogramSpan)
        if configuration.twoLabs {
            let offset = LinkAnalysisConfiguration.labBChannelOffset
            if let pair = configuration.pairs.first(where: { $0.first >= offset || $0.second < offset }) {
                throw CorrelationError(.invalidParameter, "pair \(pair) is not lab A's channel with lab B's", context: "link analysis",
                                       hint: "with two labs each pair is (lab A channel, lab B channel + \(offset))")
            }
            crossScan = CrossLabScan(spanPs: span, visitor: visitor)
        } else {
            neighborScan = NeighborStream(spanPs: span, visitor: visitor)
        }
        var channels: [TagChannel] = []
        for spec in specs { channels.append(spec.pair.first); channels.append(spec.pair.second) }
        singlesCounter = SinglesCounter(channels: channels)
        if let outcomeChannels {
            if configuration.twoLabs, let role = configuration.roles.first(where: {
                ($0.channel >= LinkAnalysisConfiguration.labBChannelOffset) != ($0.side == .b)
            }) {
                throw CorrelationError(.invalidParameter, "detector \(role.channel) is on lab \(role.side == .a ? "A" : "B")'s side but not in its stream",
                                       context: "link analysis", hint: "with two labs lab B's detectors are its channels + \(LinkAnalysisConfiguration.labBChannelOffset)")
            }
            bases = try BasisCorrelationCounter(outcomeChannels: outcomeChannels, window: window, crossLab: configuration.twoLabs)
            if let heralds = configuration.heralds, !heralds.patterns.isEmpty {
                heralded = try HeraldedCounter(patterns: heralds.patterns, windowA: heralds.windowA, windowB: heralds.windowB,
                                               outcomeChannels: outcomeChannels)
            }
        }
        if configuration.twoLabs, heralded != nil { merger = StreamMerger() }
        if !configuration.twoLabs { ended[1] = true }
    }

    /// Counts a chunk of lab `lab` (0 = A, 1 = B; one stream: 0) on lab A's axis, sorted by the caller (each lab's
    /// order was checked on entry and the clock mapping keeps it) and continuing the lab's previous chunks.
    mutating func add(lab: Int, _ batch: TagBatch) throws(CorrelationError) {
        guard let first = batch.timesPs.first else { return }
        guard first >= lastTimePs[lab] else {
            throw CorrelationError(.unsortedInput, "lab \(lab == 0 ? "A" : "B") goes back in time", context: "link analysis at \(first) ps",
                                   hint: "feed each lab's chunks in time order")
        }
        if firstTimePs[lab] == nil { firstTimePs[lab] = first }
        lastTimePs[lab] = batch.timesPs[batch.count - 1]
        singlesCounter.add(batch)
        if neighborScan != nil {
            try neighborScan?.process(times: batch.timesPs, channels: batch.channels, checkOrder: false)
            try countInOrder(batch)
        } else {
            try crossScan?.add(lab: lab, batch)
            try bases?.add(lab: lab, batch)
            if merger != nil, let merged = try merger?.add(batch, input: lab, checkOrder: false) { try heralded?.process(merged) }
        }
    }

    /// Lab `lab`'s stream has ended.
    mutating func end(lab: Int) throws(CorrelationError) {
        ended[lab] = true
        crossScan?.end(lab: lab)
        bases?.end(lab: lab)
        if let merged = merger?.end(input: lab) { try heralded?.process(merged) }
    }

    /// One stream holding both labs: feeds the counters that need both labs' events in one time order.
    private mutating func countInOrder(_ batch: TagBatch) throws(CorrelationError) {
        try bases?.process(batch)
        try heralded?.process(batch)
    }

    mutating func finish() {
        neighborScan?.finish()
        bases?.finish(); heralded?.finish()
    }

    /// Events held for the other lab or the time order.
    var heldEvents: Int {
        (merger?.heldEvents ?? 0) + (crossScan?.heldEvents ?? 0)
    }

    /// The link time analysed so far: the time through which both labs' events have been counted (the earlier of
    /// the labs' last times while both run, the other lab's once one has ended, the last of all once both have).
    var lastPs: Int64? {
        let limit: Int64 = switch (ended[0], ended[1]) {
        case (true, true): max(lastTimePs[0], lastTimePs[1])
        case (true, false): lastTimePs[1]
        case (false, true): lastTimePs[0]
        case (false, false): min(lastTimePs[0], lastTimePs[1])
        }
        return limit == .min ? nil : limit
    }

    /// The first time counted (nil until ``lastPs`` is known).
    var firstPs: Int64? {
        guard lastPs != nil else { return nil }
        return firstTimePs.compactMap { $0 }.min()
    }

    private var pairVisitor: PairScanVisitor { crossScan?.visitor ?? neighborScan!.visitor }

    /// Coincidence counts, one per specification (complete after ``finish()``).
    var counts: [Int64] { pairVisitor.counts }
    /// Singles per channel of the pairs.
    var singles: [TagChannel: Int64] { singlesCounter.counts }
    /// The pairs' cross-correlation histograms.
    var histograms: [CorrelationHistogram] { pairVisitor.histograms }
}

extension LinkAnalysis {
    /// The cross-correlation histograms of the pairs so far (engine channel numbers).
    public var histograms: [CorrelationHistogram] { counters.histograms }

    /// The results at the link time analysed so far (complete after ``finish()``).
    public func snapshot() -> LinkAnalysisSnapshot {
        if let heraldReadouts {
            var snapshot = heraldReadouts.snapshot(unlabelled: unlabelledEvents)
            snapshot.clock = clockStatus
            snapshot.unmappedEvents = unmappedEvents
            return snapshot
        }
        let duration = max(0, (lastPs ?? 0) - (firstPs ?? 0))
        var snapshot = LinkAnalysisSnapshot(durationPs: duration)
        snapshot.linkTimePs = lastPs
        snapshot.clock = clockStatus
        snapshot.unlabelledEvents = unlabelledEvents
        snapshot.unmappedEvents = unmappedEvents
        let singles = counters.singles
        let seconds = Double(duration) * 1e-12
        var seen = Set<TagChannel>()
        for pair in configuration.pairs {
            for channel in [pair.first, pair.second] where seen.insert(channel).inserted {
                let count = singles[channel] ?? 0
                let original = configuration.labChannel(channel)
                var entry = LinkAnalysisSnapshot.Singles(channel: original.channel, counts: count, rateHz: seconds > 0 ? Double(count) / seconds : 0)
                entry.lab = original.lab
                snapshot.singles.append(entry)
            }
        }
        snapshot.singles.sort { ($0.lab ?? "", $0.channel) < ($1.lab ?? "", $1.channel) }
        let counts = counters.counts
        let perPair = counters.specsPerPair
        let built = counters.histograms
        for (index, pair) in configuration.pairs.enumerated() {
            let spec = counters.specs[index * perPair]
            let raw = counts[index * perPair]
            var result = LinkAnalysisSnapshot.PairResult(pair: ChannelPair(configuration.labChannel(pair.first).channel,
                                                                           configuration.labChannel(pair.second).channel),
                                                         window: spec.window, rawCoincidences: raw)
            result.accidentalsFromSingles = try? Accidentals.fromSingles(singlesA: singles[pair.first] ?? 0, singlesB: singles[pair.second] ?? 0,
                                                                         windowPs: spec.window.widthPs, durationPs: duration)
            if let side = try? Accidentals.fromSideWindows(Array(counts[(index * perPair + 1)..<((index + 1) * perPair)])) {
                result.accidentalsFromSideWindows = side
                result.accidentalSubtracted = Accidentals.subtracted(raw: raw, accidentals: side)
                result.car = try? Accidentals.car(raw: raw, accidentals: side.value > 0 ? side : (result.accidentalsFromSingles ?? side))
            }
            if let delay = try? DelayCalibration.findDelay(built[index]) {
                result.delayPs = delay.delayPs
                result.g2Zero = try? Accidentals.g2Zero(histogram: built[index], centerPs: Int64(delay.delayPs.rounded()),
                                                        halfWidthPs: max(configuration.windowHalfWidthPs, built[index].binWidthPs),
                                                        sideOffsetPs: -built[index].startPs / 2)
            }
            snapshot.pairs.append(result)
        }
        if let bases = counters.bases { addBases(bases.results(durationPs: duration), to: &snapshot) }
        if let heralded = counters.heralded {
            for result in heralded.results {
                snapshot.heralded.append(.init(state: result.state, heralds: result.heralds, heraldsWithOutcomes: result.heraldsWithOutcomes,
                                               settings: result.settings, durationPs: duration))
            }
            snapshot.poolHeraldedQBER()
        }
        return snapshot
    }

    private func addBases(_ settings: [SettingCounts], to snapshot: inout LinkAnalysisSnapshot) {
        for setting in settings {
            let label = "\(setting.basisA)\(setting.basisB)"
            if let e = try? setting.correlation(.raw) { snapshot.bases.append(.init(basis: label, countBasis: .raw, correlation: e)) }
            if let e = try? setting.correlation(.accidentalSubtracted) {
                snapshot.bases.append(.init(basis: label, countBasis: .accidentalSubtracted, correlation: e))
            }
        }
        let target = configuration.target, replicates = configuration.bootstrapReplicates
        let cells = settings.flatMap(\.counts.cells)
        snapshot.targetState = target
        snapshot.fidelityCountBasis = .raw
        snapshot.fidelity = SettingEstimates.fidelity(settings, to: target, .raw).map { estimate in
            replicates == 0 ? estimate : Bootstrap.interval(for: estimate, counts: cells, replicates: replicates) { sample in
                SettingEstimates.fidelity(BootstrapReplicate.resampled(settings, sample), to: target, .raw)?.value
            }
        }
        snapshot.fidelityLowerBound = SettingEstimates.fidelityLowerBound(settings, to: target, .raw).map { estimate in
            replicates == 0 ? estimate : Bootstrap.interval(for: estimate, counts: cells, replicates: replicates) { sample in
                SettingEstimates.fidelityLowerBound(BootstrapReplicate.resampled(settings, sample), to: target, .raw)?.value
            }
        }
        snapshot.fidelityAccidentalSubtracted = SettingEstimates.fidelity(settings, to: target, .accidentalSubtracted)
        for basis in ["Z", "X"] {
            for countBasis in [CountBasis.raw, .accidentalSubtracted] {
                if let qber = SettingEstimates.qber(settings, basis: basis, to: target, countBasis, durationPs: snapshot.durationPs) {
                    snapshot.qber.append(qber)
                }
            }
        }
        if let chsh = configuration.chsh, let s = SettingEstimates.chsh(settings, chsh, .raw) {
            snapshot.chsh = replicates == 0 ? s : Bootstrap.interval(for: s, counts: cells, replicates: replicates) { sample in
                SettingEstimates.chsh(BootstrapReplicate.resampled(settings, sample), chsh, .raw)?.value
            }
            snapshot.chshCountBasis = .raw
            snapshot.chshAccidentalSubtracted = SettingEstimates.chsh(settings, chsh, .accidentalSubtracted)
        }
    }

    /// The clock relation now (nil with one stream); cheaper than a whole ``snapshot()``.
    public var clockStatus: LinkClockStatus? {
        return configuration.twoLabs ? clock.status : nil
    }
}

/// Rebuilds per-setting counts from one Poisson-bootstrap replicate of their cells.
enum BootstrapReplicate {
    /// `settings` with their four raw cells replaced, in order, by `cells` (a bootstrap replicate).
    static func resampled(_ settings: [SettingCounts], _ cells: [Double]) -> [SettingCounts] {
        var result = settings
        for index in result.indices where cells.count >= 4 * (index + 1) {
            let c = cells[(4 * index)..<(4 * index + 4)].map { $0 }
            result[index].counts = JointCounts(plusPlus: c[0], plusMinus: c[1], minusPlus: c[2], minusMinus: c[3])
        }
        return result
    }
}
