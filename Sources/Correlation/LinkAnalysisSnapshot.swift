import TimeTags
import LinkModel

/// What ``LinkAnalysis`` reports at one link time — for files (`qlink correlate`) and live links (the
/// coordinator) alike: singles, coincidences and accidentals per pair, correlations per basis pair, fidelity
/// (exact and the Z/X lower bound, kept apart), CHSH S, heralded results and the clock relation. Rendered by
/// ``LinkAnalysisFormat``; encodes as JSON.
public struct LinkAnalysisSnapshot: Sendable, Codable, Equatable {
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

    /// Time spanned by the analysed events on lab A's axis (last − first), ps.
    public var durationPs: Int64
    /// Lab A time through which both labs have been analysed (monotonic; nil before the first event), ps.
    public var linkTimePs: Int64?
    public var singles: [Singles] = []
    public var pairs: [PairResult] = []
    /// The clock relation of lab B to lab A (nil with one stream).
    public var clock: LinkClockStatus?
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
    /// QBER in Z and X against ``targetState`` with the sifted coincidences, raw and accidental-subtracted (``QBERResult``);
    /// on a heralded link raw only, each herald state against its own Bell state, pooled over the states
    /// (``QBERResult/pooled(_:basis:durationPs:)``; per state in ``HeraldedResult/qber``).
    public var qber: [QBERResult] = []

    /// Heralded-mode results, one per heralded state.
    public var heralded: [HeraldedResult] = []
    /// Two-qubit tomography, when asked for (`qlink correlate --tomography`): of all coincidences, or per
    /// herald state on heralded links.
    public var tomography: [LinkTomography]?
    /// Sets of counts whose tomography failed (the fit, the bootstrap or the detectors), with the reason; the live
    /// analysis reports them here rather than leaving the tomography silently out.
    public var tomographyFailures: [TomographyFailure]?
    /// Outcome events dropped because their lab had no basis yet (before its first marker or segment).
    public var unlabelledEvents: Int64 = 0
    /// Events left out because no clock mapping covered them (before lock, or never locked).
    public var unmappedEvents: Int64 = 0
    /// Live links: tags skipped because their batch went back in time.
    public var lateEvents: Int64 = 0

    /// The fidelity to report: the exact one when Z, X and Y were measured, else the Z/X lower bound (flagged).
    public var reportedFidelity: (estimate: Estimate, isLowerBound: Bool)? {
        if let fidelity { return (fidelity, false) }
        return fidelityLowerBound.map { ($0, true) }
    }
    /// Heralded link: heralds whose outcomes both labs recorded, over all herald states.
    public var heraldsWithOutcomes: Int64 { heralded.reduce(0) { $0 + $1.heraldsWithOutcomes } }

    /// Raw coincidences summed over the pairs.
    public var coincidences: Int64 { pairs.reduce(0) { $0 + $1.rawCoincidences } }
    /// Accidentals summed over the pairs (side windows where they saw any, else from singles).
    public var accidentals: Estimate? {
        let each = pairs.compactMap { pair in
            pair.accidentalsFromSideWindows.flatMap { $0.value > 0 ? $0 : nil } ?? pair.accidentalsFromSingles
        }
        guard !each.isEmpty else { return nil }
        return Estimate(each.reduce(0) { $0 + $1.value },
                        standardError: each.reduce(0) { $0 + $1.standardError * $1.standardError }.squareRoot())
    }
    /// Coincidences-to-accidentals ratio over all pairs.
    public var car: Estimate? {
        guard let accidentals, accidentals.value > 0 else { return nil }
        return try? Accidentals.car(raw: coincidences, accidentals: accidentals)
    }

    /// Results for one heralded state.
    public struct HeraldedResult: Sendable, Codable, Equatable {
        public var state: BellState
        public var heralds: Int64
        public var heraldsWithOutcomes: Int64
        public var bases: [BasisResult]
        public var fidelity: Estimate?
        public var fidelityLowerBound: Estimate?
        /// QBER in Z and X of this state's heralds against ``state`` (raw counts), when both labs measured the basis.
        public var qber: [QBERResult]?
        public init(state: BellState, heralds: Int64, heraldsWithOutcomes: Int64, bases: [BasisResult]) {
            self.state = state; self.heralds = heralds; self.heraldsWithOutcomes = heraldsWithOutcomes; self.bases = bases
        }

        /// The results of heralds of `state` from their joint outcome counts `settings` over `durationPs`: correlation
        /// per basis pair, fidelity (and its Z/X bound) and QBER in Z and X, each against `state` (raw counts).
        public init(state: BellState, heralds: Int64, heraldsWithOutcomes: Int64, settings: [SettingCounts], durationPs: Int64) {
            self.init(state: state, heralds: heralds, heraldsWithOutcomes: heraldsWithOutcomes, bases: [])
            for setting in settings {
                if let e = try? setting.correlation(.raw) {
                    bases.append(.init(basis: "\(setting.basisA)\(setting.basisB)", countBasis: .raw, correlation: e))
                }
            }
            fidelity = SettingEstimates.fidelity(settings, to: state, .raw)
            fidelityLowerBound = SettingEstimates.fidelityLowerBound(settings, to: state, .raw)
            let qber = ["Z", "X"].compactMap { SettingEstimates.qber(settings, basis: $0, to: state, .raw, durationPs: durationPs) }
            self.qber = qber.isEmpty ? nil : qber
        }
    }

    /// Heralded link: appends to ``qber`` the raw QBER of Z and X pooled over the herald states in ``heralded``.
    public mutating func poolHeraldedQBER() {
        let perState = heralded.flatMap { $0.qber ?? [] }
        for basis in ["Z", "X"] {
            if let pooled = QBERResult.pooled(perState, basis: basis, durationPs: durationPs) { qber.append(pooled) }
        }
    }

    public init(durationPs: Int64) { self.durationPs = durationPs }
}

/// The clock relation of lab B to lab A in a ``LinkAnalysisSnapshot``.
public struct LinkClockStatus: Sendable, Codable, Equatable {
    /// Whether lab B's times can be mapped onto lab A's axis.
    public enum Lock: String, Sendable, Codable {
        /// A shared reference: nothing to recover, the offset is given.
        case shared
        /// No lock yet (acquisition is gathering data or searching).
        case acquiring
        /// Locked: lab B's events are mapped through the tracked offset and drift.
        case locked
        /// Lock was lost at ``LinkClockStatus/lostSincePs``; re-acquiring.
        case lost
    }

    /// The lock state.
    public var lock: Lock
    /// Lab A time at which lock was lost (with ``Lock/lost``), ps.
    public var lostSincePs: Int64?
    /// Lab A time the offset and drift refer to, ps.
    public var atPs: Int64?
    /// Offset t_B − t_A at ``atPs``, ps.
    public var offsetPs: Estimate?
    /// Fractional frequency difference of lab B against lab A, ppm.
    public var driftPpm: Estimate?
    /// RMS of the pairs' lags around the track (both labs' jitter plus tracking error), ps.
    public var residualRmsPs: Double?
    /// The latest offset minus the one predicted from the previous estimate (offset plus drift times the time
    /// since), or the step found on re-acquisition, ps.
    public var residualPs: Double?
    /// Clock measurements so far (0 with a shared reference).
    public var measurements = 0
    /// Lock events in order (acquired, lost, re-acquired), as readable lines.
    public var events: [String] = []

    /// A status in state `lock`.
    public init(lock: Lock) { self.lock = lock }
}
