import Correlation
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Testing
@testable import Monitoring

/// A status source with fixed content that counts how often it was asked.
final class FakeStatusSource: StatusSource, @unchecked Sendable {
    private let lock = NSLock()
    private var requests = 0
    let metrics = LinkMetricsTests.populated()

    var requestCount: Int { lock.withLock { requests } }

    func currentStatus() async -> LinkStatus {
        let count = lock.withLock { requests += 1; return requests }
        var observation = LinkObservation(timePs: Int64(count) * second)
        observation.armRatesHz = ["alice": 2000 + Double(count), "bob": 1800]
        observation.coincidenceRateHz = Estimate(120, standardError: 3)
        observation.car = Estimate(150, standardError: 10)
        observation.fidelity = Estimate(0.93 + 0.001 * Double(count % 5), standardError: 0.01)
        observation.fidelityIsLowerBound = true
        observation.heraldRateHz = Estimate(35, standardError: 2)
        observation.clockOffsetPs = 1234 + Double(count)
        observation.clockResidualPs = .nan
        return LinkStatus(
            link: "loopback", state: "degraded", role: "coordinator", timePs: Int64(count) * second, uptimeSeconds: Double(count),
            observation: observation, analysis: Self.analysis, planned: PlannedPrediction(pairRateHz: 40, fidelity: 0.95),
            alerts: [AlertState(rule: .fidelityLow, subject: "link", severity: .critical, sincePs: 0, value: 0.79,
                                message: "fidelity is 0.79 below the critical level 0.8")],
            recentHeralds: (1...3).map { HeraldSummary(sequence: UInt64($0), attemptId: UInt64(100 + $0), outcome: "psi_plus", timePs: Int64($0)) },
            nodes: [NodeStatus(name: "alice-node", lab: "alice", connected: true, lastSeenPs: 0)],
            tuning: TuningStatus(repetitionRateHz: 1e6, recommendedRateHz: 8e5, autoTune: false, lastDecision: "recommended 8e5 Hz"))
    }

    func metricsExposition() async -> String { metrics.exposition() }

    /// Ten minutes of history before the page opened, and two alert transitions.
    func history(seconds: Double) async -> StatusHistoryReply {
        var history = StatusHistory()
        for index in -600 ..< 0 {
            var observation = LinkObservation(timePs: Int64(index) * second)
            observation.armRatesHz = ["alice": 1.5e6, "bob": 1.2e6]
            observation.coincidenceRateHz = Estimate(120, standardError: 3)
            observation.fidelity = Estimate(0.93, standardError: 0.01)
            observation.fidelityIsLowerBound = true
            observation.clockOffsetPs = 1.5e6
            history.append(HistoryPoint(observation))
        }
        history.append([AlertTransition(rule: .fidelityLow, subject: "link", from: .ok, to: .warning, atPs: -300 * second, value: 0.85,
                                        threshold: 0.9, message: "fidelity is 0.85 below the warning level 0.9"),
                        AlertTransition(rule: .fidelityLow, subject: "link", from: .warning, to: .critical, atPs: -100 * second, value: 0.79,
                                        threshold: 0.8, message: "fidelity is 0.79 below the critical level 0.8")])
        return history.reply(seconds: seconds)
    }

    /// A Z/X link's analysis: its fidelity is a lower bound.
    static let analysis: LinkAnalysisSnapshot = {
        var snapshot = LinkAnalysisSnapshot(durationPs: 3_000_000_000_000)
        snapshot.targetState = .psiMinus
        snapshot.fidelityCountBasis = .raw
        snapshot.fidelityLowerBound = Estimate(0.899, standardError: 0.003)
        return snapshot
    }()
}

/// Starts a status server for `source` on 127.0.0.1, port 0; runs `body` with its port; stops it.
func withStatusServer(_ source: any StatusSource, _ body: (Int) async throws -> Void) async throws {
    var logger = Logger(label: "test.status")
    logger.logLevel = .critical      // cancelling the server task logs an error from the HTTP core
    let server = StatusServer(host: "127.0.0.1", port: 0, source: source, logger: logger)
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let task = Task { try await server.run { continuation.yield($0) } }
    defer { task.cancel() }
    var iterator = ports.makeAsyncIterator()
    let port = try #require(await iterator.next())
    try await body(port)
    task.cancel()
    _ = await task.result
}

func get(_ url: String) async throws -> (Data, HTTPURLResponse) {
    let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
    return (data, try #require(response as? HTTPURLResponse))
}

@Suite("Status server over real HTTP")
struct StatusServerTests {
    @Test("a port in use is an error naming the address and what to do")
    func busyPort() async throws {
        try await withStatusServer(FakeStatusSource()) { port in
            var logger = Logger(label: "test.status")
            logger.logLevel = .critical
            let second = StatusServer(host: "127.0.0.1", port: port, source: FakeStatusSource(), logger: logger)
            do {
                try await second.run()
                Issue.record("a second server bound the same port")
            } catch let error as MonitoringError {
                #expect(error.description.contains("127.0.0.1:\(port)") && error.description.contains("in use"), "\(error)")
                #expect(error.description.contains("choose another port"), "\(error)")
                #expect(!error.description.contains("descriptor"), "\(error)")
            }
        }
    }

    @Test("GET /status returns the source's status as JSON that decodes back")
    func statusJSON() async throws {
        let source = FakeStatusSource()
        try await withStatusServer(source) { port in
            let (data, response) = try await get("http://127.0.0.1:\(port)/status")
            #expect(response.statusCode == 200)
            #expect(response.value(forHTTPHeaderField: "Content-Type") == "application/json")
            let status = try StatusCoding.decoder().decode(LinkStatus.self, from: data)
            #expect(status.link == "loopback")
            #expect(status.alerts.first?.rule == .fidelityLow)
            #expect(status.recentHeralds.map(\.sequence) == [1, 2, 3])
            #expect(status.observation?.clockResidualPs?.isNaN == true)
            #expect(status.tuning?.recommendedRateHz == 8e5)
            #expect(source.requestCount == 1)
        }
    }

    @Test("GET /metrics serves the exposition text with the Prometheus content type")
    func metricsText() async throws {
        try await withStatusServer(FakeStatusSource()) { port in
            let (data, response) = try await get("http://127.0.0.1:\(port)/metrics")
            #expect(response.statusCode == 200)
            #expect(response.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
            var parser = ExpositionParser()
            try parser.parse(String(decoding: data, as: UTF8.self))
            #expect(parser.families["qlink_fidelity"]?.samples.first?.value == 0.962)
        }
    }

    @Test("GET / serves the self-contained dashboard; unknown paths are 404")
    func dashboardPage() async throws {
        try await withStatusServer(FakeStatusSource()) { port in
            let (data, response) = try await get("http://127.0.0.1:\(port)/")
            #expect(response.statusCode == 200)
            let html = String(decoding: data, as: UTF8.self)
            #expect(html.contains("id=\"chart-fidelity\""))
            #expect(html.contains("fetch(\"history?seconds="))
            #expect(html.contains("fetch(\"status\""))
            #expect(!html.contains("http://") || !html.contains("src=\"http"))   // no external resources
            #expect(!html.contains("<script src") && !html.contains("<link "))
            let (_, missing) = try await get("http://127.0.0.1:\(port)/nothing-here")
            #expect(missing.statusCode == 404)
        }
    }
}
