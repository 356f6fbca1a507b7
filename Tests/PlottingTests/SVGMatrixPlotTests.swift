import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Plotting
import Testing

@Suite("SVG matrix plots")
struct SVGMatrixPlotTests {
    @Test("every cell of every panel is drawn with its value, on one diverging colour scale, as well-formed XML")
    func cells() {
        let re = [0.5, 0, 0, 0.45, 0, 0, 0, 0, 0, 0, 0, 0, 0.45, 0, 0, 0.5]
        let im = [0, 0, 0, -0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0.1, 0, 0, 0]
        let svg = SVGMatrixPlot(title: "ρ <test>", labels: ["00", "01", "10", "11"],
                                panels: [.init(title: "Re ρ", values: re), .init(title: "Im ρ", values: im)]).render()
        #expect(svg.components(separatedBy: "<rect x=").count - 1 == 32)
        #expect(svg.contains(">0.450<") && svg.contains(">-0.100<") && svg.contains("ρ &lt;test&gt;"))
        #expect(svg.contains("fill=\"#ff0000\""))   // the largest |value| (0.5) is full red
        #expect(svg.contains("fill=\"#ccccff\""))   // −0.1 of 0.5: a light blue
        #expect(XMLParser(data: Data(svg.utf8)).parse())
    }
}
