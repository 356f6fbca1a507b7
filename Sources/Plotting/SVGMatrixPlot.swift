import Foundation

/// Square matrices drawn side by side as SVG heat maps: each cell coloured on a diverging scale (blue negative,
/// white zero, red positive; one scale for all panels) with its value written in it. Used for the real and
/// imaginary parts of a density matrix.
public struct SVGMatrixPlot: Sendable {
    /// One matrix: its title and its entries row-major (`size × size`).
    public struct Panel: Sendable {
        public var title: String
        public var values: [Double]
        public init(title: String, values: [Double]) {
            self.title = title
            self.values = values
        }
    }

    public var title: String
    /// Labels of the rows and columns (the basis states), `size` of them.
    public var labels: [String]
    public var panels: [Panel]

    public init(title: String, labels: [String], panels: [Panel]) {
        self.title = title
        self.labels = labels
        self.panels = panels
    }

    static let cell = 64.0, margin = 50.0, gap = 60.0, top = 70.0

    /// The SVG document.
    public func render() -> String {
        let size = labels.count
        let panelWidth = Double(size) * Self.cell
        let width = 2 * Self.margin + Double(panels.count) * panelWidth + Double(max(0, panels.count - 1)) * Self.gap
        let height = Self.top + panelWidth + 50
        let scale = max(panels.flatMap(\.values).filter(\.isFinite).map(abs).max() ?? 0, 1e-12)
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(SVGPlot.escape(title))</text>

        """
        for (p, panel) in panels.enumerated() {
            let left = Self.margin + Double(p) * (panelWidth + Self.gap)
            svg += "<text x=\"\(f(left + panelWidth / 2))\" y=\"\(f(Self.top - 24))\" text-anchor=\"middle\" font-size=\"14\">\(SVGPlot.escape(panel.title))</text>\n"
            for (k, label) in labels.enumerated() {
                let centre = Double(k) * Self.cell + Self.cell / 2
                svg += "<text x=\"\(f(left + centre))\" y=\"\(f(Self.top - 6))\" text-anchor=\"middle\">\(SVGPlot.escape(label))</text>"
                svg += "<text x=\"\(f(left - 6))\" y=\"\(f(Self.top + centre + 4))\" text-anchor=\"end\">\(SVGPlot.escape(label))</text>\n"
            }
            for row in 0..<size {
                for column in 0..<size {
                    let index = row * size + column
                    let value = index < panel.values.count ? panel.values[index] : .nan
                    let x = left + Double(column) * Self.cell, y = Self.top + Double(row) * Self.cell
                    svg += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(Self.cell))\" height=\"\(f(Self.cell))\" fill=\"\(Self.colour(value / scale))\" stroke=\"#888\"/>"
                    svg += "<text x=\"\(f(x + Self.cell / 2))\" y=\"\(f(y + Self.cell / 2 + 4))\" text-anchor=\"middle\">\(value.isFinite ? String(format: "%.3f", value) : "–")</text>\n"
                }
            }
        }
        svg += "<text x=\"\(f(width / 2))\" y=\"\(f(height - 16))\" text-anchor=\"middle\" fill=\"#444\">colour scale ±\(String(format: "%.3f", scale)) (blue negative, red positive)</text>\n"
        return svg + "</svg>\n"
    }

    /// White at 0, red at +1, blue at −1.
    static func colour(_ x: Double) -> String {
        guard x.isFinite else { return "#eeeeee" }
        let t = min(1, abs(x))
        let fade = Int((255 * (1 - t)).rounded())
        return x >= 0 ? String(format: "#ff%02x%02x", fade, fade) : String(format: "#%02x%02xff", fade, fade)
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
