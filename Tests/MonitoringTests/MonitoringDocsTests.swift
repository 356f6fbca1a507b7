import Foundation
import Testing
@testable import Monitoring

@Suite("Grafana dashboard and Prometheus rules in docs/monitoring")
struct MonitoringDocsTests {
    static let folder = projectRoot.appendingPathComponent("docs/monitoring")

    /// Every `qlink_…` name in `text`.
    static func metricNames(in text: String) -> Set<String> {
        Set(text.matches(of: /qlink_[a-z_]+/).map { String($0.output) })
    }

    /// True when `name` is an exported family or a histogram series of one.
    static func isExported(_ name: String) -> Bool {
        let families = Set(MetricFamily.allCases.map(\.rawValue))
        return families.contains(name) || ["_bucket", "_sum", "_count"].contains { name.hasSuffix($0) && families.contains(String(name.dropLast($0.count))) }
    }

    @Test("the dashboard is valid JSON with panels, and names only exported metrics")
    func dashboard() throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("grafana-dashboard.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(json["panels"] as? [[String: Any]])
        #expect(panels.count >= 10)
        let names = Self.metricNames(in: String(decoding: data, as: UTF8.self))
        #expect(names.count >= 15)
        #expect(names.filter { !Self.isExported($0) }.isEmpty, "\(names.filter { !Self.isExported($0) })")
    }

    @Test("the alerting rules name only exported metrics")
    func alertRules() throws {
        let text = try String(contentsOf: Self.folder.appendingPathComponent("prometheus-alerts.yml"), encoding: .utf8)
        #expect(text.contains("groups:"))
        let names = Self.metricNames(in: text)
        #expect(names.count >= 8)
        #expect(names.filter { !Self.isExported($0) }.isEmpty, "\(names.filter { !Self.isExported($0) })")
    }

    /// The rows of the metrics table in docs/monitoring.md: each documented family with its label names (the
    /// backticked names of the labels column outside parentheses).
    static func documentedFamilies() throws -> [String: Set<String>] {
        let text = try String(contentsOf: projectRoot.appendingPathComponent("docs/monitoring.md"), encoding: .utf8)
        let table = try #require(text.components(separatedBy: "## Metrics").dropFirst().first)
        var families: [String: Set<String>] = [:]
        for line in table.split(separator: "\n") where line.hasPrefix("| `qlink_") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4 else { continue }
            let labelsCell = cells[3].replacing(/\([^)]*\)/, with: "")
            let labels = Set(labelsCell.matches(of: /`([a-z_]+)`/).map { String($0.1) })
            for name in cells[1].matches(of: /`(qlink_[a-z_]+)`/) { families[String(name.1)] = labels }
        }
        return families
    }

    @Test("the metrics table in docs/monitoring.md lists exactly the exported families, with the labels they carry")
    func metricsTable() throws {
        let documented = try Self.documentedFamilies()
        let exported = Set(MetricFamily.allCases.map(\.rawValue))
        #expect(Set(documented.keys) == exported, "documented only: \(Set(documented.keys).subtracting(exported)); exported only: \(exported.subtracting(documented.keys))")
        var parser = ExpositionParser()
        try parser.parse(LinkMetricsTests.populated().exposition())
        for (name, family) in parser.families {
            let served = Set(family.samples.flatMap { $0.labels.keys }).subtracting(["le"])
            #expect(served == documented[name] ?? [], "\(name): served labels \(served.sorted()), documented \(documented[name].map { $0.sorted() } ?? [])")
        }
    }

    /// promtool from Debian's `prometheus` package, when installed.
    static let promtool: String? = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("promtool finds nothing to lint in the served metrics", .enabled(if: promtool != nil, "promtool is not installed (apt-get install prometheus); skipped"))
    func promtoolChecksMetrics() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-metrics-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(LinkMetricsTests.populated().exposition().utf8).write(to: file)
        let result = try await runProcess("/bin/sh", ["-c", "\(try #require(Self.promtool)) check metrics < '\(file.path)'"])
        #expect(result.status == 0 && result.output.isEmpty && result.errors.isEmpty, "\(result.output)\(result.errors)")
    }

    @Test("promtool accepts the shipped alerting rules", .enabled(if: promtool != nil, "promtool is not installed (apt-get install prometheus); skipped"))
    func promtoolChecksRules() async throws {
        let result = try await runProcess(try #require(Self.promtool), ["check", "rules", Self.folder.appendingPathComponent("prometheus-alerts.yml").path])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
    }
}
