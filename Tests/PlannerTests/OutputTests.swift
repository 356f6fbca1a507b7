import Plotting
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import LinkModel
import Testing
@testable import Planner

@Suite("Plan outputs: table, CSV, JSON, SVG")
struct OutputTests {
    func report() throws -> PlanReport {
        var configuration = try PlanConfiguration.parse(delftYAML)
        configuration.plan = PlanSettings(repetitionRateHz: SweepRange(min: 1e3, max: 1e6, points: 7, logarithmic: true),
                                          alpha: SweepRange(min: 0.05, max: 0.3, points: 6, logarithmic: false),
                                          constraints: PlanConstraints(minFidelity: 0.6))
        return Planner.run(configuration)
    }

    @Test("the CSV has a header and one line per point with every column")
    func csv() throws {
        let report = try report()
        let lines = report.csv().split(separator: "\n")
        #expect(lines.count == 1 + 42)
        let columns = lines[0].split(separator: ",").count
        #expect(columns == 35)
        #expect(lines.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == columns })
        #expect(lines[0].hasPrefix("repetition_rate_hz,alpha,"))
        // Rates above the 181.8 kHz cycle limit are marked.
        #expect(lines.dropFirst().contains { $0.contains(",false,") })
    }

    @Test("the ok column and meets_constraints say no for a point below min_fidelity, within the rate limit or not")
    func okColumnFollowsTheConstraints() throws {
        // A fidelity bound in the middle of the sweep's fidelities: some usable points miss it.
        var configuration = try PlanConfiguration.parse(delftYAML)
        configuration.plan = PlanSettings(
            repetitionRateHz: SweepRange(min: 1e3, max: 1e6, points: 7, logarithmic: true),
            alpha: SweepRange(min: 0.05, max: 0.3, points: 6, logarithmic: false))
        let fidelities = Planner.run(configuration).points.filter(\.withinRateLimit).map(\.fidelity).sorted()
        let bound = fidelities[fidelities.count / 2]
        configuration.plan.constraints = PlanConstraints(minFidelity: bound)
        let report = Planner.run(configuration)
        let low = try #require(report.points.first { $0.withinRateLimit && $0.fidelity < bound }, "the sweep has a point below F = \(bound)")
        #expect(report.verdict(low) == "F<min")
        let good = try #require(report.points.first { $0.withinRateLimit && $0.fidelity >= bound })
        #expect(report.verdict(good) == "yes")
        let lines = report.csv().split(separator: "\n").dropFirst()
        let header = report.csv().split(separator: "\n")[0].split(separator: ",")
        let meets = try #require(header.firstIndex(of: "meets_constraints")), fidelity = try #require(header.firstIndex(of: "fidelity"))
        for line in lines {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            if let f = Double(fields[fidelity]), f < bound { #expect(fields[meets] == "false", "\(line)") }
        }
        // In the table every row below the fidelity bound says so.
        for row in report.table().split(separator: "\n") where row.hasSuffix("yes") {
            let cells = row.split(separator: " ", omittingEmptySubsequences: true)
            if cells.count > 5, let f = Double(cells[cells.count - 11]) { #expect(f >= bound - 5e-4, "\(row)") }
        }
    }

    @Test("the JSON decodes and carries the optimum, the front and the sensitivities")
    func json() throws {
        let report = try report()
        let object = try JSONSerialization.jsonObject(with: Data(try report.json().utf8)) as? [String: Any]
        let root = try #require(object)
        #expect((root["points"] as? [Any])?.count == 42)
        #expect(root["pareto_front"] is [Any])
        #expect(((root["optimum"] as? [String: Any])?["best"] as? [String: Any]) != nil)
        #expect((root["sensitivities"] as? [Any])?.isEmpty == false)
    }

    @Test("the plots are well-formed SVG with one curve per α shown")
    func plots() throws {
        let plots = try report().plots()
        #expect(Set(plots.keys) == ["rate.svg", "fidelity.svg", "cost.svg", "pareto.svg", "key.svg", "plob.svg", "useful-cost.svg"])
        for (name, svg) in plots {
            #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""), "\(name)")
            #expect(svg.hasSuffix("</svg>\n"), "\(name)")
            let parser = XMLParser(data: Data(svg.utf8))
            #expect(parser.parse(), "\(name) is not well-formed XML")
        }
        let rate = try #require(plots["rate.svg"])
        #expect(rate.components(separatedBy: "<polyline").count - 1 == 6)
        #expect(rate.contains("α = 0.300"))
    }

    @Test("the terminal table names the optimum and lists the sensitivities")
    func table() throws {
        let text = try report().table()
        #expect(text.contains("best operating point by cost per pair"))
        #expect(text.contains("improve this first"))
        #expect(text.contains("station    detectors"))
    }

    @Test("a plan without points to plot says so instead of failing")
    func emptyPlot() {
        let svg = SVGPlot(title: "empty", xLabel: "x", yLabel: "y", logX: true, series: []).render()
        #expect(svg.contains("no data to plot"))
    }
}
