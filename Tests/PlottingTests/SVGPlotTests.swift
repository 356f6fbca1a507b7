import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Plotting
import QLinkTestSupport

@Suite("SVG plots")
struct SVGPlotTests {
    @Test("points map linearly onto the plot area: the lowest and highest values touch its edges")
    func linearMapping() throws {
        let plot = SVGPlot(title: "t", xLabel: "x", yLabel: "y",
                           series: [.init(name: "s", points: [(0, 0), (10, 100)], colour: "#000")])
        let svg = plot.render()
        let points = try #require(svg.firstMatch(of: /points="([^"]+)"/)).1
        let pairs = points.split(separator: " ").map { $0.split(separator: ",").compactMap { Double($0) } }
        #expect(pairs.count == 2)
        // Plot area: x from 80 to 720−170 = 550, y from 480−60 = 420 (bottom) up to 40 (top).
        #expect(abs(pairs[0][0] - 80) < 0.11 && abs(pairs[1][0] - 550) < 0.11)
        #expect(abs(pairs[0][1] - 420) < 0.11 && abs(pairs[1][1] - 40) < 0.11)
    }

    @Test("text is escaped, non-positive values are dropped on log axes, and the document is well-formed XML")
    func escapingAndLogAxes() {
        let plot = SVGPlot(title: "A<B & C", xLabel: "x", yLabel: "y", logY: true,
                           series: [.init(name: "s", points: [(1, 0), (2, 10), (3, 1000)], line: false, colour: "#111")])
        let svg = plot.render()
        #expect(svg.contains("A&lt;B &amp; C"))
        #expect(svg.components(separatedBy: "<circle").count - 1 == 2)   // the zero is not drawn on a log axis
        #expect(XMLParser(data: Data(svg.utf8)).parse())
    }
}

@Suite("SVG plots a physicist would publish")
struct PublishablePlotTests {
    // Plot area: y from 420 (bottom) up to 40 (top).
    static let top = 40.0, bottom = 420.0

    @Test("counts start the y axis at zero, with a tick labelled 0 on the frame's bottom edge")
    func zeroBasedCounts() throws {
        let counts = SVGPlot(title: "rate", xLabel: "s", yLabel: "Hz", yFromZero: true,
                             series: [.init(name: "windowed (1 s)", points: [(1, 1000), (2, 1030), (3, 990)], colour: "#000")]).render()
        #expect(SVGReading.frame("data-y-min", in: counts) == 0)
        #expect(counts.contains("<text class=\"y-tick\" x=\"74.0\" y=\"424.0\" text-anchor=\"end\">0</text>"), "\(counts)")
        // Without the option the axis zooms onto the data (for quantities that are not counts).
        let zoomed = SVGPlot(title: "f", xLabel: "s", yLabel: "F", series: [.init(name: "f", points: [(1, 0.9), (2, 0.95)], colour: "#000")]).render()
        #expect(SVGReading.frame("data-y-min", in: zoomed) == 0.9)
        // An all-zero series gets 0…1, never −1…1.
        let zeros = SVGPlot(title: "z", xLabel: "s", yLabel: "Hz", yFromZero: true, series: [.init(name: "z", points: [(1, 0), (2, 0)], colour: "#000")]).render()
        #expect(SVGReading.frame("data-y-min", in: zeros) == 0 && SVGReading.frame("data-y-max", in: zeros) == 1)
        // Time since the start from zero; a long legend name widens the legend column instead of being cut off.
        let timed = SVGPlot(title: "t", xLabel: "s", yLabel: "Hz", yFromZero: true, xFromZero: true,
                            series: [.init(name: "alice-node, windowed (1 s), a long name", points: [(0.5, 1), (1.5, 2)], colour: "#000")]).render()
        #expect(SVGReading.frame("data-x-min", in: timed) == 0)
        #expect(abs((SVGReading.frame("width", in: timed) ?? 0) - (720 - 80 - (40 + 6.6 * 39))) < 1e-6, "the plot area narrows for the legend")
    }

    @Test("error bars are drawn, one per point, spanning ±1σ, and the axis holds their ends")
    func errorBars() throws {
        let svg = SVGPlot(title: "g2", xLabel: "ns", yLabel: "g²", yFromZero: true,
                          series: [.init(name: "s", points: [(0, 1), (1, 4), (2, 1)], line: false, colour: "#000", errors: [0.5, 1, 0.5])]).render()
        let bars = SVGReading.errorBars(svg)
        #expect(bars.count == 3)
        #expect(SVGReading.frame("data-y-max", in: svg) == 5.25, "the top error bar's end (4 + 1) is in range, with 5 % headroom")
        // Axis 0…5.25 over 380 px: the middle bar spans 3…5.
        let middle = bars[1], pixelsPerUnit = 380 / 5.25
        #expect(abs(middle.top - (Self.bottom - 5 * pixelsPerUnit)) < 0.11 && abs(middle.bottom - (Self.bottom - 3 * pixelsPerUnit)) < 0.11, "\(middle)")
        #expect(XMLParser(data: Data(svg.utf8)).parse())
    }

    @Test("a ±1σ band is drawn whole: the axis range includes its edges, so no vertex leaves the frame")
    func bandNotClamped() throws {
        let points: [(x: Double, y: Double)] = [(1, 0.90), (2, 0.91), (3, 0.92)]
        let svg = SVGPlot(title: "fidelity", xLabel: "s", yLabel: "F", series: [.init(name: "cumulative", points: points, colour: "#000")],
                          bands: [.init(name: "±1σ", around: points, errors: [0.05, 0.02, 0.01], colour: "#888")]).render()
        let vertices = SVGReading.bandVertices(svg)
        #expect(vertices.count == 6)
        #expect(abs((SVGReading.frame("data-y-min", in: svg) ?? 0) - 0.85) < 1e-12)
        #expect(abs((SVGReading.frame("data-y-max", in: svg) ?? 0) - 0.95) < 1e-12)
        for vertex in vertices { #expect(vertex.y >= Self.top - 0.05 && vertex.y <= Self.bottom + 0.05, "\(vertex)") }
        // The widest point's band reaches both edges of the frame: drawn, not cut off.
        #expect(vertices.contains { abs($0.y - Self.top) < 0.11 } && vertices.contains { abs($0.y - Self.bottom) < 0.11 })
        #expect(svg.contains("±1σ"))
    }
}
