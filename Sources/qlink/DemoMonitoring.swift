import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Monitoring

/// The demo coordinator's monitoring endpoint (status server, Prometheus metrics, dashboard) on 127.0.0.1.
struct DemoMonitoring {
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }
    var statusEndpoint: String { "tcp://127.0.0.1:\(port)" }

    /// A port on 127.0.0.1 that the system handed out a moment ago (bound on port 0, then released), or nil.
    static func pickPort() -> DemoMonitoring? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { return nil }
        return DemoMonitoring(port: Int(UInt16(bigEndian: address.sin_port)))
    }

    /// The coordinator's monitoring status and the number of metric samples it exposes, or nil when it does not answer.
    func snapshot() async -> DemoMonitoringSnapshot? {
        guard let client = try? StatusClient(base: base, timeoutSeconds: 3), let status = try? await client.fetch() else { return nil }
        var samples = 0
        if let url = URL(string: base + "/metrics"),
           let (data, _) = try? await URLSession.shared.data(for: URLRequest(url: url, timeoutInterval: 3)) {
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
