import Plotting

/// Writes histograms as CSV and as a hand-built SVG plot.
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

    /// A standalone SVG line plot of counts against lag in nanoseconds, with axes and a title.
    public static func svg(_ histogram: CorrelationHistogram, title: String? = nil) -> String {
        let points = histogram.counts.indices.map { index -> (x: Double, y: Double) in
            let centerPs = Double(histogram.startPs) + (Double(index) + 0.5) * Double(histogram.binWidthPs)
            return (x: centerPs / 1000, y: Double(histogram.counts[index]))
        }
        let series = SVGPlot.Series(name: "\(histogram.pair)", points: points, colour: SVGPlot.palette[0])
        return SVGPlot(title: title ?? "Correlation \(histogram.pair)", xLabel: "lag (ns)", yLabel: "counts", series: [series]).render()
    }
}
