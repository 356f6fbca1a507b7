/// Whether a number comes from raw counts or from counts with accidental coincidences subtracted.
public enum CountBasis: String, Sendable, Codable {
    case raw
    case accidentalSubtracted
}

/// A value with its standard error (and, when computed, a bootstrap 95 % interval).
public struct Estimate: Sendable, Codable, Equatable, CustomStringConvertible {
    public var value: Double
    /// One standard error (Poisson propagation).
    public var standardError: Double
    /// 2.5 % and 97.5 % bootstrap quantiles, when a bootstrap was run.
    public var bootstrapLow: Double?
    public var bootstrapHigh: Double?

    public init(_ value: Double, standardError: Double) {
        self.value = value
        self.standardError = standardError
    }

    public var description: String {
        var text = "\(format(value)) ± \(format(standardError))"
        if let low = bootstrapLow, let high = bootstrapHigh { text += " (bootstrap 95 %: \(format(low))…\(format(high)))" }
        return text
    }

    private func format(_ x: Double) -> String {
        guard x.isFinite else { return "\(x)" }
        let scaled = (x * 10_000).rounded() / 10_000
        return "\(scaled)"
    }
}

/// Coincidence counts of the four outcome combinations of two two-outcome detectors (+/−).
public struct JointCounts: Sendable, Codable, Equatable {
    public var plusPlus: Double
    public var plusMinus: Double
    public var minusPlus: Double
    public var minusMinus: Double

    public init(plusPlus: Double, plusMinus: Double, minusPlus: Double, minusMinus: Double) {
        self.plusPlus = plusPlus
        self.plusMinus = plusMinus
        self.minusPlus = minusPlus
        self.minusMinus = minusMinus
    }

    /// The four cells in the order ++, +−, −+, −−.
    public var cells: [Double] { [plusPlus, plusMinus, minusPlus, minusMinus] }

    /// Counts from four cells in the order ++, +−, −+, −−.
    public init(cells: [Double]) {
        self.init(plusPlus: cells[0], plusMinus: cells[1], minusPlus: cells[2], minusMinus: cells[3])
    }

    public var total: Double { plusPlus + plusMinus + minusPlus + minusMinus }
}
