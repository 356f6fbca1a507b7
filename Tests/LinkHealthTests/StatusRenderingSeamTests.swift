import Correlation
import Foundation
import LinkModel
import Monitoring
import QLinkTestSupport
import Services
import Simulation
import Testing

/// One formatter for every surface: a real live-analysis snapshot of the pair-source demo link (Z/X bases, so its
/// fidelity is the Z/X lower bound) is served by a status server as a coordinator's `/status`; the JSON's rows,
/// `qlink status`, the HTML table of `report.html` and `qlink correlate`'s text all show the same label and value
/// strings, and the fidelity reads "F ≥ … (Z/X bound)" on each; so do `qlink demo`'s summary and its `report.html`.
@Suite("Status, dashboard rows, report and correlate render one snapshot alike")
struct StatusRenderingSeamTests {
    /// The coordinator's live analysis of `seconds` of configs/demo-pair-source.yaml, fed the nodes' chunks.
    static func liveSnapshot(seconds: Double) throws -> (LinkConfiguration, LinkAnalysisSnapshot) {
        let configuration = try LinkConfiguration.load(from: TestEnvironment.projectRoot.appendingPathComponent("configs/demo-pair-source.yaml").path)
        var analysis = LiveAnalysis(layout: try #require(ConfigurationMapping.analysisLayout(configuration)))
        var simulator = try ConfiguredSimulation(configuration: configuration, durationPs: Int64(seconds * 1e12), seed: 5).makeSimulator()
        while let step = simulator.next() {
            if let a = step.chunk(.labA)?.batch { analysis.add(lab: 0, batch: a) }
            if let b = step.chunk(.labB)?.batch { analysis.add(lab: 1, batch: b) }
        }
        analysis.finish()
        return (configuration, analysis.snapshot)
    }

    @Test func everySurfaceShowsTheSameRowsAndTheBoundAsABound() async throws {
        let (configuration, snapshot) = try Self.liveSnapshot(seconds: 0.25)
        let bound = try #require(snapshot.fidelityLowerBound, "a Z/X link has a fidelity lower bound")
        #expect(snapshot.fidelity == nil, "no Y basis: no full fidelity")
        let rows = LinkAnalysisFormat.rows(snapshot)
        let boundText = LinkAnalysisFormat.fidelity(bound, isLowerBound: true)
        #expect(boundText.hasPrefix("F ≥ ") && boundText.hasSuffix(" (Z/X bound)"))
        #expect(rows.contains { $0.value == boundText }, "\(rows)")

        let monitor = try LinkMonitor(link: configuration, role: "coordinator", history: nil, logger: quietLogger)
        let observed = try #require(snapshot.reportedFidelity)
        await monitor.observe(LinkObservation(timePs: snapshot.linkTimePs ?? 0,
                                              fidelity: observed.estimate,
                                              fidelityIsLowerBound: observed.isLowerBound))
        await monitor.setAnalysis(snapshot)
        let port = PortBox()
        let server = StatusServer(host: "127.0.0.1", port: 0, source: monitor, logger: quietLogger)
        let serverTask = Task { try await server.run { await port.set($0) } }
        defer { serverTask.cancel() }
        #expect(await eventually { await port.value != nil })
        let base = "http://127.0.0.1:\(try #require(await port.value))"

        // /status JSON: the snapshot itself, its rows as the dashboard shows them, the observation's fidelity in words.
        let status = try StatusCoding.decoder().decode(LinkStatus.self, from: try #require(await httpBody(base + "/status")))
        #expect(status.analysis == snapshot)
        #expect(status.analysisRows == rows)
        #expect(status.fidelityText == boundText)

        // qlink status, report.html's table and qlink correlate's text: every row's label and value, once each.
        let correlate = LinkAnalysisFormat.text(snapshot).split(separator: "\n").map(String.init)
        let table = LinkAnalysisFormat.html(snapshot)
        func html(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        #expect(correlate.count == rows.count)
        for (row, line) in zip(rows, correlate) {
            #expect(line == "\(row.label): \(row.value)")
            #expect(table.contains("<tr><td>\(html(row.label))</td><td>\(html(row.value))</td></tr>"), "\(row)")
        }
        #expect(table.contains("F ≥ ") && table.contains("±"))
        if QLinkRunner.isBuilt {
            // Off the cooperative pool: waiting for the child there could leave this process's status server no
            // thread to answer it on a loaded 2-core machine.
            let result = try await offPool { try QLinkRunner.run(["status", "--url", base, "--timeout", "600"], in: FileManager.default.temporaryDirectory) }
            #expect(result.status == 0, "\(result.error)")
            let printed = result.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            for line in correlate { #expect(printed.contains(line), "qlink status lacks \(line)") }
            #expect(!result.output.contains("fidelity:"), "the analysis' fidelity is shown once, as the bound")
        }
    }

    /// `qlink demo` on the pair-source link: its summary (the measured column and the coordinator's analysis) and
    /// `report.html` show the Z/X bound as a bound, in the rows of the snapshot the coordinator left in its status file.
    @Test(.enabled(if: QLinkRunner.isBuilt, "the qlink executable is not built in .build/debug"))
    func theDemoSummaryAndReportShowTheBoundAsABound() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-format-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (run, result) = try DemoReportReading.demo("configs/demo-pair-source.yaml", in: folder)
        let summary = try #require(StatusFile.read(DemoSummaryAnalysis.self, from: run + "/summary.json"), "\(result.output)\n\(result.error)")
        let analysis = try #require(summary.analysis, "the demo's summary.json has the coordinator's analysis")
        let report = try String(contentsOfFile: run + "/report.html", encoding: .utf8)
        #expect(report.contains(LinkAnalysisFormat.html(analysis)))
        for row in LinkAnalysisFormat.rows(analysis) {
            #expect(result.output.contains("    \(row.label): \(row.value)\n"), "the demo summary lacks \(row)")
        }
        // The demo streams in real time: a machine loaded enough may end it before the analysis has a fidelity.
        // Whenever it has one, it is the bound, worded as a bound in the measured column, the analysis and the report.
        let measured = try #require(result.output.split(separator: "\n").first { $0.contains("Z/X fidelity lower bound (truth: V)") }, "\(result.output)")
        if let bound = analysis.fidelityLowerBound {
            let text = LinkAnalysisFormat.fidelity(bound, isLowerBound: true)
            #expect(measured.contains(text), "\(measured)")
            #expect(LinkAnalysisFormat.rows(analysis).contains { $0.value == text })
            #expect(report.contains("<td>\(text)</td>"))
        } else {
            #expect(!measured.contains("F "), "no analysed fidelity, none in the measured column: \(measured)")
        }
        #expect(analysis.fidelity == nil, "no Y basis on this link: no full fidelity")
        // The exit status tells the checks' truth; a pair source decides no heralds, so no herald check is shown.
        let failedChecks = result.output.split(separator: "\n").filter { $0.contains("[FAILED]") }
        #expect((result.status == 0) == failedChecks.isEmpty, "exit \(result.status), failed: \(failedChecks)\n\(result.error)")
        if result.status != 0 { #expect(result.error.contains("check(s) FAILED"), "\(result.error)") }
        #expect(!result.output.contains("herald"), "herald lines on a pair-source link:\n\(result.output)")
        let tagRate = try #require(result.output.split(separator: "\n").first { $0.contains("alice-node tag rate") }, "\(result.output)")
        #expect(tagRate.contains(" ± "), "a rate without its standard error: \(tagRate)")
        try DemoReportReading.checkPlotsAndTable(run: run, heralded: false)
        // Truth (1+3V)/4 and the planner differ on a pair source; the summary says what each is and why: the planner's
        // multi-pair and noise attempts (F = 1/4) make up (truth − planner)/(truth − 1/4) of the pairs it counts.
        let lines = result.output.split(separator: "\n").map(String.init)
        let truthLine = try #require(lines.first { $0.contains("Truth vs planner: the truth (1+3V)/4 = ") }, "\(result.output)")
        #expect(truthLine.contains("continuous Poisson stream") && truthLine.contains("pair_fidelity"))
        let plannerLine = try #require(lines.first { $0.contains("The planner's ") && $0.contains("maximally mixed state (F = 1/4)") }, "\(result.output)")
        let truth = try #require(truthLine.firstMatch(of: /= ([0-9.]+) is the fidelity of every pair/).flatMap { Double($0.1) })
        let planned = try #require(plannerLine.firstMatch(of: /The planner's ([0-9.]+) is/).flatMap { Double($0.1) })
        let percent = try #require(plannerLine.firstMatch(of: /that is ([0-9.]+) % of its pairs/).flatMap { Double($0.1) })
        let row = try #require(lines.first { $0.contains("fidelity (truth: (1+3V)/4)") }, "\(result.output)")
        #expect(row.contains(String(format: "%.4f", truth)) && row.contains(String(format: "%.4f", planned)), "the explanation quotes the table: \(row)")
        #expect(planned < truth && abs(percent - 100 * (truth - planned) / (truth - 0.25)) < 0.06, "\(plannerLine)")
        #expect(report.contains("<p class=\"truth-planner\">Truth vs planner: the truth (1+3V)/4"))
    }

    /// `qlink demo` on the heralded link: herald plot from zero with Poisson error bars on link time, every estimate
    /// in report.html with its error, and truth and planner — the same quantity there — said to agree.
    @Test(.enabled(if: QLinkRunner.isBuilt, "the qlink executable is not built in .build/debug"))
    func theHeraldedDemoPlotsHeraldsAndComparesTruthWithPlanner() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-heralded-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (run, result) = try DemoReportReading.demo("configs/demo.yaml", in: folder)
        #expect(FileManager.default.fileExists(atPath: run + "/report.html"), "\(result.output)\n\(result.error)")
        try DemoReportReading.checkPlotsAndTable(run: run, heralded: true)
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("Truth vs planner:") }, "\(result.output)")
        #expect(line.contains("they agree") && line.contains("herald-weighted fidelity"), "\(line)")
    }

    @Test("a run folder that holds an earlier run is refused before anything starts", .enabled(if: QLinkRunner.isBuilt, "the qlink executable is not built in .build/debug"))
    func theDemoRefusesAUsedRunFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-used-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("run/coordinator"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = TestEnvironment.projectRoot.appendingPathComponent("configs/demo-pair-source.yaml").path
        let result = try QLinkRunner.run(["demo", "--seconds", "1", "--config", config, "--run-directory", folder.appendingPathComponent("run").path], in: folder)
        #expect(result.status != 0)
        #expect(result.error.contains("is not empty") && result.error.contains("--run-directory"), "\(result.error)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("run/pki").path), "nothing is written into the used folder")
    }

    /// The part of the demo's summary.json this suite reads.
    struct DemoSummaryAnalysis: Decodable {
        var analysis: LinkAnalysisSnapshot?
    }

    @Test func aFullFidelityIsShownAsAnEqualityAndEscapedInHTML() {
        var snapshot = LinkAnalysisSnapshot(durationPs: 2_000_000_000_000)
        snapshot.targetState = .psiMinus
        snapshot.fidelity = Estimate(0.95, standardError: 0.01)
        snapshot.fidelityCountBasis = .raw
        snapshot.singles = [.init(channel: 1, counts: 10, rateHz: 5)]
        snapshot.singles[0].lab = "a<b&c"
        #expect(LinkAnalysisFormat.text(snapshot).contains("Fidelity to psiMinus [raw]: F = 0.95 ± 0.01"))
        #expect(!LinkAnalysisFormat.text(snapshot).contains("≥"))
        #expect(LinkAnalysisFormat.html(snapshot).contains("<td>Singles a&lt;b&amp;c ch 1</td><td>10 (5 ± 2 Hz)</td>"))
        var status = LinkStatus(link: "l", state: "running", role: "coordinator", timePs: 0, uptimeSeconds: 0,
                                observation: LinkObservation(timePs: 0, fidelity: Estimate(0.9, standardError: 0.02)))
        #expect(status.fidelityText == "F = 0.9 ± 0.02")
        status.observation?.fidelityIsLowerBound = true
        #expect(status.fidelityText == "F ≥ 0.9 ± 0.02 (Z/X bound)")
        status.analysis = snapshot
        #expect(status.analysisRows == LinkAnalysisFormat.rows(snapshot))
        #expect(StatusText.render(status).contains("    Fidelity to psiMinus [raw]: F = 0.95 ± 0.01"))
    }
}

/// Reads back a demo run folder's plots and report.html.
enum DemoReportReading {
    /// Runs `qlink demo` for 3 s of the shipped configuration `config` with its run folder `run` in `folder` (created).
    static func demo(_ config: String, in folder: URL) throws -> (run: String, result: (status: Int32, output: String, error: String)) {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let run = folder.appendingPathComponent("run").path
        let path = TestEnvironment.projectRoot.appendingPathComponent(config).path
        return (run, try QLinkRunner.run(["demo", "--seconds", "3", "--config", path, "--run-directory", run], in: folder))
    }

    /// The plots: counts and rates from zero with Poisson error bars on link time, labelled windowed and cumulative;
    /// the fidelity's ±1σ band inside the frame; no herald plot on a pair source (a note instead). The report's
    /// measured column: every estimate with its error.
    static func checkPlotsAndTable(run: String, heralded: Bool) throws {
        let manager = FileManager.default
        let report = try String(contentsOfFile: run + "/report.html", encoding: .utf8)
        var counted = ["rates", "coincidences"]
        if heralded {
            counted.append("heralds")
        } else {
            #expect(!manager.fileExists(atPath: run + "/heralds.svg"), "an all-zero herald plot on a pair-source link")
            #expect(report.contains("No herald plot: a pair-source link decides no heralds"), "no note for the left-out herald plot")
            #expect(!report.contains("heralds.svg"))
        }
        for name in counted {
            let svg = try String(contentsOfFile: run + "/\(name).svg", encoding: .utf8)
            #expect(report.contains("<img src=\"\(name).svg\""))
            // A machine loaded enough may end the demo before the analysis reported a link time: no coincidences to plot.
            if name == "coincidences", svg.contains("no data to plot") { continue }
            #expect(SVGReading.frame("data-y-min", in: svg) == 0, "\(name).svg: a count axis that does not start at zero")
            #expect(svg.contains("link time (s)") && !svg.contains("run time"), "\(name).svg is not on link time")
            #expect(svg.contains("cumulative") && svg.contains("windowed ("), "\(name).svg: series not labelled windowed/cumulative")
            #expect(!SVGReading.errorBars(svg).isEmpty, "\(name).svg has no error bars")
        }
        let fidelity = try String(contentsOfFile: run + "/fidelity.svg", encoding: .utf8)
        #expect(fidelity.contains("cumulative"))
        for vertex in SVGReading.bandVertices(fidelity) {
            #expect(vertex.y >= 39.95 && vertex.y <= 420.05, "a band vertex outside the frame: \(vertex)")
        }
        // The measured column of "Measured and expected": every estimate carries its error, bounds say so.
        let table = try #require(report.components(separatedBy: "<h2>Measured and expected</h2>").last?.components(separatedBy: "</table>").first)
        let rows = table.matches(of: /<tr><td>([^<]*)<\/td><td>([^<]*)<\/td>/).map { (String($0.1), String($0.2)) }
        #expect(rows.count >= 4, "\(table)")
        for (quantity, measured) in rows where measured != "—" {
            #expect(measured.contains("±"), "\(quantity): \(measured) has no standard error")
            if quantity.contains("lower bound") { #expect(measured.contains("F ≥") && measured.contains("(Z/X bound)"), "\(measured)") }
        }
    }
}
