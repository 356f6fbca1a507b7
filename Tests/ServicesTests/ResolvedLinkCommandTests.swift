import Foundation
import LinkModel
import QLinkTestSupport
import Testing

/// `qlink config check` and `qlink correlate --config` on the resolved link.
@Suite("qlink on the resolved link", .enabled(if: QLinkRunner.isBuilt, "qlink is not built at .build/debug"))
struct ResolvedLinkCommandTests {
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-resolved-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// `qlink simulate --config` into `directory`, then `qlink correlate --json` on lab A's and lab B's files.
    static func simulateAndCorrelate(config: String, seconds: Double, in directory: URL,
                                     sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let simulate = try QLinkRunner.run(["simulate", "--config", config, "--seconds", "\(seconds)", "--out", directory.path,
                                            "--log-level", "error"], in: directory)
        #expect(simulate.status == 0, "\(simulate.error)", sourceLocation: sourceLocation)
        let correlate = try QLinkRunner.run(["correlate", "alice.qtag", "bob.qtag", "--config", config, "--json",
                                             "--log-level", "error"], in: directory)
        #expect(correlate.status == 0, "\(correlate.error)", sourceLocation: sourceLocation)
        return try #require(try JSONSerialization.jsonObject(with: Data(correlate.output.utf8)) as? [String: Any],
                            sourceLocation: sourceLocation)
    }

    @Test("qlink config check accepts every shipped link configuration and prints the resolved link")
    func configCheck() throws {
        let configs = TestEnvironment.projectRoot.appendingPathComponent("configs")
        let files = try FileManager.default.contentsOfDirectory(atPath: configs.path).sorted().filter { file in
            let text = (try? String(contentsOf: configs.appendingPathComponent(file), encoding: .utf8)) ?? ""
            return file.hasSuffix(".yaml") && (text.hasPrefix("labs:") || text.contains("\nlabs:"))
        }
        #expect(files.count >= 3)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try QLinkRunner.run(["config", "check"] + files.map { configs.appendingPathComponent($0).path }, in: directory)
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.components(separatedBy: ": ok — link").count == files.count + 1, "\(run.output)")
        #expect(run.output.contains("attempts: 20000000.0 Hz (period 50000 ps, from model.clock.repetition_rate_hz)"), "\(run.output)")
        #expect(run.output.contains("analysis alice: outcomes 1+ 2−, bases markers 0→0 1→45 (from simulation)"), "\(run.output)")
        #expect(run.output.contains("heralds: station channels 13/14 on lab alice"), "\(run.output)")
    }

    @Test("a configuration whose simulation announces bases by markers is correlated with those bases, no correlation section")
    func correlateWithSimulatedMarkers() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = TestEnvironment.projectRoot.appendingPathComponent("configs/loopback.yaml").path
        #expect(try LinkConfiguration.load(from: config).correlation == nil)
        let json = try Self.simulateAndCorrelate(config: config, seconds: 0.2, in: directory)
        let entries = try #require(json["bases"] as? [[String: Any]])
        let labels = Set(entries.compactMap { $0["basis"] as? String })
        // Every pair of lab A's analyser angles (0, 45) with lab B's (22.5, 67.5) has its correlation; the
        // detector names (H/V, a passive Z) are not used.
        #expect(labels.count == 4, "\(labels.sorted())")
        #expect(labels.allSatisfy { ($0.hasSuffix("22.5") || $0.hasSuffix("67.5")) && !$0.contains("Z") }, "\(labels.sorted())")
    }

    @Test("configs/tomography.yaml: qlink simulate then qlink correlate gives all nine Z/X/Y setting pairs, each E within 4σ of the ground truth")
    func tomographySettingPairs() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = TestEnvironment.projectRoot.appendingPathComponent("configs/tomography.yaml").path
        let json = try Self.simulateAndCorrelate(config: config, seconds: 0.3, in: directory)
        let entries = try #require(json["bases"] as? [[String: Any]]).filter { $0["countBasis"] as? String == "raw" }
        var measured: [String: (value: Double, error: Double)] = [:]
        for entry in entries {
            guard let label = entry["basis"] as? String, let e = entry["correlation"] as? [String: Double],
                  let value = e["value"], let error = e["standardError"] else { continue }
            measured[label] = (value, error)
        }
        let names = ["Z", "X", "Y"]
        #expect(Set(measured.keys) == Set(names.flatMap { a in names.map { a + $0 } }), "\(measured.keys.sorted())")
        // The ground truth's E per setting pair (indices into the labs' settings z, x, y).
        let truthData = try Data(contentsOf: directory.appendingPathComponent("ground_truth.json"))
        let truth = try #require(try JSONSerialization.jsonObject(with: truthData) as? [String: Any])
        let segment = try #require((truth["pairSourceSegments"] as? [[String: Any]])?.first)
        let cells = try #require(segment["correlations"] as? [[String: Any]])
        #expect(cells.count == 9)
        for cell in cells {
            let a = try #require(cell["basisA"] as? Int), b = try #require(cell["basisB"] as? Int)
            let expected = try #require(cell["correlation"] as? Double)
            let label = names[a] + names[b]
            guard let got = measured[label] else { continue }
            // Raw counts: 0.01 leaves room for accidentals and dead time (each ≲ 0.3 % here), which the truth omits.
            #expect(abs(got.value - expected) <= 4 * got.error + 0.01, "\(label): measured \(got.value) ± \(got.error), truth \(expected)")
        }
        #expect(segment["state"] != nil)
    }
}
