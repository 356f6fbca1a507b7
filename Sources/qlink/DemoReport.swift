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
    /// What the simulation truth and the planner's fidelity each mean, and why they differ when they do.
    var truthVersusPlanner: [String]
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
            rows.append(.init(quantity: "Z/X fidelity lower bound (truth: V)", measured: status?.fidelity, standardError: status?.fidelityError,
                              isLowerBound: status?.fidelityIsLowerBound, expected: expected.liveFidelity, unit: ""))
            rows.append(.init(quantity: "fidelity (truth: (1+3V)/4)", measured: nil, expected: expected.fidelity, unit: "", planner: prediction?.fidelity))
        }
        if !expected.heralded, let car = analysis?.car {
            rows.append(.init(quantity: "coincidences-to-accidentals ratio", measured: car.value, standardError: car.standardError, expected: nil, unit: "ratio"))
        }
        // The offset's standard error from the analysis the status was taken from.
        rows.append(.init(quantity: "clock offset of lab B", measured: status?.clockOffsetPs, standardError: analysis?.clock?.offsetPs?.standardError,
                          expected: Double(expected.clockOffsetBPs), unit: "ps"))

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
        if let status { print("  final: " + StatusLine.format(status, heralded: expected.heralded)) }
        func column(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
        print("  " + column("quantity", 38) + column("measured", 34) + column("simulation truth", 18) + "planner (model:)")
        for row in rows {
            print("  " + column(row.quantity, 38) + column(Self.measured(row), 34) + column(row.expected.map { Self.format($0, unit: row.unit) } ?? "—", 18)
                  + (row.planner.map { Self.format($0, unit: row.unit) } ?? "—"))
        }
        let comparison = prediction.map { Self.truthVersusPlanner(expected, planner: $0) } ?? []
        for line in comparison { print("  " + line) }
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

        let summary = DemoSummary(runDirectory: run.directory, linkSeconds: seconds, rows: rows, truthVersusPlanner: comparison, checks: checks,
                                  coordinator: status, analysis: analysis, nodes: nodes, journal: counts, monitoring: monitoring)
        try StatusFile.write(summary, to: run.directory + "/summary.json")
        let rendered = try DemoPlots(journal: journal, expected: expected).render()
        var plots = rendered.plots
        let notes = rendered.notes
        // The live tomography at the end of the run (links whose labs measure Z, X and Y): Re ρ and Im ρ.
        if let tomography = analysis?.tomography?.first { plots.append((name: "tomography", svg: LinkAnalysisFormat.tomographySVG(tomography))) }
        for (name, svg) in plots { try svg.write(toFile: run.directory + "/\(name).svg", atomically: true, encoding: .utf8) }
        try html(summary: summary, plots: plots.map(\.name), notes: notes)
            .write(toFile: run.directory + "/report.html", atomically: true, encoding: .utf8)
        print("  run folder: \(run.directory) (summary.json, report.html, \(plots.map { $0.name + ".svg" }.joined(separator: ", ")), journal, logs)")
        return checks.filter { !$0.value }.map(\.key).sorted()
    }

    /// What the "simulation truth" and "planner" fidelities mean for this link and, when they differ by more than
    /// rounding, why.
    ///
    /// Pair source: the truth (1+3V)/4 is the fidelity of every pair the simulator emits (the model's
    /// `midpoint.source.pair_fidelity`), and the simulator emits pairs as a continuous Poisson stream at μ·f, so two
    /// pairs share a coincidence window only as accidentals. The planner models a pulsed source with a Poisson number
    /// of pairs per attempt (mean μ) and counts every attempt in which both labs click as a pair: those where more
    /// than one pair, or a noise or dark count, made a click carry a maximally mixed state (F = 1/4), so its fidelity
    /// is g·F₀ + (1 − g)/4 with g the fraction of clean single-pair attempts (``ClosedForms.pairSource``); the fraction
    /// 1 − g = (truth − planner)/(truth − 1/4) is printed. Heralded link: both are the herald-weighted fidelity of
    /// the heralded states, the simulator's from the density matrix it draws heralds from, the planner's from its
    /// closed form.
    static func truthVersusPlanner(_ expected: DemoExpectation, planner: Performance) -> [String] {
        let truth = expected.fidelity, planned = planner.fidelity
        let agree = abs(truth - planned) < 5e-4
        if expected.heralded {
            let what = "truth and planner are both the herald-weighted fidelity of the heralded ψ⁺/ψ⁻ states for the configuration's model: "
                + "the simulator's from the density matrix it draws each herald from, the planner's from its closed form"
            return [agree
                ? String(format: "Truth vs planner: they agree (%.4f, %.4f): ", truth, planned) + what + "."
                : String(format: "Truth vs planner: %.4f vs %.4f — ", truth, planned) + what
                    + String(format: "; the closed form's approximations (noise clicks, dead time as a live fraction, memory dephasing: docs/planner.md) account for the %.4f between them.", truth - planned)]
        }
        let pairsPerAttempt = planner.point.knob ?? 0, rateHz = planner.point.repetitionRateHz
        var lines = [String(format: "Truth vs planner: the truth (1+3V)/4 = %.4f is the fidelity of every pair the simulator emits "
                            + "(model: midpoint.source.pair_fidelity, V = %.4f); the simulator emits pairs as a continuous Poisson stream "
                            + "(μ·f = %.0f pairs/s), so two pairs meet in a coincidence window only as accidentals, which the live estimate "
                            + "counts and this line leaves out.", truth, expected.liveFidelity, pairsPerAttempt * rateHz)]
        if agree {
            lines.append(String(format: "The planner's %.4f agrees with it.", planned))
        } else {
            let mixed = (truth - planned) / (truth - 0.25)
            lines.append(String(format: "The planner's %.4f is the fidelity of what it counts as a pair in a pulsed model — any attempt "
                                + "(μ = %g pairs per pulse at %g MHz) in which both labs click: when more than one pair, or a noise or dark "
                                + "count, made a click, the attempt carries a maximally mixed state (F = 1/4); that is %.1f %% of its pairs "
                                + "((truth − planner)/(truth − 1/4)), which is why it is lower.", planned, pairsPerAttempt, rateHz / 1e6, 100 * mixed))
        }
        lines.append("The live Z/X estimate is a lower bound on the pairs' fidelity; its truth is V.")
        return lines
    }

    /// The measured column: a fidelity with its standard error in `LinkAnalysisFormat`'s words (bounds as bounds),
    /// other quantities by ``format(_:unit:)``.
    static func measured(_ row: DemoSummary.Row) -> String {
        guard let value = row.measured else { return "—" }
        guard let error = row.standardError else { return format(value, unit: row.unit) }
        guard row.unit.isEmpty, row.quantity.contains("fidelity") else { return format(value, unit: row.unit, standardError: error) }
        return LinkAnalysisFormat.fidelity(Estimate(value, standardError: error), isLowerBound: row.isLowerBound != false)
    }

    static func format(_ value: Double, unit: String, standardError: Double? = nil) -> String {
        switch unit {
        case "Hz": return String(format: "%.0f", value) + (standardError.map { String(format: " ± %.0f", $0) } ?? "") + " /s"
        case "ps": return String(format: "%.0f", value) + (standardError.map { String(format: " ± %.0f", $0) } ?? "") + " ps"
        default: return String(format: "%.4f", value) + (standardError.map { String(format: " ± %.4f", $0) } ?? "")
        }
    }

    private func html(summary: DemoSummary, plots: [String], notes: [String]) -> String {
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
        \(summary.truthVersusPlanner.map { "<p class=\"truth-planner\">\(escape($0))</p>" }.joined(separator: "\n"))
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
        <p>Every series is on link time (the labs' tagger clocks), not the wall clock. Rates are shown per window of link time
        with Poisson error bars (√N) and cumulatively (all counts since the start over the link time so far); the fidelity is
        cumulative, with its ±1σ band.</p>
        \(plots.map { "<p><img src=\"\($0).svg\" alt=\"\($0)\"></p>" }.joined(separator: "\n"))
        \(notes.map { "<p class=\"note\">\(escape($0))</p>" }.joined(separator: "\n"))
        </body></html>

        """
    }
}

/// Counts on link time as rates: windowed (fixed windows of link time, Poisson errors) and cumulative.
struct LinkTimeRates {
    /// Window length, s.
    let windowSeconds: Double
    /// Counts per window (fractional where a span straddles windows) and the link time each window covers, s.
    private(set) var counts: [Double] = []
    private(set) var covered: [Double] = []

    /// Windows of 1 s for runs up to 5 minutes, else a 1-2-5 length giving at most about 300 windows.
    static func window(forSeconds seconds: Double) -> Double {
        guard seconds > 300 else { return 1 }
        let raw = seconds / 300, magnitude = pow(10, floor(log10(raw)))
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
    }

    init(windowSeconds: Double) { self.windowSeconds = windowSeconds }

    /// Adds `count` events spread evenly over link times `firstPs...lastPs` (a batch's span; one instant for an event).
    mutating func add(count: Double, firstPs: Int64, lastPs: Int64) {
        let start = max(0, Double(firstPs) * 1e-12), end = max(start, Double(lastPs) * 1e-12)
        let last = Int(end / windowSeconds)
        if last >= counts.count {
            counts += Array(repeating: 0, count: last + 1 - counts.count)
            covered += Array(repeating: 0, count: last + 1 - covered.count)
        }
        guard end > start else {
            counts[last] += count
            return
        }
        for index in Int(start / windowSeconds)...last {
            let low = max(start, Double(index) * windowSeconds), high = min(end, Double(index + 1) * windowSeconds)
            if high > low { counts[index] += count * (high - low) / (end - start) }
        }
    }

    /// Marks link time `0...endSeconds` as covered (the span the source ran for).
    mutating func cover(throughSeconds end: Double) {
        for index in covered.indices {
            covered[index] = max(0, min(end, Double(index + 1) * windowSeconds) - Double(index) * windowSeconds)
        }
    }

    /// Windowed rates at each window's centre with Poisson errors `√N / Δt` (windows with no link time left out).
    var windowed: (points: [(x: Double, y: Double)], errors: [Double]) {
        let kept = counts.indices.filter { covered[$0] > 0 }
        return (kept.map { (x: Double($0) * windowSeconds + covered[$0] / 2, y: counts[$0] / covered[$0]) },
                kept.map { counts[$0].squareRoot() / covered[$0] })
    }

    /// Cumulative rates (everything since link time 0 over the link time so far) at each window's end.
    var cumulative: (points: [(x: Double, y: Double)], errors: [Double]) {
        var total = 0.0, time = 0.0
        var points: [(x: Double, y: Double)] = [], errors: [Double] = []
        for index in counts.indices where covered[index] > 0 {
            total += counts[index]
            time += covered[index]
            points.append((time, total / time))
            errors.append(total.squareRoot() / time)
        }
        return (points, errors)
    }

    /// The window's words for a legend: "windowed (1 s)".
    var windowLabel: String { "windowed (\(String(format: "%g", windowSeconds)) s)" }
}

/// Time series on link time as SVG charts: tag and herald rates from the journal's batches and heralds (each
/// counted at its own link time), coincidence rate, fidelity and clock offset from the rolling status reports
/// (each at the link time its analysis covers).
struct DemoPlots {
    let journal: CoordinatorJournal
    let expected: DemoExpectation

    /// The plots by file name, and notes for the report about plots left out.
    func render() throws -> (plots: [(name: String, svg: String)], notes: [String]) {
        let decoder = JSONDecoder()
        // Status reports on link time: each with the link time its analysis covers (none before the first event).
        var statuses: [(x: Double, status: StatusReport)] = []
        for result in try journal.results() {
            guard let status = try? decoder.decode(StatusReport.self, from: Data(result.json.utf8)),
                  let linkTimePs = status.analysisLinkTimePs, linkTimePs > 0 else { continue }
            let x = Double(linkTimePs) * 1e-12
            if let last = statuses.last, x <= last.x { continue }
            statuses.append((x, status))
        }
        let palette = SVGPlot.palette
        let window = LinkTimeRates.window(forSeconds: expected.seconds)
        let poisson = "± Poisson error"

        // Tag rates per node from the journal's batches, each batch on its node's link-time span.
        var byNode: [String: LinkTimeRates] = [:]
        for batch in try journal.batches() {
            byNode[batch.node, default: LinkTimeRates(windowSeconds: window)].add(count: Double(batch.tags), firstPs: batch.firstPs, lastPs: batch.lastPs)
        }
        var rateSeries: [SVGPlot.Series] = []
        for (index, node) in byNode.keys.sorted().enumerated() {
            var rates = byNode[node]!
            rates.cover(throughSeconds: expected.seconds)
            let colour = palette[index % palette.count]
            let windowed = rates.windowed, cumulative = rates.cumulative
            rateSeries.append(.init(name: "\(node), \(rates.windowLabel)", points: windowed.points, line: false, colour: colour, errors: windowed.errors))
            rateSeries.append(.init(name: "\(node), cumulative", points: cumulative.points, colour: colour))
        }
        var plots: [(name: String, svg: String)] = [
            ("rates", SVGPlot(title: "Tag rate per node on link time (\(poisson))", xLabel: "link time (s)", yLabel: "tags per second (Hz)",
                              yFromZero: true, xFromZero: true, series: rateSeries).render()),
        ]
        var notes: [String] = []

        if expected.heralded {
            // Heralds (ψ⁺ and ψ⁻) at their attempts' link times.
            var heralds = LinkTimeRates(windowSeconds: window)
            let last = try journal.lastHerald().sequence
            var first: UInt64 = 1
            while first <= last {
                let upper = min(last, first + 99_999)
                for herald in try journal.heralds(in: first...upper) where herald.outcome != .failure {
                    heralds.add(count: 1, firstPs: herald.timePs, lastPs: herald.timePs)
                }
                first = upper + 1
            }
            heralds.cover(throughSeconds: expected.seconds)
            let windowed = heralds.windowed, cumulative = heralds.cumulative
            plots.append(("heralds", SVGPlot(title: "Herald rate (ψ⁺ and ψ⁻) on link time (\(poisson))", xLabel: "link time (s)",
                                            yLabel: "heralds per second (Hz)", yFromZero: true, xFromZero: true, series: [
                .init(name: heralds.windowLabel, points: windowed.points, line: false, colour: palette[0], errors: windowed.errors),
                .init(name: "cumulative", points: cumulative.points, colour: palette[2]),
                .init(name: "simulation truth", points: Self.level(expected.heraldRateHz, over: cumulative.points), colour: palette[1]),
            ]).render()))
        } else {
            notes.append("No herald plot: a pair-source link decides no heralds, so its herald rate is zero throughout.")
        }

        // Coincidences between successive status reports (windows of about the status interval) and cumulative.
        var coincidencePoints: [(x: Double, y: Double)] = [], coincidenceErrors: [Double] = []
        var spans: [Double] = []
        // The first window starts at link time 0, where nothing has been counted.
        let counts = [(x: 0.0, coincidences: Int64(0))] + statuses.map { (x: $0.x, coincidences: $0.status.coincidences) }
        for (previous, next) in zip(counts, counts.dropFirst()) {
            let span = next.x - previous.x, delta = Double(max(0, next.coincidences - previous.coincidences))
            spans.append(span)
            coincidencePoints.append(((previous.x + next.x) / 2, delta / span))
            coincidenceErrors.append(delta.squareRoot() / span)
        }
        let cumulativeCoincidences = statuses.map { (x: $0.x, y: Double($0.status.coincidences) / $0.x) }
        let typicalSpan = spans.sorted().dropFirst(spans.count / 2).first ?? 0
        let coincidenceName = expected.heralded ? "heralds with both readouts" : "coincidences (all bases)"
        plots.append(("coincidences", SVGPlot(title: "Rate of \(coincidenceName) on link time (\(poisson))", xLabel: "link time (s)",
                                             yLabel: "per second (Hz)", yFromZero: true, xFromZero: true, series: [
            .init(name: String(format: "windowed (%.2g s, between status reports)", typicalSpan), points: coincidencePoints, line: false,
                  colour: palette[0], errors: coincidenceErrors),
            .init(name: "cumulative", points: cumulativeCoincidences, colour: palette[2]),
            .init(name: "simulation truth", points: Self.level(expected.coincidenceRateHz, over: cumulativeCoincidences), colour: palette[1]),
        ]).render()))

        // Fidelity: cumulative over all data analysed so far, with its ±1σ band.
        let withFidelity = statuses.compactMap { entry in
            entry.status.fidelity.flatMap { f in entry.status.fidelityError.map { (x: entry.x, y: f, error: $0, bound: entry.status.fidelityIsLowerBound != false) } }
        }
        let fidelity = withFidelity.map { (x: $0.x, y: $0.y) }
        let isBound = withFidelity.last?.bound ?? !expected.heralded
        let measuredName = isBound ? "Z/X lower bound, cumulative" : "measured, cumulative"
        plots.append(("fidelity", SVGPlot(
            title: expected.heralded ? "Fidelity of the heralded states (Z, X, Y), cumulative, ±1σ band" : "Fidelity lower bound (Z, X), cumulative, ±1σ band",
            xLabel: "link time (s)", yLabel: isBound ? "fidelity lower bound" : "fidelity", xFromZero: true,
            series: [.init(name: measuredName, points: fidelity, colour: palette[0]),
                     .init(name: expected.heralded ? "simulation truth" : "simulation truth (V)", points: Self.level(expected.liveFidelity, over: fidelity),
                           colour: palette[1])],
            bands: [.init(name: "±1σ (standard error)", around: fidelity, errors: withFidelity.map(\.error), colour: palette[5])]).render()))

        let offsetError = statuses.compactMap { entry in entry.status.clockOffsetPs.map { (x: entry.x, y: $0 - Double(expected.clockOffsetBPs)) } }
        plots.append(("clock-offset", SVGPlot(title: "Recovered clock offset minus truth", xLabel: "link time (s)", yLabel: "offset error (ps)", xFromZero: true,
                                              series: [.init(name: "offset error, tracked", points: offsetError, colour: palette[2])]).render()))
        return (plots, notes)
    }

    /// A horizontal line at `value` across the x range of `points` (none without points).
    static func level(_ value: Double, over points: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
        guard let first = points.first, let last = points.last else { return [] }
        return [(first.x, value), (last.x, value)]
    }
}
