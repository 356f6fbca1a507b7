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

@Suite("Plan outputs: the single sequential repeater (plan.sequential_repeater)")
struct SequentialRepeaterOutputTests {
    static func report() throws -> PlanReport { Planner.run(try exampleConfiguration("plan-telecom-repeater.yaml")) }

    @Test("the study is SequentialRepeater's optimum on two segments like the link's point, the node's memory from the plan")
    func studyIsTheModel() throws {
        let configuration = try exampleConfiguration("plan-telecom-repeater.yaml")
        let report = Planner.run(configuration)
        let study = try #require(report.sequentialRepeater)
        let at = try #require(report.sensitivityPoint)
        let memory = try #require(configuration.model.arms[0].memory)
        #expect(study.point == at)
        let reference = try #require(report.points.first { $0.point == at })
        let pair = BellDiagonalState(reference.deliveredState)
        let repeater = SequentialRepeater(firstLink: pair, firstSuccessProbability: reference.successProbability, secondLink: pair,
                                          secondSuccessProbability: reference.successProbability,
                                          storage: StorageDecay(memories: [memory], periodPs: 1e12 / at.repetitionRateHz),
                                          errorCorrectionEfficiency: configuration.plan.key.errorCorrectionEfficiency)
        let (best, none) = repeater.optimalCutoff()
        #expect(study.best.cutoffAttempts == best.cutoffAttempts && study.best.keyPerChannelUse == best.keyPerChannelUse)
        #expect(study.withoutCutoff.keyPerChannelUse == none.keyPerChannelUse && study.withoutCutoff.cutoffAttempts == nil)
        #expect(abs(study.best.keyRateBitsPerS - best.keyPerChannelUse * at.repetitionRateHz) <= 1e-12 * study.best.keyRateBitsPerS)
        #expect(study.best.keyPerChannelUse > 0, "the shipped example should leave a key")
        // The worked example of docs/planner.md: n* = 78 channel uses (226 µs), 2.91e-9 secret bits per channel use,
        // F = 0.814; without a cut-off no key at F = 0.473; below the repeaterless bound 5.12e-6 of both segments.
        #expect(study.best.cutoffAttempts == 78 && abs(study.best.keyPerChannelUse - 2.913e-9) < 0.001e-9)
        #expect(abs(study.best.fidelity - 0.8144) < 1e-4 && study.withoutCutoff.keyPerChannelUse == 0)
        #expect(abs(study.withoutCutoff.fidelity - 0.4731) < 1e-4 && abs(study.plobBitsPerChannelUse - 5.121e-6) < 0.001e-6)
        // The curve runs by increasing cut-off, holds the optimum, ends without a cut-off, and nothing on it beats the optimum.
        let cutoffs = study.curve.dropLast().compactMap(\.cutoffAttempts)
        #expect(cutoffs == cutoffs.sorted() && cutoffs.count == study.curve.count - 1 && study.curve.last?.cutoffAttempts == nil)
        #expect(study.curve.contains(study.best))
        #expect(study.curve.allSatisfy { $0.keyPerChannelUse <= study.best.keyPerChannelUse })
        // A shorter cut-off keeps fresher pairs: fidelity falls as the cut-off grows.
        let fidelities = study.curve.map(\.fidelity)
        #expect(zip(fidelities, fidelities.dropFirst()).allSatisfy { $0.0 >= $0.1 - 1e-12 })
        #expect(abs(study.transmissivity - reference.key.transmissivity * reference.key.transmissivity) < 1e-15)
    }

    @Test("the table, the JSON and repeater.svg show it; a plan without the section shows none of it")
    func rendered() throws {
        let report = try Self.report()
        let study = try #require(report.sequentialRepeater)
        let table = report.table()
        #expect(table.contains("sequential repeater (Rozpędek et al. 2018)"))
        #expect(table.contains(study.message))
        #expect(table.contains("key/use"))
        let object = try JSONSerialization.jsonObject(with: Data(try report.json().utf8)) as? [String: Any]
        let section = try #require(object?["sequential_repeater"] as? [String: Any])
        let best = try #require(section["best"] as? [String: Any])
        #expect((best["cutoff_attempts"] as? Int) == study.best.cutoffAttempts)
        #expect((section["curve"] as? [Any])?.count == study.curve.count)
        #expect(section["plob_bits_per_channel_use"] is Double)
        let svg = try #require(report.plots()["repeater.svg"])
        #expect(XMLParser(data: Data(svg.utf8)).parse())
        #expect(svg.contains("optimal cut-off") && svg.contains("PLOB bound"))

        var plain = try exampleConfiguration("plan-telecom-repeater.yaml")
        plain.plan.sequentialRepeater = nil
        let without = Planner.run(plain)
        #expect(without.sequentialRepeater == nil && without.plots()["repeater.svg"] == nil)
        let withoutJSON = try without.json()
        #expect(!without.table().contains("sequential repeater") && !withoutJSON.contains("sequential_repeater"))
    }

    @Test("without a memory in lab A and no storage the plan is refused, saying what to add; a misspelt key is named")
    func parsing() throws {
        #expect {
            try PlanConfiguration.parse(delftYAML + "\nplan:\n  sequential_repeater: {}\n")
        } throws: { error in
            (error as? ConfigurationError)?.message.contains("add one or give plan.sequential_repeater.storage") == true
        }
        let given = try PlanConfiguration.parse(delftYAML + "\nplan:\n  sequential_repeater: { storage: { coherence_time_ps: 1_000_000_000 } }\n")
        #expect(given.plan.sequentialRepeater?.storage?.coherenceTimePs == 1_000_000_000)
        #expect(Planner.run(given).sequentialRepeater != nil)
        #expect {
            try PlanConfiguration.parse(delftYAML + "\nplan:\n  sequential_repeater: { storage: {}, cutof: 5 }\n")
        } throws: { error in
            (error as? ConfigurationError)?.keyPath == "plan.sequential_repeater.cutof"
        }
    }
}
