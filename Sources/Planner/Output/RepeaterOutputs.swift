import Plotting
import Foundation

/// The sequential-repeater parts of a ``PlanReport``'s table and plots (`plan.sequential_repeater`).
extension PlanReport {
    /// Table lines: the optimal cut-off and the trade-off curve of the single sequential repeater.
    func repeaterTable() -> [String] {
        guard let study = sequentialRepeater else { return [] }
        let knobLabel = knobName == "alpha" ? "α" : "μ"
        var lines = ["sequential repeater (Rozpędek et al. 2018) of two segments like this link at "
            + Format.point(study.point, knobName: knobLabel) + " (p = " + Format.number(study.successProbability)
            + ", F = " + Format.number(study.segmentFidelity, digits: 4) + " per segment, f_EC = "
            + Format.number(study.errorCorrectionEfficiency) + "): " + study.message]
        let widths = [12, 10, 12, 12, 10, 12, 10]
        let row: ([String]) -> String = { cells in
            zip(cells, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: " ")
        }
        lines.append(row(["cut-off", "uses", "⟨N⟩", "key/use", "key bit/s", "F", "QBER Z/X"]))
        for point in thinned(study.curve, to: 12) {
            lines.append(row([point.cutoffPs.map { Format.seconds(Double($0) * 1e-12) } ?? "none",
                              point.cutoffAttempts.map { "\($0)" } ?? "∞", Format.number(point.meanChannelUses),
                              Format.number(point.keyPerChannelUse), Format.number(point.keyRateBitsPerS),
                              Format.number(point.fidelity), Format.number(point.qberZ, digits: 2) + "/" + Format.number(point.qberX, digits: 2)]))
        }
        return lines + [""]
    }

    /// `repeater.svg`: secret bits per channel use against the delivered fidelity as the cut-off varies, beside the
    /// repeaterless bound for both segments in series.
    func repeaterPlots() -> [String: String] {
        guard let study = sequentialRepeater else { return [:] }
        let curve = study.curve.filter { $0.keyPerChannelUse > 0 }.map { ($0.fidelity, $0.keyPerChannelUse) }
        var series = [SVGPlot.Series(name: "cut-off from one channel use to none", points: curve, colour: SVGPlot.palette[2])]
        if study.best.keyPerChannelUse > 0 {
            series.append(SVGPlot.Series(name: "optimal cut-off", points: [(study.best.fidelity, study.best.keyPerChannelUse)],
                                         line: false, colour: SVGPlot.palette[1]))
        }
        if let low = curve.map(\.0).min(), let high = curve.map(\.0).max(), study.plobBitsPerChannelUse.isFinite {
            series.append(SVGPlot.Series(name: "PLOB bound −log₂(1−η), both segments in series",
                                         points: [(low, study.plobBitsPerChannelUse), (high, study.plobBitsPerChannelUse)], colour: "#000000"))
        }
        return ["repeater.svg": SVGPlot(title: "\(name): single sequential repeater, key against fidelity",
                                        xLabel: "delivered fidelity", yLabel: "secret bits per channel use", logY: true,
                                        series: series).render()]
    }
}
