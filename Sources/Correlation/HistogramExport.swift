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
    public static func svg(_ histogram: CorrelationHistogram, title: String? = nil, width: Int = 640, height: Int = 360) -> String {
        let left = 60.0, right = 20.0, top = 30.0, bottom = 45.0
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        let maxCount = Double(max(1, histogram.counts.max() ?? 1))
        let n = max(1, histogram.counts.count)
        var points: [String] = []
        for (index, count) in histogram.counts.enumerated() {
            let x = left + plotWidth * (Double(index) + 0.5) / Double(n)
            let y = top + plotHeight * (1 - Double(count) / maxCount)
            points.append("\(fixed(x)),\(fixed(y))")
        }
        let startNs = Double(histogram.startPs) / 1000, endNs = Double(histogram.endPs) / 1000
        let label = escape(title ?? "Correlation \(histogram.pair)")
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(fixed(left + plotWidth / 2))" y="20" text-anchor="middle" font-family="sans-serif" font-size="14">\(label)</text>
        <line x1="\(fixed(left))" y1="\(fixed(top + plotHeight))" x2="\(fixed(left + plotWidth))" y2="\(fixed(top + plotHeight))" stroke="black"/>
        <line x1="\(fixed(left))" y1="\(fixed(top))" x2="\(fixed(left))" y2="\(fixed(top + plotHeight))" stroke="black"/>
        <polyline fill="none" stroke="#1f77b4" stroke-width="1" points="\(points.joined(separator: " "))"/>

        """
        for k in 0...4 {
            let fraction = Double(k) / 4
            let x = left + plotWidth * fraction
            let value = startNs + (endNs - startNs) * fraction
            svg += "<text x=\"\(fixed(x))\" y=\"\(fixed(top + plotHeight + 16))\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"11\">\(fixed(value))</text>\n"
            let y = top + plotHeight * (1 - fraction)
            svg += "<text x=\"\(fixed(left - 6))\" y=\"\(fixed(y + 4))\" text-anchor=\"end\" font-family=\"sans-serif\" font-size=\"11\">\(Int((maxCount * fraction).rounded()))</text>\n"
        }
        svg += "<text x=\"\(fixed(left + plotWidth / 2))\" y=\"\(height - 8)\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"12\">lag (ns)</text>\n"
        svg += "<text x=\"14\" y=\"\(fixed(top + plotHeight / 2))\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"12\" transform=\"rotate(-90 14 \(fixed(top + plotHeight / 2)))\">counts</text>\n"
        svg += "</svg>\n"
        return svg
    }

    private static func fixed(_ x: Double) -> String { "\((x * 100).rounded() / 100)" }

    private static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
