import Foundation

/// A small line and scatter chart written as SVG text, with linear or logarithmic axes.
public struct SVGPlot: Sendable {
    /// One data series.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Joined by lines (true) or drawn as dots.
        public var line: Bool
        /// A CSS colour.
        public var colour: String

        public init(name: String, points: [(x: Double, y: Double)], line: Bool = true, colour: String) {
            self.name = name
            self.points = points
            self.line = line
            self.colour = colour
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logX: Bool
    public var logY: Bool
    public var series: [Series]

    /// A palette that stays readable for colour-blind readers.
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

    public init(title: String, xLabel: String, yLabel: String, logX: Bool = false, logY: Bool = false, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logX = logX
        self.logY = logY
        self.series = series
    }

    static let width = 720.0, height = 480.0
    static let left = 80.0, right = 170.0, top = 40.0, bottom = 60.0

    /// The SVG document.
    public func render() -> String {
        let usable = series.map { s in
            Series(name: s.name, points: s.points.filter { p in
                p.x.isFinite && p.y.isFinite && (!logX || p.x > 0) && (!logY || p.y > 0)
            }, line: s.line, colour: s.colour)
        }
        let xs = usable.flatMap { $0.points.map(\.x) }, ys = usable.flatMap { $0.points.map(\.y) }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Self.width))" height="\(Int(Self.height))" \
        viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Self.width / 2)" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>

        """
        guard let xMin = xs.min(), let xMax = xs.max(), let yMin = ys.min(), let yMax = ys.max() else {
            return svg + "<text x=\"\(Self.width / 2)\" y=\"\(Self.height / 2)\" text-anchor=\"middle\">no data to plot</text>\n</svg>\n"
        }
        let xAxis = Axis(low: xMin, high: xMax, log: logX, from: Self.left, to: Self.width - Self.right)
        let yAxis = Axis(low: yMin, high: yMax, log: logY, from: Self.height - Self.bottom, to: Self.top)
        let plotBottom = Self.height - Self.bottom, plotRight = Self.width - Self.right
        svg += "<rect x=\"\(Self.left)\" y=\"\(Self.top)\" width=\"\(plotRight - Self.left)\" height=\"\(plotBottom - Self.top)\" fill=\"none\" stroke=\"#444\"/>\n"
        for tick in xAxis.ticks() {
            let x = xAxis.position(tick)
            svg += "<line x1=\"\(f(x))\" y1=\"\(Self.top)\" x2=\"\(f(x))\" y2=\"\(plotBottom)\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(f(x))\" y=\"\(plotBottom + 16)\" text-anchor=\"middle\">\(String(format: "%g", tick))</text>\n"
        }
        for tick in yAxis.ticks() {
            let y = yAxis.position(tick)
            svg += "<line x1=\"\(Self.left)\" y1=\"\(f(y))\" x2=\"\(plotRight)\" y2=\"\(f(y))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(Self.left - 6)\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(String(format: "%g", tick))</text>\n"
        }
        svg += "<text x=\"\((Self.left + plotRight) / 2)\" y=\"\(Self.height - 18)\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(18,\((Self.top + plotBottom) / 2)) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        for (index, s) in usable.enumerated() {
            let mapped = s.points.map { (xAxis.position($0.x), yAxis.position($0.y)) }
            if s.line, mapped.count > 1 {
                let path = mapped.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
                svg += "<polyline fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            } else {
                for (x, y) in mapped {
                    svg += "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"2.5\" fill=\"\(s.colour)\"/>"
                }
                svg += "\n"
            }
            let legendY = Self.top + 10 + Double(index) * 18
            svg += "<rect x=\"\(plotRight + 12)\" y=\"\(f(legendY - 8))\" width=\"14\" height=\"4\" fill=\"\(s.colour)\"/>"
            svg += "<text x=\"\(plotRight + 32)\" y=\"\(f(legendY))\">\(Self.escape(s.name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    /// `text` with `&`, `<` and `>` escaped, for SVG and HTML text.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Maps data values to pixels.
    struct Axis {
        var low: Double, high: Double, log: Bool, from: Double, to: Double

        init(low: Double, high: Double, log: Bool, from: Double, to: Double) {
            var low = low, high = high
            if high <= low {
                let pad = log ? 10.0 : max(abs(low) * 0.1, 1)
                (low, high) = log ? (low / pad, high * pad) : (low - pad, high + pad)
            }
            (self.low, self.high, self.log, self.from, self.to) = (low, high, log, from, to)
        }

        func position(_ value: Double) -> Double {
            let fraction = log ? (log10(value) - log10(low)) / (log10(high) - log10(low)) : (value - low) / (high - low)
            return from + fraction * (to - from)
        }

        func ticks() -> [Double] {
            if log {
                let first = Int(floor(log10(low))), last = Int(ceil(log10(high)))
                let step = max(1, (last - first) / 8)
                return stride(from: first, through: last, by: step).map { pow(10, Double($0)) }.filter { $0 >= low * 0.999 && $0 <= high * 1.001 }
            }
            let raw = (high - low) / 6
            let magnitude = pow(10, floor(log10(raw)))
            let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
            let start = ceil(low / step) * step
            return stride(from: start, through: high + step * 1e-9, by: step).map { $0 }
        }
    }
}
