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
}
