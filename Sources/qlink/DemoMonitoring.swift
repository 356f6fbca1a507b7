import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Monitoring
import Services

/// The demo coordinator's monitoring endpoint (status server, Prometheus metrics, dashboard) on 127.0.0.1.
struct DemoMonitoring {
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    /// The coordinator's monitoring status and the number of metric samples it exposes, or nil when it does not answer.
    func snapshot() async -> DemoMonitoringSnapshot? {
        guard let client = try? StatusClient(base: base, timeoutSeconds: 30), let status = try? await client.fetch() else { return nil }
        var samples = 0
        if let url = URL(string: base + "/metrics"),
           let (data, _) = try? await URLSession.shared.data(for: URLRequest(url: url, timeoutInterval: 30)) {
            samples = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.count
        }
        return DemoMonitoringSnapshot(url: base, state: status.state, alerts: status.alerts, metricSamples: samples,
                                      certificateDaysLeft: status.observation?.certificateDaysLeft ?? [:],
                                      channelRatesHz: (status.observation?.channelRatesHz ?? [:]).reduce(into: [:]) { $0["\($1.key)"] = $1.value })
    }
}

/// What the demo read from the coordinator's monitoring just before the nodes stopped.
struct DemoMonitoringSnapshot: Codable {
    var url: String
    var state: String
    var alerts: [AlertState]
    var metricSamples: Int
    var certificateDaysLeft: [String: Double]
    var channelRatesHz: [String: Double]
}
