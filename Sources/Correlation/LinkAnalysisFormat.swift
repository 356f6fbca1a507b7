/// The one rendering of a ``LinkAnalysisSnapshot`` for people (``text(_:)``) and spreadsheets (``csv(_:)``).
/// Lower bounds are printed as bounds ("F ≥ 0.899 ± 0.003 (Z/X bound)"), never as values.
public enum LinkAnalysisFormat {
    /// A readable multi-line report.
    public static func text(_ s: LinkAnalysisSnapshot) -> String {
        var lines = ["Duration: \(Double(s.durationPs) * 1e-12) s" + (s.linkTimePs.map { ", analysed through link time \(seconds($0)) s" } ?? "")]
        for single in s.singles {
            lines.append("Singles \(single.lab.map { "\($0) " } ?? "")ch \(single.channel): \(single.counts) (\(Int(single.rateHz.rounded())) Hz)")
        }
        for p in s.pairs {
            var line = "Pair \(p.pair) window \(p.window): raw \(p.rawCoincidences)"
            if let d = p.delayPs { line += ", delay \(Int(d.rounded())) ps" }
            if let a = p.accidentalsFromSingles { line += ", accidentals (singles) \(a)" }
            if let a = p.accidentalsFromSideWindows { line += ", accidentals (side windows) \(a)" }
            if let a = p.accidentalSubtracted { line += ", accidental-subtracted \(a)" }
            if let c = p.car { line += ", CAR \(c)" }
            if let g = p.g2Zero { line += ", g²(0) \(g)" }
            lines.append(line)
        }
        if let clock = s.clock { lines += clockLines(clock) }
        if s.unlabelledEvents > 0 { lines.append("Outcome events without a basis yet (dropped): \(s.unlabelledEvents)") }
        if s.unmappedEvents > 0 { lines.append("Events no clock lock covered (not analysed): \(s.unmappedEvents)") }
        for b in s.bases { lines.append("Basis \(b.basis) [\(b.countBasis.rawValue)]: E = \(b.correlation), visibility \(b.visibility)") }
        if let state = s.targetState {
            let basis = s.fidelityCountBasis?.rawValue ?? "raw"
            if let f = s.fidelity { lines.append("Fidelity to \(state.rawValue) [\(basis)]: \(fidelity(f, isLowerBound: false))") }
            if let f = s.fidelityAccidentalSubtracted {
                lines.append("Fidelity to \(state.rawValue) [\(CountBasis.accidentalSubtracted.rawValue)]: \(fidelity(f, isLowerBound: false))")
            }
            if let f = s.fidelityLowerBound { lines.append("Fidelity to \(state.rawValue) [\(basis)]: \(bound(f))") }
        }
        if s.targetState == nil, let (f, isBound) = s.reportedFidelity {
            lines.append("Fidelity to the heralded states (weighted by heralds) [raw]: \(fidelity(f, isLowerBound: isBound))")
        }
        if s.lateEvents > 0 { lines.append("Tags behind the analysed time (skipped): \(s.lateEvents)") }
        if let chsh = s.chsh { lines.append("CHSH S [\(s.chshCountBasis?.rawValue ?? "raw")]: \(chsh)") }
        if let chsh = s.chshAccidentalSubtracted { lines.append("CHSH S [\(CountBasis.accidentalSubtracted.rawValue)]: \(chsh)") }
        for h in s.heralded {
            lines.append("Heralded \(h.state.rawValue): \(h.heralds) heralds, \(h.heraldsWithOutcomes) with one outcome in each lab")
            for b in h.bases { lines.append("  Basis \(b.basis) [\(b.countBasis.rawValue)]: E = \(b.correlation)") }
            if let f = h.fidelity { lines.append("  Fidelity to \(h.state.rawValue) [raw]: \(fidelity(f, isLowerBound: false))") }
            if let f = h.fidelityLowerBound { lines.append("  Fidelity to \(h.state.rawValue) [raw]: \(bound(f))") }
        }
        return lines.joined(separator: "\n")
    }

    /// A fidelity lower bound from Z and X: "F ≥ 0.899 ± 0.003 (Z/X bound)".
    public static func bound(_ f: Estimate) -> String { fidelity(f, isLowerBound: true) }

    /// A fidelity as measured ("F = 0.95 ± 0.01") or as the Z/X lower bound ("F ≥ 0.899 ± 0.003 (Z/X bound)").
    public static func fidelity(_ f: Estimate, isLowerBound: Bool) -> String {
        isLowerBound ? "F ≥ \(f) (Z/X bound)" : "F = \(f)"
    }

    /// The clock lines of the report.
    static func clockLines(_ clock: LinkClockStatus) -> [String] {
        var lines: [String] = []
        switch clock.lock {
        case .shared: lines.append("Clock: shared reference (no recovery)")
        case .acquiring: lines.append("Clock: acquiring (no lock yet)")
        case .locked: lines.append("Clock: locked (\(clock.measurements) measurements)")
        case .lost: lines.append("Clock: LOST since link time \(clock.lostSincePs.map(seconds) ?? "?") s, re-acquiring")
        }
        if let offset = clock.offsetPs {
            lines.append("Clock offset t_B − t_A: \(offset) ps" + (clock.atPs.map { " at link time \(seconds($0)) s" } ?? ""))
        }
        if let drift = clock.driftPpm, clock.lock != .shared { lines.append("Clock drift: \(drift) ppm") }
        if let rms = clock.residualRmsPs { lines.append("Clock residual: \(Int(rms.rounded())) ps RMS") }
        lines += clock.events.map { "Clock event: \($0)" }
        return lines
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
        add("chsh", "S", s.chsh, s.chshCountBasis)
        add("chsh", "S", s.chshAccidentalSubtracted, .accidentalSubtracted)
        for h in s.heralded {
            lines.append("heralded,\(h.state.rawValue)_heralds,\(h.heralds),,")
            for b in h.bases { add("heralded", "\(h.state.rawValue)_E_\(b.basis)", b.correlation, b.countBasis) }
            add("heralded", "\(h.state.rawValue)_fidelity", h.fidelity, .raw)
            add("heralded", "\(h.state.rawValue)_lower_bound_zx", h.fidelityLowerBound, .raw)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
