import Plotting
import Foundation

/// The useful-output parts of a ``PlanReport``'s table, CSV and plots: pairs above the fidelity target,
/// distillation, the memory cut-off trade-off, secret bits, cost and energy.
extension PlanReport {
    /// The CSV columns of ``usefulCSVFields(_:)``.
    static let usefulCSVHeader = "distils,useful_pair_rate_hz,useful_fidelity,cost_per_useful_pair,energy_per_useful_pair_j,"
        + "power_w,distilled_pair_rate_hz,distilled_fidelity,secret_bit_rate_hz,cost_per_secret_bit,energy_per_secret_bit_j"

    /// The useful-output fields of one point (empty where not computed).
    func usefulCSVFields(_ p: Performance) -> [String] {
        guard let u = p.useful else { return Array(repeating: "", count: 11) }
        func optional(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        return [u.distils ? "true" : "false", "\(u.pairRateHz)", "\(u.fidelity)", "\(u.costPerPair)", "\(u.energyPerPairJ)",
                "\(u.powerW)", optional(u.distillation?.pairRateHz), optional(u.distillation?.fidelity),
                optional(u.secretBitRateHz), optional(u.costPerSecretBit), optional(u.energyPerSecretBitJ)]
    }

    /// Table lines: the useful output at the sensitivity point, the distillation verdict and the cut-off trade-off.
    func usefulTable() -> [String] {
        var lines: [String] = []
        let knobLabel = knobName == "alpha" ? "α" : "μ"
        if let at = sensitivityPoint, let useful = points.first(where: { $0.point == at })?.useful {
            lines.append("useful output at " + Format.point(at, knobName: knobLabel) + ": " + Format.useful(useful, currency: currency)
                + "; " + Format.number(useful.powerW) + " W, " + Format.number(useful.energyPerHourKwh) + " kWh per hour")
        }
        if let distillation {
            lines.append(distillation.message)
        }
        if let tradeoff = cutoffTradeoff {
            lines.append("memory cut-off at " + Format.point(tradeoff.point, knobName: knobLabel) + ": " + tradeoff.message)
            let widths = [12, 10, 14, 10, 10]
            let row: ([String]) -> String = { cells in
                zip(cells, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: " ")
            }
            lines.append(row(["cut-off", "attempts", "distilled/s", "F", "stored F"]))
            for point in thinned(tradeoff.curve, to: 12) {
                lines.append(row([point.cutoffPs.map { Format.seconds(Double($0) * 1e-12) } ?? "none",
                                  point.cutoffAttempts.map { "\($0)" } ?? "∞", Format.hertz(point.pairRateHz),
                                  Format.number(point.fidelity), Format.number(point.storedFidelity)]))
            }
        }
        return lines.isEmpty ? [] : lines + [""]
    }

    /// `useful-cost.svg` (cost per pair above the target against the repetition rate) and, with distillation,
    /// `cutoff.svg` (distilled rate against fidelity as the cut-off varies).
    func usefulPlots() -> [String: String] {
        var plots: [String: String] = [:]
        let usable = points.filter { $0.withinRateLimit && ($0.useful?.costPerPair.isFinite ?? false) }
        if !usable.isEmpty {
            let knob = featuredKnob
            let featured = usable.filter { $0.point.knob == knob }.map { ($0.point.repetitionRateHz, $0.useful!.costPerPair) }
            plots["useful-cost.svg"] = SVGPlot(
                title: "\(name): cost per pair above the fidelity target", xLabel: "repetition rate (Hz)",
                yLabel: "cost per useful pair (\(currency))", logX: true, logY: true,
                series: [SVGPlot.Series(name: knob.map { "knob = \(Format.number($0))" } ?? `protocol`, points: featured,
                                        colour: SVGPlot.palette[0])]).render()
        }
        if let tradeoff = cutoffTradeoff {
            let curve = tradeoff.curve.filter { $0.pairRateHz > 0 }.map { ($0.fidelity, $0.pairRateHz) }
            plots["cutoff.svg"] = SVGPlot(
                title: "\(name): memory cut-off trade-off", xLabel: "distilled fidelity", yLabel: "distilled pairs per second",
                logY: true, series: [SVGPlot.Series(name: "cut-off from one attempt to none", points: curve,
                                                    colour: SVGPlot.palette[1])]).render()
        }
        return plots
    }
}
