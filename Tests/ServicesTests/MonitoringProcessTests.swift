import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Journal
import QLinkTestSupport
import Services
import Testing

/// GET `url`: status code and body, or nil when nothing answers (refused). The request's timeout only guards
/// against a hang: a loaded machine may take seconds to answer, and several expectations read a single answer.
func httpGet(_ url: String) async -> (Int, Data)? {
    guard let url = URL(string: url),
          let (data, response) = try? await URLSession.shared.data(for: URLRequest(url: url, timeoutInterval: 600)),
          let http = response as? HTTPURLResponse else { return nil }
    return (http.statusCode, data)
}

@Suite("Monitoring of the running coordinator", .serialized, .enabled(if: qlinkExecutable != nil, "build qlink first (swift build --build-tests)"))
struct MonitoringProcessTests {
    @Test("the coordinator serves /status, /metrics and the dashboard; silent nodes raise alerts that reach the journal")
    func coordinatorServesMonitoring() async throws {
        let link = try ProcessLink()
        defer { try? FileManager.default.removeItem(atPath: link.directory) }
        let handle = try #require(FileHandle(forWritingAtPath: link.config))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("""

        monitoring:
          window_s: 3
          alerts:
            node_silent_s: { warning: 2, critical: 4 }
          planned: { enabled: false }

        """.utf8))
        try handle.close()
        // The status server on any free port, read back from the status file (a port picked here and handed over
        // could be taken by another process before the coordinator binds it).
        let coordinator = try link.coordinator(extra: ["--status", "tcp://127.0.0.1:0"])
        defer { if coordinator.isRunning { kill(coordinator.processIdentifier, SIGKILL) } }
        let endpoints = try #require(await link.endpoints(of: coordinator))
        let statusEndpoint = try #require(await link.coordinatorReport(of: coordinator, "its status endpoint") { $0.statusEndpoint })
        let base = "http://" + statusEndpoint.dropFirst("tcp://".count)
        // The nodes stream until stopped (a loaded machine may start one long after the other; both arms must
        // show at once in a 3 s window), then go silent.
        let alice = try link.node("alice", endpoints: endpoints, seconds: 3_600)
        let bob = try link.node("bob", endpoints: endpoints, seconds: 3_600)
        defer { for node in [alice, bob] where node.isRunning { kill(node.processIdentifier, SIGKILL) } }

        // While the nodes stream: per-arm rates appear in the status.
        var identity: (link: String?, role: String?)
        let sawRates = await eventually(600) {
            guard let (code, data) = await httpGet(base + "/status"), code == 200,
                  let status = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let observation = status["observation"] as? [String: Any], let arms = observation["armRatesHz"] as? [String: Any],
                  (arms["alice"] as? Double ?? 0) > 0, (arms["bob"] as? Double ?? 0) > 0 else { return false }
            identity = (status["link"] as? String, status["role"] as? String)
            return true
        }
        #expect(sawRates, "waited for both arms' rates in /status")
        #expect(identity.link == "demo" && identity.role == "coordinator", "\(identity)")
        alice.terminate()
        bob.terminate()
        #expect(await link.finish(alice, within: 600))
        #expect(await link.finish(bob, within: 600))

        // The nodes are done: after the configured silence the rule fires.
        var silent: [String] = []
        _ = await eventually(600) {
            if let (_, data) = await httpGet(base + "/status"),
               let status = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
               let alerts = status["alerts"] as? [[String: Any]] {
                silent = alerts.filter { $0["rule"] as? String == "node_silent" && $0["severity"] as? String == "critical" }
                    .compactMap { $0["subject"] as? String }.sorted()
            }
            return silent.count == 2
        }
        #expect(silent == ["alice-node", "bob-node"], "waited for critical node_silent alerts on both nodes in /status")

        let metrics = try #require(await httpGet(base + "/metrics"))
        let text = String(decoding: metrics.1, as: UTF8.self)
        #expect(metrics.0 == 200)
        #expect(text.contains(#"qlink_arm_rate_hertz{arm="alice"}"#))
        #expect(text.contains(#"qlink_alert_severity{rule="node_silent",subject="bob-node"} 2"#))
        #expect(text.contains("# TYPE qlink_herald_latency_seconds histogram"))
        let page = try #require(await httpGet(base + "/"))
        #expect(page.0 == 200 && String(decoding: page.1, as: UTF8.self).contains("chart-fidelity"))

        coordinator.terminate()
        #expect(await link.finish(coordinator))
        let journal = try CoordinatorJournal(path: link.journal)
        let alerts = try journal.alerts(limit: 50)
        #expect(alerts.contains { $0.level == "critical" && $0.message.contains("node_silent") && $0.message.contains("alice-node") })
    }
}
