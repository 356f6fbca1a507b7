import TimeTags

/// Everything a correlation run reports, ready to print or encode as JSON.
public struct CorrelationSummary: Sendable, Codable, Equatable {
    /// Singles of one channel.
    public struct Singles: Sendable, Codable, Equatable {
        public var channel: TagChannel
        public var counts: Int64
        public var rateHz: Double
        /// The lab (or file) the channel belongs to, when known.
        public var lab: String?
        public init(channel: TagChannel, counts: Int64, rateHz: Double) {
            self.channel = channel; self.counts = counts; self.rateHz = rateHz
        }
    }

    /// Coincidences of one channel pair, raw and accidental-subtracted.
    public struct PairResult: Sendable, Codable, Equatable {
        public var pair: ChannelPair
        public var window: CoincidenceWindow
        public var delayPs: Double?
        public var rawCoincidences: Int64
        public var accidentalsFromSingles: Estimate?
        public var accidentalsFromSideWindows: Estimate?
        /// Raw minus accidentals (side-window estimate when present, else from singles).
        public var accidentalSubtracted: Estimate?
        public var car: Estimate?
        /// g²(0) from the histogram: peak over side level.
        public var g2Zero: Estimate?
        public init(pair: ChannelPair, window: CoincidenceWindow, rawCoincidences: Int64) {
            self.pair = pair; self.window = window; self.rawCoincidences = rawCoincidences
        }
    }

    /// A correlation in one basis.
    public struct BasisResult: Sendable, Codable, Equatable {
        public var basis: String
        public var countBasis: CountBasis
        public var correlation: Estimate
        public var visibility: Estimate
        public init(basis: String, countBasis: CountBasis, correlation: Estimate) {
            self.basis = basis; self.countBasis = countBasis; self.correlation = correlation
            visibility = Estimate(abs(correlation.value), standardError: correlation.standardError)
        }
    }

    public var durationPs: Int64
    public var singles: [Singles] = []
    public var pairs: [PairResult] = []
    /// Clock relation: offset, drift and jitter when recovered.
    public var clockOffsetPs: Double?
    public var clockDriftPpm: Double?
    public var clockResidualJitterPs: Double?
    public var sharedReference: Bool = false
    public var bases: [BasisResult] = []
    public var targetState: BellState?
    public var fidelity: Estimate?
    public var fidelityLowerBound: Estimate?
    public var fidelityCountBasis: CountBasis?
    public var chsh: Estimate?
    public var chshCountBasis: CountBasis?
    /// Fidelity and CHSH S with accidentals (from singles, per outcome cell) subtracted, when computed.
    public var fidelityAccidentalSubtracted: Estimate?
    public var chshAccidentalSubtracted: Estimate?

    /// Heralded-mode results, one per heralded state.
    public var heralded: [HeraldedResult] = []
    /// Number of clock-tracking measurements through the run.
    public var clockSamples: Int?

    /// Results for one heralded state.
    public struct HeraldedResult: Sendable, Codable, Equatable {
        public var state: BellState
        public var heralds: Int64
        public var heraldsWithOutcomes: Int64
        public var bases: [BasisResult]
        public var fidelity: Estimate?
        public var fidelityLowerBound: Estimate?
        public init(state: BellState, heralds: Int64, heraldsWithOutcomes: Int64, bases: [BasisResult]) {
            self.state = state; self.heralds = heralds; self.heraldsWithOutcomes = heraldsWithOutcomes; self.bases = bases
        }
    }

    public init(durationPs: Int64) { self.durationPs = durationPs }

    /// A readable multi-line report.
    public func text() -> String {
        var lines = ["Duration: \(Double(durationPs) * 1e-12) s"]
        for s in singles {
            lines.append("Singles \(s.lab.map { "\($0) " } ?? "")ch \(s.channel): \(s.counts) (\(Int(s.rateHz.rounded())) Hz)")
        }
        for p in pairs {
            var line = "Pair \(p.pair) window \(p.window): raw \(p.rawCoincidences)"
            if let d = p.delayPs { line += ", delay \(Int(d.rounded())) ps" }
            if let a = p.accidentalsFromSingles { line += ", accidentals (singles) \(a)" }
            if let a = p.accidentalsFromSideWindows { line += ", accidentals (side windows) \(a)" }
            if let s = p.accidentalSubtracted { line += ", accidental-subtracted \(s)" }
            if let c = p.car { line += ", CAR \(c)" }
            if let g = p.g2Zero { line += ", g²(0) \(g)" }
            lines.append(line)
        }
        if sharedReference { lines.append("Clock: shared reference (no recovery)") }
        if let o = clockOffsetPs { lines.append("Clock offset: \(Int(o.rounded())) ps") }
        if let d = clockDriftPpm { lines.append("Clock drift: \((d * 1e4).rounded() / 1e4) ppm" + (clockSamples.map { " (\($0) tracking measurements)" } ?? "")) }
        if let j = clockResidualJitterPs { lines.append("Residual jitter: \(Int(j.rounded())) ps RMS") }
        for b in bases { lines.append("Basis \(b.basis) [\(b.countBasis.rawValue)]: E = \(b.correlation), visibility \(b.visibility)") }
        if let f = fidelity, let state = targetState {
            lines.append("Fidelity to \(state.rawValue) [\(fidelityCountBasis?.rawValue ?? "raw")]: \(f)")
        }
        if let f = fidelityAccidentalSubtracted, let state = targetState {
            lines.append("Fidelity to \(state.rawValue) [\(CountBasis.accidentalSubtracted.rawValue)]: \(f)")
        }
        if let f = fidelityLowerBound { lines.append("Fidelity lower bound (Z, X) [\(fidelityCountBasis?.rawValue ?? "raw")]: \(f)") }
        if let s = chsh { lines.append("CHSH S [\(chshCountBasis?.rawValue ?? "raw")]: \(s)") }
        if let s = chshAccidentalSubtracted { lines.append("CHSH S [\(CountBasis.accidentalSubtracted.rawValue)]: \(s)") }
        for h in heralded {
            lines.append("Heralded \(h.state.rawValue): \(h.heralds) heralds, \(h.heraldsWithOutcomes) with one outcome in each lab")
            for b in h.bases { lines.append("  Basis \(b.basis) [\(b.countBasis.rawValue)]: E = \(b.correlation)") }
            if let f = h.fidelity { lines.append("  Fidelity to \(h.state.rawValue) [raw]: \(f)") }
            if let f = h.fidelityLowerBound { lines.append("  Fidelity lower bound (Z, X) [raw]: \(f)") }
        }
        return lines.joined(separator: "\n")
    }
}
