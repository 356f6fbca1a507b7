import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Plotting

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
