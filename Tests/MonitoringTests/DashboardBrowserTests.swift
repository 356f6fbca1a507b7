import Foundation
import QLinkTestSupport
import Testing
@testable import Monitoring

/// Headless Chromium, when installed (`apt-get install chromium`).
let chromiumPath: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// Runs `executable` with `arguments`; returns the exit status, standard output and standard error.
/// The process is killed after `timeoutSeconds`.
func runProcess(_ executable: String, _ arguments: [String], timeoutSeconds: Double = 600) async throws -> (status: Int32, output: String, errors: String) {
    try await offPool { try runProcessNow(executable, arguments, timeoutSeconds: timeoutSeconds) }
}

func runProcessNow(_ executable: String, _ arguments: [String], timeoutSeconds: Double) throws -> (status: Int32, output: String, errors: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-process-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let outURL = folder.appendingPathComponent("out"), errURL = folder.appendingPathComponent("err")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: timer)
    process.waitUntilExit()
    timer.cancel()
    return (process.terminationStatus, String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
}

@Suite("Dashboard in a headless browser and qlink status", .serialized)
struct DashboardBrowserTests {
    @Test("the dashboard renders, its charts update from /status, and the console shows no error",
          .enabled(if: chromiumPath != nil, "chromium is not installed (apt-get install chromium); the browser check is skipped"))
    func rendersInChromium() async throws {
        let source = FakeStatusSource()
        try await withStatusServer(source) { port in
            let profile = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-chromium-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: profile) }
            let result = try await runProcess(try #require(chromiumPath), [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
                "--enable-logging=stderr", "--v=0", "--virtual-time-budget=4500", "--dump-dom", "http://127.0.0.1:\(port)/",
            ])
            #expect(result.status == 0, "\(result.errors)")
            let dom = result.output
            // The page polled several times and drew every chart.
            let updates = try #require(dom.firstMatch(of: /id="update-count">(\d+)</).map { Int($0.1) ?? 0 })
            #expect(updates >= 3, "\(dom.prefix(2000))")
            #expect(source.requestCount >= 3)
            #expect(dom.contains(#"id="link-state" class="state degraded">degraded<"#))
            #expect(dom.contains(#"id="fidelity-value">F ≥ 0.93"#))
            // The analysis rows as the status server words them: the bound as a bound.
            #expect(dom.contains("<td>Fidelity to psiMinus [raw]</td><td>F ≥ 0.899 ± 0.003 (Z/X bound)</td>"), "\(dom.prefix(4000))")
            #expect(dom.contains("fidelity is 0.79 below the critical level 0.8"))
            for chart in ["chart-arms", "chart-coincidences", "chart-fidelity", "chart-clock", "chart-heralds"] {
                let svg = try #require(dom.firstRange(of: "id=\"\(chart)\"").map { start in
                    dom[start.lowerBound...].prefix { _ in true }.split(separator: "</svg>", maxSplits: 1).first ?? ""
                }, "no \(chart)")
                #expect(svg.contains("<polyline"), "\(chart) has no line")
            }
            #expect(dom.contains("class=\"error-band\""))
            // The history before the page opened is drawn; values carry SI prefixes, never e-notation; the bound is titled as one.
            #expect(dom.contains("600 points of history"), "\(dom.prefix(2000))")
            #expect(dom.contains("1.50 MHz") && dom.contains(" µs<"), "SI-prefixed rates and offsets")
            #expect(dom.firstMatch(of: /\d\.\d+e[+-]\d/) == nil, "e-notation on the page")
            #expect(dom.contains("Fidelity lower bound F ≥ (Z/X bound)"))
            #expect(dom.contains("warning → critical") && dom.contains("fidelity is 0.85 below the warning level 0.9"), "alert history")
            // Console messages are logged as CONSOLE lines; errors would say Uncaught or error.
            let console = result.errors.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("Uncaught") }
            #expect(console.isEmpty, "\(console)")
            // QLINK_DASHBOARD_SCREENSHOT=/path/page.png also saves a picture of the page.
            if let path = ProcessInfo.processInfo.environment["QLINK_DASHBOARD_SCREENSHOT"] {
                _ = try await runProcess(try #require(chromiumPath), [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)-shot",
                    "--window-size=1400,1100", "--virtual-time-budget=6500", "--screenshot=\(path)", "http://127.0.0.1:\(port)/",
                ])
            }
        }
    }

    @Test("qlink status prints the summary from a running server and fails clearly when none answers",
          .enabled(if: qlinkExecutable != nil, "the qlink executable is not built in .build/debug"))
    func statusCommand() async throws {
        let binary = try #require(qlinkExecutable)
        try await withStatusServer(FakeStatusSource()) { port in
            let result = try await runProcess(binary, ["status", "--url", "http://127.0.0.1:\(port)", "--timeout", "300"], timeoutSeconds: 300)
            #expect(result.status == 0, "\(result.errors)")
            #expect(result.output.contains("link loopback (coordinator) — degraded"))
            #expect(result.output.contains("    Fidelity to psiMinus [raw]: F ≥ 0.899 ± 0.003 (Z/X bound)"), "\(result.output)")
            #expect(!result.output.contains("fidelity:"), "the fidelity is shown once, by the analysis")
            #expect(result.output.contains("CRITICAL fidelity_low [link]"))
            #expect(result.output.contains("recommended 800.000 kHz"))
            let json = try await runProcess(binary, ["status", "--url", "127.0.0.1:\(port)", "--json", "--timeout", "300"], timeoutSeconds: 300)
            let status = try StatusCoding.decoder().decode(LinkStatus.self, from: Data(json.output.utf8))
            #expect(status.link == "loopback")
        }
        let listener = try TinyHTTPListener()      // bound but never answering: use a port nobody serves instead
        let port = listener.port
        _ = consume listener
        let failed = try await runProcess(binary, ["status", "--url", "http://127.0.0.1:\(port)"], timeoutSeconds: 300)
        #expect(failed.status != 0)
        #expect(failed.errors.contains("cannot reach the status server"), "\(failed.errors)")
    }
}

/// The `qlink` executable built next to the tests.
let qlinkExecutable: String? = {
    let candidate = projectRoot.appendingPathComponent(".build/debug/qlink").path
    return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
}()
