import LinkModel

/// The quantum bit error rate of one basis: the fraction of sifted coincidences (both labs measured `basis`)
/// whose outcomes disagree with the target Bell state's correlation in that basis.
///
/// From the basis's correlation E and the target's sign s (``BellState/signs``): e = (1 − s·E)/2, with standard
/// error σ_E/2; raw, or with the accidentals subtracted cell by cell like the rest of the snapshot.
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
