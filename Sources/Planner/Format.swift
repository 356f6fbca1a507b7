import Foundation

/// Human-readable numbers for messages and tables.
public enum Format {
    /// A number with `digits` significant digits, in plain or exponent notation as fits.
    public static func number(_ value: Double, digits: Int = 3) -> String {
        guard value.isFinite else { return value.isNaN ? "n/a" : (value > 0 ? "∞" : "-∞") }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e-3 && magnitude < 1e6 {
            let decimals = max(0, digits - 1 - Int(floor(log10(magnitude))))
            return String(format: "%.\(decimals)f", value)
        }
        return String(format: "%.\(max(0, digits - 1))e", value)
    }

    /// A rate in Hz with an SI prefix (`39.1 Hz`, `181.8 kHz`).
    public static func hertz(_ value: Double) -> String {
        guard value.isFinite, value > 0 else { return number(value) + " Hz" }
        let prefixes: [(Double, String)] = [(1e9, "GHz"), (1e6, "MHz"), (1e3, "kHz"), (1, "Hz"), (1e-3, "mHz")]
        for (scale, unit) in prefixes where value >= scale {
            return number(value / scale, digits: 4) + " " + unit
        }
        return number(value) + " Hz"
    }

    /// A duration in seconds with a readable unit.
    public static func seconds(_ value: Double) -> String {
        guard value.isFinite else { return "∞" }
        if value >= 3600 { return number(value / 3600) + " h" }
        if value >= 1 { return number(value) + " s" }
        if value >= 1e-3 { return number(value * 1e3) + " ms" }
        return number(value * 1e6) + " µs"
    }

    /// An operating point (`f = 181.8 kHz, α = 0.3`).
    public static func point(_ point: OperatingPoint, knobName: String = "knob") -> String {
        var text = "f = " + hertz(point.repetitionRateHz)
        if let knob = point.knob { text += ", \(knobName) = " + number(knob) }
        return text
    }

    /// Rate, fidelity and cost of a performance.
    public static func summary(_ performance: Performance, currency: String) -> String {
        "rate " + hertz(performance.pairRateHz) + ", fidelity " + number(performance.fidelity, digits: 4)
            + ", cost per pair " + number(performance.costPerPair) + (currency.isEmpty ? "" : " \(currency)")
    }

    /// The predicted QBER in Z and X (`0.031/0.045`).
    public static func qber(_ key: KeyFigures) -> String {
        number(key.qberZ, digits: 2) + "/" + number(key.qberX, digits: 2)
    }

    /// The key settings in words (`p_Z = 0.5, f = 1.1, block 1.00e+06 bits, ε_sec = 1.00e-10, ε_cor = 1.00e-15`).
    public static func keySettings(_ key: KeySettings) -> String {
        "p_Z = " + number(key.probabilityZ) + ", f = " + number(key.errorCorrectionEfficiency) + ", finite-key block "
            + number(key.blockSize) + " bits, ε_sec = " + number(key.epsilonSecrecy) + ", ε_cor = " + number(key.epsilonCorrectness)
    }

    /// The plain-language name of a constraint.
    static func name(_ kind: PlanConstraints.Kind) -> String {
        switch kind {
        case .fidelity: "fidelity"
        case .pairRate: "pair-rate"
        case .budget: "budget"
        }
    }

    /// Why constraint `kind` fails among `candidates`: its bound and the best value reached.
    static func shortfall(_ kind: PlanConstraints.Kind, among candidates: [Performance],
                          constraints: PlanConstraints, currency: String, knobName: String = "knob") -> String {
        let scope = candidates.count == 0 ? "" : " among the points that meet the other constraints"
        switch kind {
        case .fidelity:
            let best = candidates.max { $0.fidelity < $1.fidelity }
            return "fidelity ≥ \(number(constraints.minFidelity ?? 0, digits: 4)) binds: the highest fidelity\(scope) is "
                + number(best?.fidelity ?? 0, digits: 4) + (best.map { " at " + point($0.point, knobName: knobName) } ?? "")
        case .pairRate:
            let best = candidates.max { $0.pairRateHz < $1.pairRateHz }
            return "pair rate ≥ \(hertz(constraints.minPairRateHz ?? 0)) binds: the highest rate\(scope) is "
                + hertz(best?.pairRateHz ?? 0) + (best.map { " at " + point($0.point, knobName: knobName) } ?? "")
        case .budget:
            let best = candidates.min { $0.costPerHour < $1.costPerHour }
            return "budget ≤ \(number(constraints.maxCostPerHour ?? 0)) \(currency) per hour binds: the lowest running cost\(scope) is "
                + number(best?.costPerHour ?? 0) + " \(currency) per hour" + (best.map { " at " + point($0.point, knobName: knobName) } ?? "")
        }
    }
}
