import TimeTags

/// The counters ``LinkAnalysis`` feeds with the merged stream: coincidences with side windows, histograms,
/// joint outcomes per basis pair and heralded outcomes.
///
/// The pairs' coincidences (``CoincidenceVisitor``) and histograms (``HistogramVisitor``) are counted in one scan
/// of the stream (the histogram's span covers the side windows), so each event is looked at once for both.
struct LinkCounters: Sendable {
    let configuration: LinkAnalysisConfiguration
    let outcomeChannels: OutcomeChannels?
    /// The pairs' specifications: per pair the main window, then its side windows.
    let specs: [CoincidenceSpec]
    private var pairScan: NeighborStream<PairScanVisitor>
    private var singlesCounter: SinglesCounter
    private(set) var bases: BasisCorrelationCounter?
    private(set) var heralded: HeraldedCounter?
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
        let visitor = PairScanVisitor(coincidences: CoincidenceVisitor(specs: specs), histograms: HistogramVisitor(histograms: built))
        let coincidenceSpan = specs.map(\.window.reachPs).max() ?? 0
        let histogramSpan = built.map { max(abs($0.startPs), abs($0.endPs - 1)) }.max() ?? 0
        pairScan = NeighborStream(spanPs: max(coincidenceSpan, histogramSpan), visitor: visitor)
        var channels: [TagChannel] = []
        for spec in specs { channels.append(spec.pair.first); channels.append(spec.pair.second) }
        singlesCounter = SinglesCounter(channels: channels)
        if let outcomeChannels {
            bases = try BasisCorrelationCounter(outcomeChannels: outcomeChannels, window: window)
            if let heralds = configuration.heralds, !heralds.patterns.isEmpty {
                heralded = try HeraldedCounter(patterns: heralds.patterns, windowA: heralds.windowA, windowB: heralds.windowB,
                                               outcomeChannels: outcomeChannels)
            }
        }
    }

    /// Counts a chunk of the merged stream (sorted and continuing the previous chunk: the merger's output).
    mutating func process(_ batch: TagBatch) throws(CorrelationError) {
        try pairScan.process(times: batch.timesPs, channels: batch.channels, checkOrder: false)
        singlesCounter.add(batch)
        try bases?.process(batch)
        try heralded?.process(batch)
    }

    mutating func finish() {
        pairScan.finish(); bases?.finish(); heralded?.finish()
    }

    /// Coincidence counts, one per specification (complete after ``finish()``).
    var counts: [Int64] { pairScan.visitor.coincidences.counts }
    /// Singles per channel of the pairs.
    var singles: [TagChannel: Int64] { singlesCounter.counts }
    /// The pairs' cross-correlation histograms.
    var histograms: [CorrelationHistogram] { pairScan.visitor.histograms.histograms }
}

/// The pairs' coincidences and histograms, fed by one neighbour scan.
struct PairScanVisitor: NeighborVisitor, Sendable {
    var coincidences: CoincidenceVisitor
    var histograms: HistogramVisitor

    func emptyCopy() -> PairScanVisitor {
        PairScanVisitor(coincidences: coincidences.emptyCopy(), histograms: histograms.emptyCopy())
    }

    mutating func merge(_ other: PairScanVisitor) {
        coincidences.merge(other.coincidences)
        histograms.merge(other.histograms)
    }

    @inline(__always)
    mutating func visit(earlierChannel: TagChannel, laterChannel: TagChannel, earlierTimePs: Int64, lagPs: Int64) {
        coincidences.visit(earlierChannel: earlierChannel, laterChannel: laterChannel, earlierTimePs: earlierTimePs, lagPs: lagPs)
        histograms.visit(earlierChannel: earlierChannel, laterChannel: laterChannel, earlierTimePs: earlierTimePs, lagPs: lagPs)
    }
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
