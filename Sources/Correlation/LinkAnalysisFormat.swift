import Plotting

/// The one rendering of a ``LinkAnalysisSnapshot``: ``rows(_:)`` makes each label and value once; ``text(_:)``
/// (terminals: `qlink correlate`, `qlink status`, the demo summary), ``html(_:)`` (`report.html`) and the
/// dashboard (the rows travel in `/status`) show those rows; ``csv(_:)`` is for spreadsheets.
/// Lower bounds are printed as bounds ("F ≥ 0.899 ± 0.003 (Z/X bound)"), never as values.
public enum LinkAnalysisFormat {
    /// One line of the rendering: what is shown ("CHSH S [raw]") and its value with units and standard error.
    public struct Row: Sendable, Codable, Equatable {
        public var label: String
        public var value: String
        public init(label: String, value: String) {
            self.label = label
            self.value = value
        }
    }

    /// A readable multi-line report: one `label: value` line per row.
    public static func text(_ s: LinkAnalysisSnapshot) -> String {
        rows(s).map { "\($0.label): \($0.value)" }.joined(separator: "\n")
    }

    /// The rows as an HTML table (`<table class="analysis">`), text escaped.
    public static func html(_ s: LinkAnalysisSnapshot) -> String {
        let body = rows(s).map { "<tr><td>\(SVGPlot.escape($0.label))</td><td>\(SVGPlot.escape($0.value))</td></tr>" }.joined(separator: "\n")
        return "<table class=\"analysis\">\n\(body)\n</table>"
    }

    /// Every label and value of the snapshot, in reading order.
    public static func rows(_ s: LinkAnalysisSnapshot) -> [Row] {
        var rows = [Row(label: "Duration", value: "\(Double(s.durationPs) * 1e-12) s" + (s.linkTimePs.map { ", analysed through link time \(seconds($0)) s" } ?? ""))]
        func add(_ label: String, _ value: String) { rows.append(Row(label: label, value: value)) }
        for single in s.singles {
            // The rate's Poisson standard error: rate/√N.
            let error = single.counts > 0 ? single.rateHz / Double(single.counts).squareRoot() : 0
            add("Singles \(single.lab.map { "\($0) " } ?? "")ch \(single.channel)",
                "\(single.counts) (\(Int(single.rateHz.rounded())) ± \(Int(error.rounded(.up))) Hz)")
        }
        for p in s.pairs {
            var value = "raw \(p.rawCoincidences)"
            if let d = p.delayPs { value += ", delay \(Int(d.rounded())) ps" }
            if let a = p.accidentalsFromSingles { value += ", accidentals (singles) \(a)" }
            if let a = p.accidentalsFromSideWindows { value += ", accidentals (side windows) \(a)" }
            if let a = p.accidentalSubtracted { value += ", accidental-subtracted \(a)" }
            if let c = p.car { value += ", CAR \(c)" }
            if let g = p.g2Zero { value += ", g²(0) \(g)" }
            add("Pair \(p.pair) window \(p.window)", value)
        }
        if let clock = s.clock { rows += clockRows(clock) }
        if s.unlabelledEvents > 0 { add("Outcome events without a basis yet (dropped)", "\(s.unlabelledEvents)") }
        if s.unmappedEvents > 0 { add("Events no clock lock covered (not analysed)", "\(s.unmappedEvents)") }
        for b in s.bases { add("Basis \(b.basis) [\(b.countBasis.rawValue)]", "E = \(b.correlation), visibility \(b.visibility)") }
        if let state = s.targetState {
            let basis = s.fidelityCountBasis?.rawValue ?? "raw"
            if let f = s.fidelity { add("Fidelity to \(state.rawValue) [\(basis)]", fidelity(f, isLowerBound: false)) }
            if let f = s.fidelityAccidentalSubtracted {
                add("Fidelity to \(state.rawValue) [\(CountBasis.accidentalSubtracted.rawValue)]", fidelity(f, isLowerBound: false))
            }
            if let f = s.fidelityLowerBound { add("Fidelity to \(state.rawValue) [\(basis)]", bound(f)) }
        }
        if s.targetState == nil, let (f, isBound) = s.reportedFidelity {
            add("Fidelity to the heralded states (weighted by heralds) [raw]", fidelity(f, isLowerBound: isBound))
        }
        for q in s.qber {
            add("QBER \(q.basis) [\(q.countBasis.rawValue)]", "\(q.qber), \(Int(q.siftedCoincidences.rounded())) sifted coincidences (\(q.siftedRateHz) Hz)")
        }
        if s.lateEvents > 0 { add("Tags behind the analysed time (skipped)", "\(s.lateEvents)") }
        if let chsh = s.chsh { add("CHSH S [\(s.chshCountBasis?.rawValue ?? "raw")]", "\(chsh)") }
        if let chsh = s.chshAccidentalSubtracted { add("CHSH S [\(CountBasis.accidentalSubtracted.rawValue)]", "\(chsh)") }
        for h in s.heralded {
            let state = h.state.rawValue
            add("Heralded \(state)", "\(h.heralds) heralds, \(h.heraldsWithOutcomes) with one outcome in each lab")
            for b in h.bases { add("Heralded \(state), basis \(b.basis) [\(b.countBasis.rawValue)]", "E = \(b.correlation)") }
            if let f = h.fidelity { add("Heralded \(state), fidelity to \(state) [raw]", fidelity(f, isLowerBound: false)) }
            if let f = h.fidelityLowerBound { add("Heralded \(state), fidelity to \(state) [raw]", bound(f)) }
            for q in h.qber ?? [] {
                add("Heralded \(state), QBER \(q.basis) [raw]", "\(q.qber), \(Int(q.siftedCoincidences.rounded())) sifted coincidences")
            }
        }
        for t in s.tomography ?? [] { rows += tomographyRows(t) }
        for f in s.tomographyFailures ?? [] { rows.append(Row(label: "Tomography (\(f.name))", value: "FAILED: \(f.reason)")) }
        return rows
    }

    /// A fidelity lower bound from Z and X: "F ≥ 0.899 ± 0.003 (Z/X bound)".
    public static func bound(_ f: Estimate) -> String { fidelity(f, isLowerBound: true) }

    /// A fidelity as measured ("F = 0.95 ± 0.01") or as the Z/X lower bound ("F ≥ 0.899 ± 0.003 (Z/X bound)").
    public static func fidelity(_ f: Estimate, isLowerBound: Bool) -> String {
        isLowerBound ? "F ≥ \(f) (Z/X bound)" : "F = \(f)"
    }

    /// The clock rows of the report.
    static func clockRows(_ clock: LinkClockStatus) -> [Row] {
        var rows: [Row] = []
        switch clock.lock {
        case .shared: rows.append(Row(label: "Clock", value: "shared reference (no recovery)"))
        case .acquiring: rows.append(Row(label: "Clock", value: "acquiring (no lock yet)"))
        case .locked: rows.append(Row(label: "Clock", value: "locked (\(clock.measurements) measurements)"))
        case .lost: rows.append(Row(label: "Clock", value: "LOST since link time \(clock.lostSincePs.map(seconds) ?? "?") s, re-acquiring"))
        }
        if let offset = clock.offsetPs {
            rows.append(Row(label: "Clock offset t_B − t_A", value: "\(offset) ps" + (clock.atPs.map { " at link time \(seconds($0)) s" } ?? "")))
        }
        if let drift = clock.driftPpm, clock.lock != .shared { rows.append(Row(label: "Clock drift", value: "\(drift) ppm")) }
        if let rms = clock.residualRmsPs { rows.append(Row(label: "Clock residual", value: "\(Int(rms.rounded())) ps RMS")) }
        rows += clock.events.map { Row(label: "Clock event", value: $0) }
        return rows
    }

    static func seconds(_ ps: Int64) -> String { String(Double(ps) * 1e-12) }

    /// The snapshot as CSV: one line per number, `section,name,value,standard_error,count_basis`.
    public static func csv(_ s: LinkAnalysisSnapshot) -> String {
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
        if let clock = s.clock {
            lines.append("clock,lock,\(clock.lock.rawValue),,")
            add("clock", "offset_ps", clock.offsetPs)
            add("clock", "drift_ppm", clock.driftPpm)
            if let at = clock.atPs { lines.append("clock,at_ps,\(at),,") }
            if let rms = clock.residualRmsPs { lines.append("clock,residual_rms_ps,\(rms),,") }
        }
        for b in s.bases { add("basis", "E_\(b.basis)", b.correlation, b.countBasis) }
        if let state = s.targetState {
            add("fidelity", state.rawValue, s.fidelity, s.fidelityCountBasis)
            add("fidelity", "\(state.rawValue)_lower_bound_zx", s.fidelityLowerBound, s.fidelityCountBasis)
            add("fidelity", state.rawValue, s.fidelityAccidentalSubtracted, .accidentalSubtracted)
        }
        for q in s.qber {
            add("qber", q.basis, q.qber, q.countBasis)
            lines.append("qber,\(q.basis)_sifted_rate_hz,\(q.siftedRateHz),,\(q.countBasis.rawValue)")
        }
        add("chsh", "S", s.chsh, s.chshCountBasis)
        add("chsh", "S", s.chshAccidentalSubtracted, .accidentalSubtracted)
        for h in s.heralded {
            lines.append("heralded,\(h.state.rawValue)_heralds,\(h.heralds),,")
            for b in h.bases { add("heralded", "\(h.state.rawValue)_E_\(b.basis)", b.correlation, b.countBasis) }
            add("heralded", "\(h.state.rawValue)_fidelity", h.fidelity, .raw)
            add("heralded", "\(h.state.rawValue)_lower_bound_zx", h.fidelityLowerBound, .raw)
            for q in h.qber ?? [] { add("heralded", "\(h.state.rawValue)_qber_\(q.basis)", q.qber, .raw) }
        }
        for t in s.tomography ?? [] { lines += tomographyCSV(t) }
        return lines.joined(separator: "\n") + "\n"
    }
}
