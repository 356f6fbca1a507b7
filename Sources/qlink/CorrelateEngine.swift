import Correlation
import Foundation
import Logging
import TimeTags

/// What clock recovery found (or the declared shared reference).
struct ClockOutcome {
    var shared = false
    var offsetPs: Double?
    var driftPpm: Double?
    var jitterPs: Double?
    var samples: Int?
}

/// The summary and the histograms of a run.
struct CorrelationOutcome {
    var summary: CorrelationSummary
    var histograms: [CorrelationHistogram]
}

/// The counters fed by the merged stream: coincidences with side windows, histograms, per-basis
/// correlations and heralded counts.
struct CorrelationEngine {
    let setup: CorrelationSetup
    let sideWindows: Int = 2
    private var counter: CoincidenceCounter
    private var histograms: HistogramBuilder
    private var bases: BasisCorrelationCounter?
    private var heralded: HeraldedCounter?
    private var firstPs: Int64?
    private var lastPs: Int64?

    init(setup: CorrelationSetup, rangePs: Int64, binPs: Int64) throws {
        self.setup = setup
        let window = try CoincidenceWindow(halfWidthPs: setup.windowPs)
        let spacing = max(rangePs / 4, 4 * window.widthPs)
        var specs: [CoincidenceSpec] = []
        for pair in setup.pairs {
            let main = CoincidenceSpec(pair, window: window)
            specs.append(main)
            specs += Accidentals.sideWindows(of: main, count: sideWindows, spacingPs: spacing)
        }
        counter = try CoincidenceCounter(specs: specs)
        histograms = try HistogramBuilder(histograms: setup.pairs.map {
            try CorrelationHistogram(pair: $0, rangePs: rangePs, binWidthPs: binPs)
        })
        if let labeler = try setup.makeLabeler() {
            bases = try BasisCorrelationCounter(outcomeChannels: labeler.outcomeChannels, window: window)
            if !setup.heraldPatterns.isEmpty, let windowA = setup.heraldWindowA, let windowB = setup.heraldWindowB {
                heralded = try HeraldedCounter(patterns: setup.heraldPatterns, windowA: windowA, windowB: windowB,
                                               outcomeChannels: labeler.outcomeChannels)
            }
        }
    }

    mutating func process(_ batch: TagBatch) throws {
        guard let first = batch.timesPs.first, let last = batch.timesPs.last else { return }
        if firstPs == nil { firstPs = first }
        lastPs = last
        try counter.process(batch)
        try histograms.process(batch)
        try bases?.process(batch)
        try heralded?.process(batch)
    }

    mutating func finish(clock: ClockOutcome, logger: Logger) throws -> CorrelationOutcome {
        counter.finish(); histograms.finish(); bases?.finish(); heralded?.finish()
        guard let first = firstPs, let last = lastPs, last > first else {
            throw CorrelateFailure("the files hold fewer than two events on a common time axis")
        }
        let duration = last - first
        var summary = CorrelationSummary(durationPs: duration)
        summary.sharedReference = clock.shared
        summary.clockOffsetPs = clock.offsetPs
        summary.clockDriftPpm = clock.driftPpm
        summary.clockResidualJitterPs = clock.jitterPs
        summary.clockSamples = clock.samples
        let singles = counter.singles
        var seen = Set<TagChannel>()
        for pair in setup.pairs {
            for channel in [pair.first, pair.second] where seen.insert(channel).inserted {
                let count = singles[channel] ?? 0
                let original = setup.original(channel)
                guard count > 0 else {
                    throw CorrelateFailure("channel \(original.channel)\(original.lab.map { " (\($0))" } ?? "") has no events in the file; check --pairs and the file's channels (qlink tags info FILE)")
                }
                summary.singles.append(.init(channel: original.channel, counts: count, rateHz: Double(count) / (Double(duration) * 1e-12)))
                summary.singles[summary.singles.count - 1].lab = original.lab
            }
        }
        summary.singles.sort { ($0.lab ?? "", $0.channel) < ($1.lab ?? "", $1.channel) }
        let counts = counter.counts
        let perPair = 1 + 2 * sideWindows
        let built = histograms.histograms
        for (index, pair) in setup.pairs.enumerated() {
            let spec = counter.specs[index * perPair]
            let raw = counts[index * perPair]
            var result = CorrelationSummary.PairResult(pair: ChannelPair(setup.original(pair.first).channel, setup.original(pair.second).channel),
                                                       window: spec.window, rawCoincidences: raw)
            result.accidentalsFromSingles = try? Accidentals.fromSingles(singlesA: singles[pair.first] ?? 0, singlesB: singles[pair.second] ?? 0,
                                                                         windowPs: spec.window.widthPs, durationPs: duration)
            let side = try Accidentals.fromSideWindows(Array(counts[(index * perPair + 1)..<((index + 1) * perPair)]))
            result.accidentalsFromSideWindows = side
            result.accidentalSubtracted = Accidentals.subtracted(raw: raw, accidentals: side)
            result.car = try? Accidentals.car(raw: raw, accidentals: side.value > 0 ? side : (result.accidentalsFromSingles ?? side))
            if let delay = try? DelayCalibration.findDelay(built[index]) {
                result.delayPs = delay.delayPs
                result.g2Zero = try? Accidentals.g2Zero(histogram: built[index], centerPs: Int64(delay.delayPs.rounded()),
                                                        halfWidthPs: max(setup.windowPs, built[index].binWidthPs),
                                                        sideOffsetPs: -built[index].startPs / 2)
            }
            summary.pairs.append(result)
        }
        if let bases {
            let settings = bases.results(durationPs: duration)
            for setting in settings {
                let label = "\(setting.basisA)\(setting.basisB)"
                if let e = try? setting.correlation(.raw) { summary.bases.append(.init(basis: label, countBasis: .raw, correlation: e)) }
                if let e = try? setting.correlation(.accidentalSubtracted) {
                    summary.bases.append(.init(basis: label, countBasis: .accidentalSubtracted, correlation: e))
                }
            }
            summary.targetState = setup.target
            summary.fidelity = SettingEstimates.fidelity(settings, to: setup.target, .raw)
            summary.fidelityLowerBound = SettingEstimates.fidelityLowerBound(settings, to: setup.target, .raw)
            summary.fidelityCountBasis = .raw
            summary.fidelityAccidentalSubtracted = SettingEstimates.fidelity(settings, to: setup.target, .accidentalSubtracted)
            if let chsh = setup.chsh, let s = SettingEstimates.chsh(settings, chsh, .raw) {
                summary.chsh = s
                summary.chshCountBasis = .raw
                summary.chshAccidentalSubtracted = SettingEstimates.chsh(settings, chsh, .accidentalSubtracted)
            }
        }
        if let heralded {
            for result in heralded.results {
                var entry = CorrelationSummary.HeraldedResult(state: result.state, heralds: result.heralds,
                                                              heraldsWithOutcomes: result.heraldsWithOutcomes, bases: [])
                for setting in result.settings {
                    if let e = try? setting.correlation(.raw) {
                        entry.bases.append(.init(basis: "\(setting.basisA)\(setting.basisB)", countBasis: .raw, correlation: e))
                    }
                }
                entry.fidelity = SettingEstimates.fidelity(result.settings, to: result.state, .raw)
                entry.fidelityLowerBound = SettingEstimates.fidelityLowerBound(result.settings, to: result.state, .raw)
                summary.heralded.append(entry)
            }
        }
        logger.debug("correlate.done", metadata: ["correlate.duration_ps": "\(duration)", "correlate.pairs": "\(setup.pairs.count)"])
        return CorrelationOutcome(summary: summary, histograms: built)
    }
}

/// The summary as CSV: one line per number, `section,name,value,standard_error,count_basis`.
enum CorrelateCSV {
    static func text(_ s: CorrelationSummary) -> String {
        var lines = ["section,name,value,standard_error,count_basis", "run,duration_ps,\(s.durationPs),,"]
        func add(_ section: String, _ name: String, _ e: Estimate?, _ basis: CountBasis? = nil) {
            guard let e else { return }
            lines.append("\(section),\(name),\(e.value),\(e.standardError),\(basis?.rawValue ?? "")")
        }
        for single in s.singles {
            let name = "\(single.lab.map { "\($0)_" } ?? "")ch\(single.channel)"
            lines.append("singles,\(name)_counts,\(single.counts),,")
            lines.append("singles,\(name)_rate_hz,\(single.rateHz),,")
        }
        for p in s.pairs {
            let name = "\(p.pair.first)_\(p.pair.second)"
            lines.append("pair,\(name)_raw,\(p.rawCoincidences),,raw")
            if let d = p.delayPs { lines.append("pair,\(name)_delay_ps,\(d),,") }
            add("pair", "\(name)_accidentals_singles", p.accidentalsFromSingles)
            add("pair", "\(name)_accidentals_side_windows", p.accidentalsFromSideWindows)
            add("pair", "\(name)_subtracted", p.accidentalSubtracted, .accidentalSubtracted)
            add("pair", "\(name)_car", p.car, .raw)
            add("pair", "\(name)_g2_zero", p.g2Zero, .raw)
        }
        if let o = s.clockOffsetPs { lines.append("clock,offset_ps,\(o),,") }
        if let d = s.clockDriftPpm { lines.append("clock,drift_ppm,\(d),,") }
        if let j = s.clockResidualJitterPs { lines.append("clock,residual_jitter_ps,\(j),,") }
        for b in s.bases { add("basis", "E_\(b.basis)", b.correlation, b.countBasis) }
        if let state = s.targetState { add("fidelity", state.rawValue, s.fidelity, s.fidelityCountBasis) }
        if let state = s.targetState { add("fidelity", "\(state.rawValue)_lower_bound_zx", s.fidelityLowerBound, s.fidelityCountBasis) }
        if let state = s.targetState { add("fidelity", state.rawValue, s.fidelityAccidentalSubtracted, .accidentalSubtracted) }
        add("chsh", "S", s.chsh, s.chshCountBasis)
        add("chsh", "S", s.chshAccidentalSubtracted, .accidentalSubtracted)
        for h in s.heralded {
            lines.append("heralded,\(h.state.rawValue)_heralds,\(h.heralds),,")
            for b in h.bases { add("heralded", "\(h.state.rawValue)_E_\(b.basis)", b.correlation, b.countBasis) }
            add("heralded", "\(h.state.rawValue)_fidelity", h.fidelity, .raw)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
