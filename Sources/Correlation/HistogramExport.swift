import Plotting

/// Writes histograms as CSV and as g²(τ) plots (SVG).
public enum HistogramExport {
    /// CSV with a header `lag_ps,count` (lag = bin centre), one line per bin.
    public static func csv(_ histogram: CorrelationHistogram) -> String {
        var text = "lag_ps,count\n"
        for index in histogram.counts.indices {
            let center = histogram.startPs + Int64(index) * histogram.binWidthPs + histogram.binWidthPs / 2
            text += "\(center),\(histogram.counts[index])\n"
        }
        return text
    }

    /// What g²(τ) is normalised by: the level of uncorrelated (accidental) coincidences per bin.
    public enum Normalisation: Sendable, Equatable {
        /// From the singles: `N_A·N_B·Δτ/T` per bin of width Δτ over the analysed duration T.
        case singles(accidentalsPerBin: Double)
        /// The mean count of the outer half of the histogram (|τ| at least half its range).
        case farLag(meanCount: Double)

        /// Accidentals per bin.
        public var level: Double {
            switch self {
            case .singles(let level), .farLag(let level): return level
            }
        }

        /// The y-axis label naming the normalisation.
        public var axisLabel: String {
            switch self {
            case .singles: return "g²(τ) = counts ÷ accidentals from singles (N_A·N_B·Δτ/T)"
            case .farLag: return "g²(τ) = counts ÷ mean count at |τ| ≥ half the range"
            }
        }
    }

    /// The normalisation of `histogram`: from the singles when `accidentalsPerBin` (from ``accidentalsPerBin(_:binWidthPs:)``)
    /// is positive, else the far-lag mean; nil when neither gives a positive level (no counts to normalise by).
    public static func normalisation(_ histogram: CorrelationHistogram, accidentalsPerBin: Double?) -> Normalisation? {
        if let accidentalsPerBin, accidentalsPerBin > 0, accidentalsPerBin.isFinite { return .singles(accidentalsPerBin: accidentalsPerBin) }
        let halfRange = Double(histogram.endPs - histogram.startPs) / 4
        let far = histogram.counts.indices.filter { abs(histogram.binCenterPs($0)) >= halfRange }.map { histogram.counts[$0] }
        guard !far.isEmpty else { return nil }
        let mean = Double(far.reduce(0, +)) / Double(far.count)
        return mean > 0 ? .farLag(meanCount: mean) : nil
    }

    /// Accidental coincidences per histogram bin of `binWidthPs` from a pair's accidentals from singles (which are
    /// per coincidence window): `N_A·N_B·Δτ/T`.
    public static func accidentalsPerBin(_ pair: LinkAnalysisSnapshot.PairResult, binWidthPs: Int64) -> Double? {
        pair.accidentalsFromSingles.map { $0.value * Double(binWidthPs) / Double(pair.window.widthPs) }
    }

    /// g²(τ) per bin (τ in ns at the bin centre) with its Poisson standard error `√N / level`.
    public static func g2(_ histogram: CorrelationHistogram, _ normalisation: Normalisation) -> (points: [(x: Double, y: Double)], errors: [Double]) {
        let level = normalisation.level
        let points = histogram.counts.indices.map { (x: histogram.binCenterPs($0) / 1000, y: Double(histogram.counts[$0]) / level) }
        let errors = histogram.counts.map { Double(max($0, 0)).squareRoot() / level }
        return (points, errors)
    }

    /// A standalone SVG plot of g²(τ) with Poisson error bars against lag in nanoseconds, its y axis from zero
    /// and labelled with the normalisation (``normalisation(_:accidentalsPerBin:)``), with the uncorrelated
    /// level g² = 1 drawn. Without any level to normalise by, the raw counts (from zero) with Poisson error bars.
    /// `pairName` names the pair in the legend (default: its channel numbers).
    public static func svg(_ histogram: CorrelationHistogram, accidentalsPerBin: Double? = nil, title: String? = nil,
                           pairName: String? = nil) -> String {
        let title = title ?? "Correlation \(histogram.pair)"
        let bins = "bins of \(histogram.binWidthPs) ps"
        let pairName = pairName ?? "\(histogram.pair)"
        guard let normalisation = normalisation(histogram, accidentalsPerBin: accidentalsPerBin) else {
            let points = histogram.counts.indices.map { (x: histogram.binCenterPs($0) / 1000, y: Double(histogram.counts[$0])) }
            let series = SVGPlot.Series(name: "\(pairName), \(bins)", points: points, line: false, colour: SVGPlot.palette[0],
                                        errors: histogram.counts.map { Double(max($0, 0)).squareRoot() })
            return SVGPlot(title: title + " (no accidentals to normalise by: raw counts)", xLabel: "lag τ (ns)",
                           yLabel: "coincidences per bin (± √N)", yFromZero: true, series: [series]).render()
        }
        let (points, errors) = g2(histogram, normalisation)
        let lags = (first: points.first?.x ?? 0, last: points.last?.x ?? 0)
        return SVGPlot(title: title + ": g²(τ) ± Poisson error", xLabel: "lag τ (ns)", yLabel: normalisation.axisLabel, yFromZero: true, series: [
            .init(name: "\(pairName), \(bins)", points: points, line: false, colour: SVGPlot.palette[0], errors: errors),
            .init(name: "uncorrelated: g² = 1", points: [(lags.first, 1), (lags.last, 1)], colour: SVGPlot.palette[1]),
        ]).render()
    }
}
