import Plotting
import Foundation

/// The ways a ``PlanReport`` is written out: a terminal table, JSON, CSV and SVG plots.
extension PlanReport {
    /// The knob value the tables and plots follow: the optimum's, or the one with the highest rate.
    var featuredKnob: Double? {
        if let knob = optimum.best?.point.knob { return knob }
        return points.filter(\.withinRateLimit).max { $0.pairRateHz < $1.pairRateHz }?.point.knob
    }

    /// Up to `count` evenly spread elements of `items`, always keeping the last.
    func thinned<T>(_ items: [T], to count: Int) -> [T] {
        guard items.count > count, count > 1 else { return items }
        return (0..<count).map { items[$0 * (items.count - 1) / (count - 1)] }
    }

    /// The "ok" column: `yes` for a point that is within the attempt-rate limit and meets every constraint, else what
    /// it misses (`over` the rate limit, `F<min`, `rate<min`, `cost>max`).
    func verdict(_ p: Performance) -> String {
        guard p.withinRateLimit else { return "over" }
        let missed = PlanConstraints.Kind.allCases.filter { !constraints.meets($0, p) }.map { kind in
            switch kind {
            case .fidelity: "F<min"
            case .pairRate: "rate<min"
            case .budget: "cost>max"
            }
        }
        return missed.isEmpty ? "yes" : missed.joined(separator: ",")
    }

    /// A plain-text report for the terminal.
    public func table() -> String {
        let knobLabel = knobName == "alpha" ? "α" : (knobName == nil ? nil : "μ")
        var lines: [String] = []
        lines.append("plan \(name): \(`protocol`.replacingOccurrences(of: "_", with: "-")) link")
        lines.append("  arm transmissions " + armTransmissions.map { Format.number($0) }.joined(separator: ", ")
            + "; herald waits " + heraldWaitPs.map { Format.seconds(Double($0) * 1e-12) }.joined(separator: ", ")
            + "; attempt rate limit " + Format.hertz(maxRepetitionRateHz))
        lines.append("  " + optimum.message)
        lines.append("  key: " + Format.keySettings(key) + "; repeaterless bound −log₂(1−η) = "
            + Format.number(points.first?.key.plobBitsPerAttempt ?? 0) + " bits per attempt at η = t_A·t_B = "
            + Format.number(points.first?.key.transmissivity ?? 0))
        lines.append("")

        let knob = featuredKnob
        let row: ([String]) -> String = { cells in
            zip(cells, [12, 8, 10, 12, 8, 11, 11, 13, 13, 10, 9, 14]).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }
                .joined(separator: " ")
        }
        let header = ["rate", knobLabel ?? "", "p(success)", "pairs/s", "F", "mean t", "95% t", "cost/pair", "QBER Z/X",
                      "key bit/s", "key/PLOB", "ok"]
        func cells(_ p: Performance) -> [String] {
            [Format.hertz(p.point.repetitionRateHz), p.point.knob.map { Format.number($0) } ?? "",
             Format.number(p.successProbability), Format.hertz(p.pairRateHz), Format.number(p.fidelity),
             Format.seconds(p.timePerPair.meanS), Format.seconds(p.timePerPair.percentile95S),
             Format.number(p.costPerPair) + " " + currency, Format.qber(p.key), Format.number(p.key.keyRateBitsPerS),
             Format.number(p.key.plobRatio), verdict(p)]
        }
        let sweep = points.filter { $0.point.knob == knob }
        lines.append("sweep" + (knob.map { " at \(knobLabel ?? "knob") = \(Format.number($0))" } ?? "") + " (\(points.count) points in all):")
        lines.append(row(header))
        lines += thinned(sweep, to: 15).map { row(cells($0)) }
        lines.append("")
        lines.append("Pareto front, cost per pair against fidelity (\(paretoFront.count) points):")
        lines.append(row(header))
        lines += thinned(paretoFront, to: 12).map { row(cells($0)) }
        lines.append("")
        lines += usefulTable()
        lines += repeaterTable()
        if let at = sensitivityPoint {
            lines.append("improve this first (at " + Format.point(at, knobName: knobLabel ?? "knob") + "; per dB of loss or noise removed):")
            let widths = [10, 18, 6, 13, 13, 15, 17]
            let sensitivityRow: ([String]) -> String = { cells in
                zip(cells, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: " ")
            }
            let withUseful = sensitivities.contains { $0.costPerUsefulPairReductionPercentPerDb != nil }
            lines.append(sensitivityRow(["arm", "stage", "what", "rate %/dB", "cost −%/dB", "fidelity /dB"]
                + (withUseful ? ["useful cost −%/dB"] : [])))
            for s in sensitivities {
                lines.append(sensitivityRow([s.arm, s.stage, s.knob.rawValue, Format.number(s.pairRatePercentPerDb),
                                             Format.number(s.costPerPairReductionPercentPerDb), Format.number(s.fidelityPerDb)]
                    + (s.costPerUsefulPairReductionPercentPerDb.map { [Format.number($0)] } ?? [])))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every point as CSV with a header line.
    public func csv() -> String {
        let onFront = Set(paretoFront.map(\.point))
        var text = "repetition_rate_hz,\(knobName ?? "knob"),success_probability,pair_rate_hz,fidelity,fidelity_at_herald,"
            + "mean_time_per_pair_s,median_time_per_pair_s,p95_time_per_pair_s,cost_per_pair,cost_per_hour,"
            + "noise_click_probability,within_rate_limit,meets_constraints,pareto,"
            + "qber_z,qber_x,secret_bits_per_pair,key_rate_bits_per_s,finite_key_rate_bits_per_s,key_bits_per_attempt,"
            + "transmissivity,plob_bits_per_attempt,plob_ratio," + Self.usefulCSVHeader + "\n"
        for p in points {
            let fields: [String] = [
                "\(p.point.repetitionRateHz)", p.point.knob.map { "\($0)" } ?? "", "\(p.successProbability)",
                "\(p.pairRateHz)", "\(p.fidelity)", "\(p.fidelityAtHerald)", "\(p.timePerPair.meanS)",
                "\(p.timePerPair.medianS)", "\(p.timePerPair.percentile95S)", "\(p.costPerPair)", "\(p.costPerHour)",
                "\(p.noiseClickProbability)", p.withinRateLimit ? "true" : "false", constraints.meetsAll(p) ? "true" : "false",
                onFront.contains(p.point) ? "true" : "false",
                "\(p.key.qberZ)", "\(p.key.qberX)", "\(p.key.secretBitsPerPair)", "\(p.key.keyRateBitsPerS)",
                "\(p.key.finiteKeyRateBitsPerS)", "\(p.key.keyBitsPerAttempt)", "\(p.key.transmissivity)",
                "\(p.key.plobBitsPerAttempt)", "\(p.key.plobRatio)",
            ] + usefulCSVFields(p)
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }

    /// The report as JSON (infinite values are written as the strings "inf" and "-inf").
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// The SVG plots by file name: rate, fidelity and cost per pair against repetition rate, and the Pareto front.
    public func plots() -> [String: String] {
        let knobs = Array(Set(points.map(\.point.knob))).sorted { ($0 ?? 0) < ($1 ?? 0) }
        var shown = thinned(knobs, to: 6)
        if let featured = featuredKnob, !shown.contains(featured) { shown.append(featured) }
        let label = knobName == "alpha" ? "α" : "μ"
        func curves(_ value: (Performance) -> Double) -> [SVGPlot.Series] {
            shown.enumerated().map { index, knob in
                SVGPlot.Series(name: knob.map { "\(label) = \(Format.number($0))" } ?? `protocol`,
                               points: points.filter { $0.point.knob == knob && $0.withinRateLimit }
                                   .map { ($0.point.repetitionRateHz, value($0)) },
                               colour: SVGPlot.palette[index % SVGPlot.palette.count])
            }
        }
        let rateAxis = "repetition rate (Hz)"
        var plots: [String: String] = [:]
        plots["rate.svg"] = SVGPlot(title: "\(name): pair rate", xLabel: rateAxis, yLabel: "pairs per second",
                                    logX: true, logY: true, series: curves(\.pairRateHz)).render()
        plots["fidelity.svg"] = SVGPlot(title: "\(name): delivered fidelity", xLabel: rateAxis, yLabel: "fidelity",
                                        logX: true, series: curves(\.fidelity)).render()
        plots["cost.svg"] = SVGPlot(title: "\(name): cost per pair", xLabel: rateAxis, yLabel: "cost per pair (\(currency))",
                                    logX: true, logY: true, series: curves(\.costPerPair)).render()
        plots["key.svg"] = SVGPlot(title: "\(name): secret key rate (asymptotic)", xLabel: rateAxis, yLabel: "secret bits per second",
                                   logX: true, logY: true, series: curves(\.key.keyRateBitsPerS)).render()
        var perAttempt = curves(\.key.keyBitsPerAttempt)
        let rates = points.filter(\.withinRateLimit).map(\.point.repetitionRateHz)
        if let low = rates.min(), let high = rates.max(), let bound = points.first?.key.plobBitsPerAttempt, bound.isFinite {
            perAttempt.append(SVGPlot.Series(name: "PLOB bound −log₂(1−η)", points: [(low, bound), (high, bound)], colour: "#000000"))
        }
        plots["plob.svg"] = SVGPlot(title: "\(name): key per attempt against the repeaterless bound", xLabel: rateAxis,
                                    yLabel: "secret bits per attempt", logX: true, logY: true, series: perAttempt).render()
        let all = points.filter { $0.withinRateLimit }.map { ($0.fidelity, $0.costPerPair) }
        plots["pareto.svg"] = SVGPlot(title: "\(name): cost per pair against fidelity", xLabel: "fidelity",
                                      yLabel: "cost per pair (\(currency))", logY: true, series: [
            SVGPlot.Series(name: "all points", points: all, line: false, colour: "#bbbbbb"),
            SVGPlot.Series(name: "Pareto front", points: paretoFront.map { ($0.fidelity, $0.costPerPair) }, colour: "#D55E00"),
        ]).render()
        plots.merge(usefulPlots()) { $1 }
        plots.merge(repeaterPlots()) { $1 }
        return plots
    }
}
