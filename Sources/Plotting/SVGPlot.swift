import Foundation

/// A small line and scatter chart written as SVG text, with linear or logarithmic axes, ±1σ error bars per
/// point, ±1σ bands and, for counts and rates, a y axis that starts at zero.
///
/// The axis ranges hold everything drawn: points, the ends of their error bars and the edges of the bands, so
/// nothing is clipped by the frame. The frame (`<rect class="frame">`) carries the ranges as `data-x-min`,
/// `data-x-max`, `data-y-min` and `data-y-max`; error bars are `<path class="error-bars">` (one `M…V…`
/// segment per point) and bands `<polygon class="band">`, so tests and scripts can read a plot back.
public struct SVGPlot: Sendable {
    /// One data series.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Joined by lines (true) or drawn as dots.
        public var line: Bool
        /// A CSS colour.
        public var colour: String
        /// The ±1σ standard error of each point (same count as `points`), drawn as vertical error bars; nil: none.
        public var errors: [Double]?

        public init(name: String, points: [(x: Double, y: Double)], line: Bool = true, colour: String, errors: [Double]? = nil) {
            self.name = name
            self.points = points
            self.line = line
            self.colour = colour
            self.errors = errors
        }
    }

    /// A shaded band between a lower and an upper curve (a ±1σ band around a series).
    public struct Band: Sendable {
        public var name: String
        public var points: [(x: Double, low: Double, high: Double)]
        /// A CSS colour (drawn translucent).
        public var colour: String

        public init(name: String, points: [(x: Double, low: Double, high: Double)], colour: String) {
            self.name = name
            self.points = points
            self.colour = colour
        }

        /// The band `value ± error` around each point of `points`.
        public init(name: String, around points: [(x: Double, y: Double)], errors: [Double], colour: String) {
            self.init(name: name, points: zip(points, errors).map { (x: $0.x, low: $0.y - $1, high: $0.y + $1) }, colour: colour)
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logX: Bool
    public var logY: Bool
    /// Whether the y axis starts at zero (or below, when data are negative), with 5 % headroom above the highest
    /// value: set it for counts and rates.
    public var yFromZero: Bool
    /// Whether the x axis starts at zero (or below): set it for time since the start of a run.
    public var xFromZero: Bool
    public var series: [Series]
    public var bands: [Band]

    /// A palette that stays readable for colour-blind readers.
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

    public init(title: String, xLabel: String, yLabel: String, logX: Bool = false, logY: Bool = false, yFromZero: Bool = false,
                xFromZero: Bool = false, series: [Series], bands: [Band] = []) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logX = logX
        self.logY = logY
        self.yFromZero = yFromZero && !logY
        self.xFromZero = xFromZero && !logX
        self.series = series
        self.bands = bands
    }

    static let width = 720.0, height = 480.0
    static let left = 80.0, top = 40.0, bottom = 60.0
    /// The right margin holds the legend: at least 170 px, wider for long series names.
    var right: Double {
        let longest = (series.map(\.name) + bands.map(\.name)).map(\.count).max() ?? 0
        return max(170, 40 + 6.6 * Double(longest))
    }

    private func usableX(_ x: Double) -> Bool { x.isFinite && (!logX || x > 0) }
    private func usableY(_ y: Double) -> Bool { y.isFinite && (!logY || y > 0) }

    /// The SVG document.
    public func render() -> String {
        // Points (with their errors) that can be drawn on these axes.
        let usable: [(series: Series, errors: [Double]?)] = series.map { s in
            let kept = s.points.indices.filter { usableX(s.points[$0].x) && usableY(s.points[$0].y) }
            let errors = s.errors.flatMap { e in e.count == s.points.count ? kept.map { e[$0].isFinite ? abs(e[$0]) : 0 } : nil }
            return (Series(name: s.name, points: kept.map { s.points[$0] }, line: s.line, colour: s.colour), errors)
        }
        let usableBands = bands.map { b in
            Band(name: b.name, points: b.points.filter { usableX($0.x) && usableY($0.low) && usableY($0.high) }, colour: b.colour)
        }
        var xs = usable.flatMap { $0.series.points.map(\.x) } + usableBands.flatMap { $0.points.map(\.x) }
        var ys = usable.flatMap { $0.series.points.map(\.y) } + usableBands.flatMap { $0.points.flatMap { [$0.low, $0.high] } }
        for (s, errors) in usable {
            guard let errors else { continue }
            for (point, error) in zip(s.points, errors) {
                ys.append(point.y + error)
                if !logY || point.y - error > 0 { ys.append(point.y - error) }
            }
        }
        xs = xs.filter(\.isFinite)
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Self.width))" height="\(Int(Self.height))" \
        viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Self.width / 2)" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>

        """
        guard var xMin = xs.min(), let xMax = xs.max(), var yMin = ys.min(), var yMax = ys.max() else {
            return svg + "<text x=\"\(Self.width / 2)\" y=\"\(Self.height / 2)\" text-anchor=\"middle\">no data to plot</text>\n</svg>\n"
        }
        if yFromZero {
            yMin = min(yMin, 0)
            yMax = yMax <= yMin ? yMin + 1 : yMax + 0.05 * (yMax - yMin)
        }
        if xFromZero { xMin = min(xMin, 0) }
        let right = self.right
        let xAxis = Axis(low: xMin, high: xMax, log: logX, from: Self.left, to: Self.width - right)
        let yAxis = Axis(low: yMin, high: yMax, log: logY, from: Self.height - Self.bottom, to: Self.top)
        let plotBottom = Self.height - Self.bottom, plotRight = Self.width - right
        svg += "<rect class=\"frame\" x=\"\(Self.left)\" y=\"\(Self.top)\" width=\"\(plotRight - Self.left)\" height=\"\(plotBottom - Self.top)\" "
            + "fill=\"none\" stroke=\"#444\" data-x-min=\"\(xAxis.low)\" data-x-max=\"\(xAxis.high)\" "
            + "data-y-min=\"\(yAxis.low)\" data-y-max=\"\(yAxis.high)\"/>\n"
        for tick in xAxis.ticks() {
            let x = xAxis.position(tick)
            svg += "<line x1=\"\(f(x))\" y1=\"\(Self.top)\" x2=\"\(f(x))\" y2=\"\(plotBottom)\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(f(x))\" y=\"\(plotBottom + 16)\" text-anchor=\"middle\">\(Self.tickLabel(tick))</text>\n"
        }
        for tick in yAxis.ticks() {
            let y = yAxis.position(tick)
            svg += "<line x1=\"\(Self.left)\" y1=\"\(f(y))\" x2=\"\(plotRight)\" y2=\"\(f(y))\" stroke=\"#ddd\"/>"
            svg += "<text class=\"y-tick\" x=\"\(Self.left - 6)\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Self.tickLabel(tick))</text>\n"
        }
        svg += "<text x=\"\((Self.left + plotRight) / 2)\" y=\"\(Self.height - 18)\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(18,\((Self.top + plotBottom) / 2)) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        var legend = 0
        func legendEntry(_ name: String, _ colour: String, band: Bool = false) {
            let legendY = Self.top + 10 + Double(legend) * 18
            legend += 1
            svg += band
                ? "<rect x=\"\(plotRight + 12)\" y=\"\(f(legendY - 11))\" width=\"14\" height=\"10\" fill=\"\(colour)\" fill-opacity=\"0.25\"/>"
                : "<rect x=\"\(plotRight + 12)\" y=\"\(f(legendY - 8))\" width=\"14\" height=\"4\" fill=\"\(colour)\"/>"
            svg += "<text x=\"\(plotRight + 32)\" y=\"\(f(legendY))\">\(Self.escape(name))</text>\n"
        }
        for band in usableBands where !band.points.isEmpty {
            let upper = band.points.map { "\(f(xAxis.position($0.x))),\(f(yAxis.position($0.high)))" }
            let lower = band.points.reversed().map { "\(f(xAxis.position($0.x))),\(f(yAxis.position($0.low)))" }
            svg += "<polygon class=\"band\" fill=\"\(band.colour)\" fill-opacity=\"0.25\" stroke=\"none\" points=\"\((upper + lower).joined(separator: " "))\"/>\n"
            legendEntry(band.name, band.colour, band: true)
        }
        for (s, errors) in usable {
            let mapped = s.points.map { (xAxis.position($0.x), yAxis.position($0.y)) }
            if let errors, !errors.isEmpty {
                let segments = zip(s.points, errors).map { point, error in
                    "M\(f(xAxis.position(point.x))),\(f(yAxis.position(point.y + error)))"
                        + "V\(f(yAxis.position(logY && point.y - error <= 0 ? yAxis.low : point.y - error)))"
                }
                svg += "<path class=\"error-bars\" fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"1\" d=\"\(segments.joined(separator: " "))\"/>\n"
            }
            if s.line, mapped.count > 1 {
                let path = mapped.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
                svg += "<polyline fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            } else {
                for (x, y) in mapped {
                    svg += "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"2.5\" fill=\"\(s.colour)\"/>"
                }
                svg += "\n"
            }
            legendEntry(s.name, s.colour)
        }
        return svg + "</svg>\n"
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    /// A tick value without floating-point noise (`0.30000000000000004` → `0.3`).
    static func tickLabel(_ value: Double) -> String {
        abs(value) < 1e-12 ? "0" : String(format: "%g", value)
    }

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
