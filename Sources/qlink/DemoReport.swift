import Correlation
import Foundation
import Journal
import LinkModel
import Planner
import Plotting
import Protocol
import Services
import Simulation

/// What the demo's link should show: the simulator's ground truth for the configuration, in the numbers the
/// coordinator measures.
struct DemoExpectation {
    let seconds: Double
    /// Whether the link is heralded (midpoint station) rather than a pair source.
    let heralded: Bool
    /// Tags per second of each lab's node (nil where the truth does not give it: a heralded link's station clicks).
    let tagRateHzA: Double?
    let tagRateHzB: Double?
    /// Heralds per second (0 for a pair source).
    let heraldRateHz: Double
    /// Pair source: true two-lab coincidences per second, all basis combinations. Heralded: heralds whose
    /// readouts both labs recorded (every herald).
    let coincidenceRateHz: Double
    /// Pair source: the visibility V of the pairs, the truth of the live Z/X fidelity bound for a Werner state.
    /// Heralded: the herald-weighted fidelity of the heralded states (the truth of the live Z/X/Y estimate).
    let liveFidelity: Double
    /// Fidelity of the pairs (pair source: (1 + 3V)/4) or of the heralded states with their targets.
    let fidelity: Double
    /// Lab B's time minus lab A's for the same pair or herald (clock offsets, fibre delays, readout delays), ps.
    let clockOffsetBPs: Int64

    init(configuration: LinkConfiguration, seed: UInt64, seconds: Double) throws {
        self.seconds = seconds
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: Int64(seconds * 1e12), seed: seed)
        let truth = try simulation.makeSimulator().groundTruth()
        func shift(_ role: StreamRole) -> Int64 {
            truth.streams.first { $0.role == role }.map { $0.delayPs + $0.clock.offsetPs } ?? 0
        }
        clockOffsetBPs = shift(.labB) - shift(.labA)
        if let segment = truth.pairSourceSegments?.first {
            heralded = false
            tagRateHzA = segment.singlesRateAHz
            tagRateHzB = segment.singlesRateBHz
            heraldRateHz = 0
            coincidenceRateHz = segment.coincidenceRateHz
            liveFidelity = segment.visibility
            fidelity = segment.fidelity
        } else if let segment = truth.heraldedSegments?.first {
            heralded = true
            let successes = segment.psiPlusProbability + segment.psiMinusProbability
            tagRateHzA = nil
            tagRateHzB = segment.heraldRateHz
            heraldRateHz = segment.heraldRateHz
            coincidenceRateHz = segment.heraldRateHz
            liveFidelity = successes > 0
                ? (segment.psiPlusProbability * segment.fidelityPsiPlus + segment.psiMinusProbability * segment.fidelityPsiMinus) / successes : 0
            fidelity = liveFidelity
        } else {
            throw CommandFailure("the simulator has no ground truth for \(configuration.name)")
        }
    }
}

/// Measured against expected, as written to summary.json.
struct DemoSummary: Codable {
    struct Row: Codable {
        var quantity: String
        var measured: Double?
        /// Standard error of `measured` (fidelities), and whether it is the Z/X lower bound.
        var standardError: Double? = nil
        var isLowerBound: Bool? = nil
        var expected: Double?
        var unit: String
        /// The planner's prediction for the configuration's `model:`, where it predicts this quantity.
        var planner: Double?
    }
    var runDirectory: String
    var linkSeconds: Double
    var rows: [Row]
    var checks: [String: Bool]
    var coordinator: StatusReport?
    /// The coordinator's live analysis at the end of the run (the engine of `qlink correlate`).
    var analysis: LinkAnalysisSnapshot?
    var nodes: [NodeStatusFile]
    var journal: [String: Int]
    /// The coordinator's monitoring (status server) just before the nodes stopped.
    var monitoring: DemoMonitoringSnapshot?
}

/// The end of a demo: the summary on screen, summary.json, SVG plots and report.html in the run folder.
struct DemoReport {
    let run: DemoRun
    let expected: DemoExpectation
    let monitoring: DemoMonitoringSnapshot?

    /// Prints the summary, writes the run folder's files and returns the names of the checks that failed.
    func write() throws -> [String] {
        let coordinatorFile = StatusFile.read(CoordinatorStatusFile.self, from: run.coordinatorStatusPath)
        let status = coordinatorFile?.status
        let analysis = coordinatorFile?.analysis
        let nodes = run.configuration.labs.prefix(2).compactMap { StatusFile.read(NodeStatusFile.self, from: run.nodeStatusPath($0.name)) }
        let journal = try CoordinatorJournal(path: run.journalPath)
        var counts: [String: Int] = [:]
        for table in CoordinatorJournal.Table.allCases { counts[table.rawValue] = try journal.count(table) }

        let seconds = expected.seconds
        let labs = run.configuration.labs.prefix(2).map(\.node)
        func rate(_ count: Int64?) -> Double? { count.map { Double($0) / seconds } }
        /// The Poisson standard error of a rate from its count.
        func rateError(_ count: Int64?) -> Double? { count.map { Double(max($0, 0)).squareRoot() / seconds } }
        var rows: [DemoSummary.Row] = []
        if labs.count == 2 {
            rows.append(.init(quantity: "\(labs[0]) tag rate", measured: rate(status?.tagsByNode[labs[0]]), standardError: rateError(status?.tagsByNode[labs[0]]),
                              expected: expected.tagRateHzA, unit: "Hz"))
            rows.append(.init(quantity: "\(labs[1]) tag rate", measured: rate(status?.tagsByNode[labs[1]]), standardError: rateError(status?.tagsByNode[labs[1]]),
                              expected: expected.tagRateHzB, unit: "Hz"))
        }
        // The planner at the link's resolved attempt rate (simulation.repetition_rate_hz before the model's clock).
        let prediction = try ResolvedLink(run.configuration).model.flatMap { model in
            model.clock.repetitionRateHz.map { LinkProfile(model).evaluate(OperatingPoint(repetitionRateHz: $0, knob: model.protocol.knob)) }
        }
        if expected.heralded {
            rows.append(.init(quantity: "herald rate (ψ⁺ and ψ⁻)", measured: rate(status?.heraldSuccesses), standardError: rateError(status?.heraldSuccesses),
                              expected: expected.heraldRateHz,
                              unit: "Hz", planner: prediction?.pairRateHz))
            rows.append(.init(quantity: "heralds with both readouts", measured: rate(status?.coincidences), standardError: rateError(status?.coincidences),
                              expected: expected.coincidenceRateHz,
                              unit: "Hz"))
            rows.append(.init(quantity: "fidelity (Z, X, Y per herald)", measured: status?.fidelity, standardError: status?.fidelityError,
                              isLowerBound: status?.fidelityIsLowerBound, expected: expected.liveFidelity, unit: "", planner: prediction?.fidelity))
            for (key, label) in [("psi_plus", "fidelity after ψ⁺ heralds"), ("psi_minus", "fidelity after ψ⁻ heralds")] {
                rows.append(.init(quantity: label, measured: status?.fidelityByHerald?[key], standardError: status?.fidelityErrorByHerald?[key],
                                  isLowerBound: status?.fidelityIsLowerBound, expected: nil, unit: ""))
            }
        } else {
            rows.append(.init(quantity: "coincidence rate (all bases)", measured: rate(status?.coincidences), standardError: rateError(status?.coincidences),
                              expected: expected.coincidenceRateHz,
                              unit: "Hz", planner: prediction?.pairRateHz))
            rows.append(.init(quantity: "Z/X fidelity bound (truth: V)", measured: status?.fidelity, standardError: status?.fidelityError,
                              isLowerBound: status?.fidelityIsLowerBound, expected: expected.liveFidelity, unit: ""))
            rows.append(.init(quantity: "fidelity (truth: (1+3V)/4)", measured: nil, expected: expected.fidelity, unit: "", planner: prediction?.fidelity))
        }
        rows.append(.init(quantity: "clock offset of lab B", measured: status?.clockOffsetPs, expected: Double(expected.clockOffsetBPs), unit: "ps"))

        let heralds = status?.heralds ?? -1
        var checks: [String: Bool] = [
            "every batch acknowledged (nothing still spooled)": !nodes.isEmpty && nodes.allSatisfy { $0.spoolBatches == 0 },
            "nothing dropped": nodes.allSatisfy { $0.droppedTags == 0 },
            "no gaps or malformed messages": (status?.gaps ?? 1) == 0 && (status?.malformed ?? 1) == 0,
        ]
        // Herald checks mean something only on a heralded link (a pair source decides none).
        if expected.heralded {
            checks["heralds decided"] = heralds > 0
            checks["every herald received by every node"] = heralds > 0 && nodes.count == 2
                && nodes.allSatisfy { Int64($0.lastHeraldSequence) == heralds && $0.missingHeralds == 0 }
            checks["journal holds every herald"] = heralds > 0 && counts["herald"] == Int(heralds)
        }
        if expected.heralded, let prediction, let status {
            // Measured versus planned: Poisson error of the herald count, standard error of the fidelity.
            let heralds = Double(status.heraldSuccesses)
            checks["herald rate within 3 standard errors of the planner"] = heralds > 0
                && abs(heralds / seconds - prediction.pairRateHz) <= 3 * heralds.squareRoot() / seconds
            if let fidelity = status.fidelity, let error = status.fidelityError {
                checks["fidelity within 3 standard errors of the planner"] = abs(fidelity - prediction.fidelity) <= 3 * error
            }
        }
        if let fidelity = status?.fidelity, let error = status?.fidelityError {
            let name = expected.heralded ? "fidelity within 3 standard errors of the truth" : "Z/X fidelity bound within 3 standard errors of the truth"
            checks[name] = abs(fidelity - expected.liveFidelity) <= 3 * error + (expected.heralded ? 0 : 0.01)
        }

        print("\nSummary (\(String(format: "%.0f", seconds)) s of link time)")
        if let status { print("  final: " + DemoStatusLine.format(status, heralded: expected.heralded)) }
        func column(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
        print("  " + column("quantity", 32) + column("measured", 34) + column("simulation truth", 18) + "planner (model:)")
        for row in rows {
            print("  " + column(row.quantity, 32) + column(Self.measured(row), 34) + column(row.expected.map { Self.format($0, unit: row.unit) } ?? "—", 18)
                  + (row.planner.map { Self.format($0, unit: row.unit) } ?? "—"))
        }
        if prediction != nil && !expected.heralded {
            print("  (the planner predicts the pairs' fidelity; the live Z/X estimate is a lower bound on it)")
        }
        if let analysis {
            print("  the coordinator's analysis (the engine of qlink correlate):")
            for line in LinkAnalysisFormat.text(analysis).split(separator: "\n") { print("    " + line) }
        }
        for node in nodes {
            print("  \(node.node): batches spooled \(node.batchesSpooled), acknowledged \(node.batchesAcknowledged), still spooled \(node.spoolBatches), "
                  + "dropped \(node.droppedBatches)" + (expected.heralded
                      ? ", heralds received \(node.heraldsReceived) (last #\(node.lastHeraldSequence), re-requested \(node.heraldsRequested))" : ""))
        }
        print("  journal: \(counts["batch"] ?? 0) batches, " + (expected.heralded ? "\(counts["herald"] ?? 0) heralds, " : "")
              + "\(counts["result"] ?? 0) status records")
        if let monitoring {
            let alerts = monitoring.alerts.isEmpty ? "no active alerts"
                : monitoring.alerts.map { "\($0.severity.rawValue) \($0.rule.rawValue) (\($0.subject)): \($0.message)" }.joined(separator: "; ")
            let certificates = monitoring.certificateDaysLeft.sorted { $0.key < $1.key }
                .map { "\($0.key) \(String(format: "%.0f", $0.value)) d" }.joined(separator: ", ")
            print("  monitoring (\(monitoring.url)): link \(monitoring.state), \(alerts); \(monitoring.metricSamples) metric samples; "
                  + "certificates valid for \(certificates.isEmpty ? "—" : certificates)")
        } else {
            print("  monitoring: the status server did not answer")
        }
        for (name, passed) in checks.sorted(by: { $0.key < $1.key }) { print("  [\(passed ? "ok" : "FAILED")] \(name)") }

        let summary = DemoSummary(runDirectory: run.directory, linkSeconds: seconds, rows: rows, checks: checks,
                                  coordinator: status, analysis: analysis, nodes: nodes, journal: counts, monitoring: monitoring)
        try StatusFile.write(summary, to: run.directory + "/summary.json")
        var plots = try DemoPlots(journal: journal, expected: expected).render()
        // The live tomography at the end of the run (links whose labs measure Z, X and Y): Re ρ and Im ρ.
        if let tomography = analysis?.tomography?.first { plots.append(("tomography", LinkAnalysisFormat.tomographySVG(tomography))) }
        for (name, svg) in plots { try svg.write(toFile: run.directory + "/\(name).svg", atomically: true, encoding: .utf8) }
        try html(summary: summary, plots: plots.map(\.name)).write(toFile: run.directory + "/report.html", atomically: true, encoding: .utf8)
        print("  run folder: \(run.directory) (summary.json, report.html, \(plots.map { $0.name + ".svg" }.joined(separator: ", ")), journal, logs)")
        return checks.filter { !$0.value }.map(\.key).sorted()
    }

    /// The measured column: a fidelity with its standard error in `LinkAnalysisFormat`'s words (bounds as bounds),
    /// other quantities by ``format(_:unit:)``.
    static func measured(_ row: DemoSummary.Row) -> String {
        guard let value = row.measured else { return "—" }
        guard let error = row.standardError else { return format(value, unit: row.unit) }
        guard row.unit.isEmpty else { return format(value, unit: row.unit, standardError: error) }
        return LinkAnalysisFormat.fidelity(Estimate(value, standardError: error), isLowerBound: row.isLowerBound != false)
    }

    static func format(_ value: Double, unit: String, standardError: Double? = nil) -> String {
        let error = standardError.map { String(format: " ± %.0f", $0) } ?? ""
        switch unit {
        case "Hz": return String(format: "%.0f", value) + error + " /s"
        case "ps": return String(format: "%.0f", value) + error + " ps"
        default: return String(format: "%.4f", value)
        }
    }

    private func html(summary: DemoSummary, plots: [String]) -> String {
        let escape = SVGPlot.escape
        var rows = ""
        for row in summary.rows {
            rows += "<tr><td>\(escape(row.quantity))</td><td>\(escape(Self.measured(row)))</td>"
                + "<td>\(row.expected.map { Self.format($0, unit: row.unit) } ?? "—")</td><td>\(row.planner.map { Self.format($0, unit: row.unit) } ?? "—")</td></tr>\n"
        }
        var checks = ""
        for (name, passed) in summary.checks.sorted(by: { $0.key < $1.key }) {
            checks += "<li>\(passed ? "✔" : "✘ FAILED") \(escape(name))</li>\n"
        }
        var nodes = ""
        for node in summary.nodes {
            nodes += "<tr><td>\(escape(node.node))</td><td>\(node.batchesSpooled)</td><td>\(node.batchesAcknowledged)</td><td>\(node.spoolBatches)</td>"
                + "<td>\(node.droppedTags)</td><td>\(node.heraldsReceived)</td><td>\(node.lastHeraldSequence)</td></tr>\n"
        }
        return """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>QLink demo report</title>
        <style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}</style>
        </head><body>
        <h1>QLink demo</h1>
        <p>Run folder <code>\(escape(summary.runDirectory))</code>, \(String(format: "%.0f", summary.linkSeconds)) s of link time,
        a coordinator and two nodes as separate processes over CURVE on 127.0.0.1.</p>
        <h2>Measured and expected</h2>
        <table><tr><th>quantity</th><th>measured</th><th>simulation truth</th><th>planner (model:)</th></tr>
        \(rows)</table>
        \(summary.analysis.map { "<h2>The coordinator's analysis</h2>\n<p>The engine of <code>qlink correlate</code>, at the end of the run.</p>\n" + LinkAnalysisFormat.html($0) } ?? "")
        <h2>Monitoring</h2>
        <p>\(monitoring.map { m in "Status server \(escape(m.url)): link \(escape(m.state)), "
            + (m.alerts.isEmpty ? "no active alerts" : m.alerts.map { escape("\($0.severity.rawValue) \($0.rule.rawValue) (\($0.subject)): \($0.message)") }.joined(separator: "; "))
            + ", \(m.metricSamples) metric samples." } ?? "The status server did not answer.")</p>
        <h2>Checks</h2><ul>
        \(checks)</ul>
        <h2>Nodes</h2>
        <table><tr><th>node</th><th>spooled</th><th>acknowledged</th><th>still spooled</th><th>dropped tags</th><th>heralds received</th><th>last herald</th></tr>
        \(nodes)</table>
        <h2>Over time</h2>
        \(plots.map { "<p><img src=\"\($0).svg\" alt=\"\($0)\"></p>" }.joined(separator: "\n"))
        </body></html>

        """
    }
}

/// Time series from the journal's rolling results, as SVG line charts.
struct DemoPlots {
    let journal: CoordinatorJournal
    let expected: DemoExpectation

    func render() throws -> [(name: String, svg: String)] {
        let decoder = JSONDecoder()
        let statuses = try journal.results().compactMap { try? decoder.decode(StatusReport.self, from: Data($0.json.utf8)) }
            .filter { $0.elapsedSeconds > 0 }
        let palette = SVGPlot.palette
        var rateSeries: [SVGPlot.Series] = []
        let nodes = Set(statuses.flatMap { $0.tagsByNode.keys }).sorted()
        for (index, node) in nodes.enumerated() {
            var points: [(x: Double, y: Double)] = []
            for (previous, next) in zip(statuses, statuses.dropFirst()) where next.elapsedSeconds > previous.elapsedSeconds {
                let delta = Double((next.tagsByNode[node] ?? 0) - (previous.tagsByNode[node] ?? 0))
                points.append((next.elapsedSeconds, delta / (next.elapsedSeconds - previous.elapsedSeconds)))
            }
            rateSeries.append(.init(name: node, points: points, colour: palette[index % palette.count]))
        }
        var heraldPoints: [(x: Double, y: Double)] = []
        for (previous, next) in zip(statuses, statuses.dropFirst()) where next.elapsedSeconds > previous.elapsedSeconds {
            heraldPoints.append((next.elapsedSeconds, Double(next.heralds - previous.heralds) / (next.elapsedSeconds - previous.elapsedSeconds)))
        }
        let fidelity = statuses.compactMap { s in s.fidelity.map { (x: s.elapsedSeconds, y: $0) } }
        let upper = statuses.compactMap { s in s.fidelity.flatMap { f in s.fidelityError.map { (x: s.elapsedSeconds, y: f + $0) } } }
        let lower = statuses.compactMap { s in s.fidelity.flatMap { f in s.fidelityError.map { (x: s.elapsedSeconds, y: f - $0) } } }
        let truth = fidelity.isEmpty ? [] : [(x: fidelity[0].x, y: expected.liveFidelity), (x: fidelity[fidelity.count - 1].x, y: expected.liveFidelity)]
        let offsetError = statuses.compactMap { s in s.clockOffsetPs.map { (x: s.elapsedSeconds, y: $0 - Double(expected.clockOffsetBPs)) } }
        // A pair source decides no heralds: no (all-zero) herald plot.
        let heraldPlot = expected.heralded ? [("heralds", SVGPlot(title: "Heralds per second", xLabel: "run time (s)", yLabel: "heralds/s",
                                                                  series: [.init(name: "heralds", points: heraldPoints, colour: palette[0])]).render())] : []
        return [
            ("rates", SVGPlot(title: "Tag rate per node (coordinator's view)", xLabel: "run time (s)", yLabel: "tags/s", series: rateSeries).render()),
        ] + heraldPlot + [
            ("fidelity", SVGPlot(title: expected.heralded ? "Fidelity of the heralded states (Z, X, Y) ± standard error" : "Fidelity lower bound (Z, X) ± standard error", xLabel: "run time (s)", yLabel: "fidelity",
                                 series: [.init(name: "measured", points: fidelity, colour: palette[0]),
                                          .init(name: "+1 s.e.", points: upper, colour: palette[5]),
                                          .init(name: "−1 s.e.", points: lower, colour: palette[5]),
                                          .init(name: "truth", points: truth, colour: palette[1])]).render()),
            ("clock-offset", SVGPlot(title: "Recovered clock offset minus truth", xLabel: "run time (s)", yLabel: "ps",
                                     series: [.init(name: "offset error", points: offsetError, colour: palette[2])]).render()),
        ]
    }
}
