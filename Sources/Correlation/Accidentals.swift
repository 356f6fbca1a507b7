/// Accidental-coincidence estimates, coincidence-to-accidental ratio and g²(0).
public enum Accidentals {
    /// Accidentals expected from singles: `N_A·N_B·τ/T` for a window of `windowPs` integer lags over a
    /// duration `durationPs`. Standard error from Poisson singles: `value·√(1/N_A + 1/N_B)`.
    public static func fromSingles(singlesA: Int64, singlesB: Int64, windowPs: Int64, durationPs: Int64) throws(CorrelationError) -> Estimate {
        guard durationPs > 0, windowPs > 0 else {
            throw CorrelationError(.insufficientData, "need a positive duration and window", context: "accidentals from singles")
        }
        let a = Double(singlesA), b = Double(singlesB)
        let value = a * b * Double(windowPs) / Double(durationPs)
        let relative = (a > 0 && b > 0) ? (1 / a + 1 / b).squareRoot() : 0
        return Estimate(value, standardError: value * relative)
    }

    /// Accidentals from `M` off-peak side windows of the same width: their mean, with error `√(ΣN)/M`.
    public static func fromSideWindows(_ counts: [Int64]) throws(CorrelationError) -> Estimate {
        guard !counts.isEmpty else {
            throw CorrelationError(.insufficientData, "no side windows", context: "accidentals from side windows")
        }
        let sum = Double(counts.reduce(0, +))
        let m = Double(counts.count)
        return Estimate(sum / m, standardError: sum.squareRoot() / m)
    }

    /// Side windows for `spec`: `count` windows on each side, moved by multiples of `spacingPs`.
    public static func sideWindows(of spec: CoincidenceSpec, count: Int, spacingPs: Int64) -> [CoincidenceSpec] {
        guard count > 0 else { return [] }
        return (1...count).flatMap { k in
            [Int64(k), -Int64(k)].map { CoincidenceSpec(spec.pair, window: spec.window.shifted(by: $0 * spacingPs)) }
        }
    }

    /// Raw coincidences minus accidentals; error `√(N + σ_acc²)`.
    public static func subtracted(raw: Int64, accidentals: Estimate) -> Estimate {
        let n = Double(raw)
        return Estimate(n - accidentals.value, standardError: (n + accidentals.standardError * accidentals.standardError).squareRoot())
    }

    /// Coincidence-to-accidental ratio `N_raw / N_acc`; error `CAR·√(1/N + (σ_acc/N_acc)²)`.
    public static func car(raw: Int64, accidentals: Estimate) throws(CorrelationError) -> Estimate {
        guard accidentals.value > 0 else {
            throw CorrelationError(.insufficientData, "no accidentals expected: CAR is undefined", context: "CAR")
        }
        let n = Double(raw)
        let value = n / accidentals.value
        let relative = ((n > 0 ? 1 / n : 0) + pow2(accidentals.standardError / accidentals.value)).squareRoot()
        return Estimate(value, standardError: value * relative)
    }

    /// g²(0) from coincidences at zero delay normalised by singles: `N_c·T/(N_A·N_B·τ)`,
    /// error `g²·√(1/N_c + 1/N_A + 1/N_B)`.
    public static func g2Zero(coincidences: Int64, singlesA: Int64, singlesB: Int64, windowPs: Int64,
                              durationPs: Int64) throws(CorrelationError) -> Estimate {
        let expected = try fromSingles(singlesA: singlesA, singlesB: singlesB, windowPs: windowPs, durationPs: durationPs)
        guard expected.value > 0 else {
            throw CorrelationError(.insufficientData, "no singles", context: "g²(0)")
        }
        let c = Double(coincidences)
        let value = c / expected.value
        let relative = ((c > 0 ? 1 / c : 0) + 1 / Double(singlesA) + 1 / Double(singlesB)).squareRoot()
        return Estimate(value, standardError: value * relative)
    }

    /// g²(0) from a histogram: counts within `halfWidthPs` of `centerPs` against the mean of equally wide
    /// stretches at least `sideOffsetPs` away. Error from Poisson counts.
    public static func g2Zero(histogram: CorrelationHistogram, centerPs: Int64 = 0, halfWidthPs: Int64,
                              sideOffsetPs: Int64) throws(CorrelationError) -> Estimate {
        var peak = 0.0, side = 0.0, peakBins = 0, sideBins = 0
        for index in histogram.counts.indices {
            let lag = histogram.binCenterPs(index) - Double(centerPs)
            if abs(lag) <= Double(halfWidthPs) { peak += Double(histogram.counts[index]); peakBins += 1 }
            else if abs(lag) >= Double(sideOffsetPs) { side += Double(histogram.counts[index]); sideBins += 1 }
        }
        guard peakBins > 0, sideBins > 0, side > 0 else {
            throw CorrelationError(.insufficientData, "histogram has no side counts to normalise by", context: "g²(0)",
                                   hint: "widen the histogram range or lower the side offset")
        }
        let reference = side / Double(sideBins) * Double(peakBins)
        let value = peak / reference
        let relative = ((peak > 0 ? 1 / peak : 0) + 1 / side).squareRoot()
        return Estimate(value, standardError: value * relative)
    }
}

@inline(__always) func pow2(_ x: Double) -> Double { x * x }
