import LinkModel

/// The quantum bit error rate of one basis: the fraction of sifted coincidences (both labs measured `basis`)
/// whose outcomes disagree with the target Bell state's correlation in that basis.
///
/// From the basis's correlation E and the target's sign s (``BellState/signs``): e = (1 − s·E)/2, with standard
/// error σ_E/2; raw, or with the accidentals subtracted cell by cell like the rest of the snapshot. On heralded links
/// each herald state is compared with its own Bell state and the states are pooled (``pooled(_:durationPs:)``).
public struct QBERResult: Sendable, Codable, Equatable {
    /// `Z` or `X`.
    public var basis: String
    /// Raw counts or accidental-subtracted.
    public var countBasis: CountBasis
    /// The error rate with its standard error.
    public var qber: Estimate
    /// Sifted coincidences: those with both labs in ``basis`` (accidentals subtracted for that count basis).
    public var siftedCoincidences: Double
    /// Sifted coincidences per second of analysed time.
    public var siftedRateHz: Double

    public init(basis: String, countBasis: CountBasis, qber: Estimate, siftedCoincidences: Double, siftedRateHz: Double) {
        self.basis = basis
        self.countBasis = countBasis
        self.qber = qber
        self.siftedCoincidences = siftedCoincidences
        self.siftedRateHz = siftedRateHz
    }
}

extension SettingEstimates {
    /// The QBER of `basis` (`Z` or `X`) against `state` over `durationPs` (nil unless both labs measured it together,
    /// or without accidental estimates for that count basis).
    public static func qber(_ settings: [SettingCounts], basis: String, to state: BellState, _ countBasis: CountBasis,
                            durationPs: Int64) -> QBERResult? {
        guard let cell = settings.first(where: { $0.basisA == basis && $0.basisB == basis }),
              let e = try? cell.correlation(countBasis) else { return nil }
        let sign: Double
        switch basis {
        case "Z": sign = state.signs.z
        case "X": sign = state.signs.x
        case "Y": sign = state.signs.y
        default: return nil
        }
        var sifted = cell.counts.total
        if countBasis == .accidentalSubtracted { sifted -= cell.accidentals?.reduce(0) { $0 + $1.value } ?? 0 }
        let seconds = Double(durationPs) * 1e-12
        return QBERResult(basis: basis, countBasis: countBasis,
                          qber: Estimate((1 - sign * e.value) / 2, standardError: e.standardError / 2),
                          siftedCoincidences: sifted, siftedRateHz: seconds > 0 ? sifted / seconds : 0)
    }
}

extension QBERResult {
    /// Raw QBERs of one basis measured against different targets (on a heralded link: each herald state against its
    /// own Bell state), pooled: the errors and sifted coincidences add up, e = Σ e_s N_s / Σ N_s, with the binomial
    /// standard error √(e(1 − e)/N) (what ``SettingEstimates/qber(_:basis:to:_:durationPs:)`` gives for one target).
    /// Nil without raw results of `basis` or without sifted coincidences.
    public static func pooled(_ results: [QBERResult], basis: String, durationPs: Int64) -> QBERResult? {
        let parts = results.filter { $0.basis == basis && $0.countBasis == .raw }
        let sifted = parts.reduce(0) { $0 + $1.siftedCoincidences }
        guard !parts.isEmpty, sifted > 0 else { return nil }
        let e = parts.reduce(0) { $0 + $1.qber.value * $1.siftedCoincidences } / sifted
        let seconds = Double(durationPs) * 1e-12
        return QBERResult(basis: basis, countBasis: .raw, qber: Estimate(e, standardError: (e * (1 - e) / sifted).squareRoot()),
                          siftedCoincidences: sifted, siftedRateHz: seconds > 0 ? sifted / seconds : 0)
    }
}
