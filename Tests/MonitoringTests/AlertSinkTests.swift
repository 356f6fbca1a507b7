import Foundation
import LinkModel
import Logging
import Testing
@testable import Monitoring

@Suite("Alert sinks")
struct AlertSinkTests {
    static let transitions = [
        AlertTransition(rule: .fidelityLow, subject: "link", from: .ok, to: .critical, atPs: 75 * second, value: 0.71,
                        threshold: 0.8, message: "fidelity is 0.71 below the critical level 0.8"),
        AlertTransition(rule: .armRateDrop, subject: "alice", from: .warning, to: .ok, atPs: 80 * second, value: 0.2,
                        threshold: 1.5, message: "back"),
    ]

    @Test("the webhook posts the transitions as JSON over real HTTP")
    func webhookPosts() async throws {
        let listener = try TinyHTTPListener()
        let sink = try WebhookAlertSink(WebhookConfiguration(url: "http://127.0.0.1:\(listener.port)/hooks/qlink", timeoutSeconds: 120))
        listener.start(count: 1)
        try await sink.deliver(Self.transitions, link: "loopback")
        await listener.served()
        let request = try #require(listener.requests.first)
        #expect(request.requestLine == "POST /hooks/qlink HTTP/1.1")
        #expect(request.headers["content-type"] == "application/json")
        let json = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
        #expect(json["link"] as? String == "loopback")
        let alerts = try #require(json["alerts"] as? [[String: Any]])
        #expect(alerts.count == 2)
        #expect(alerts[0]["rule"] as? String == "fidelity_low")
        #expect(alerts[0]["to"] as? String == "critical")
        #expect(alerts[0]["at_ps"] as? Int64 == 75 * second)
        #expect(alerts[1]["subject"] as? String == "alice")
    }

    @Test("a receiver answering an error status is a delivery failure; the dispatcher reports it and goes on")
    func webhookFailure() async throws {
        let listener = try TinyHTTPListener(status: 500)
        let sink = try WebhookAlertSink(WebhookConfiguration(url: "http://127.0.0.1:\(listener.port)/x", timeoutSeconds: 120))
        let history = InMemoryAlertHistory()
        let dispatcher = AlertDispatcher(link: "l", sinks: [sink, HistoryAlertSink(store: history)], logger: Logger(label: "test"))
        listener.start(count: 1)
        let failures = await dispatcher.dispatch(Self.transitions)
        await listener.served()
        #expect(failures.map(\.kind) == [.deliveryFailed])
        #expect(try history.recentAlertTransitions(limit: 10) == Self.transitions)
    }

    @Test("a URL that is not http is refused when the sink is made")
    func badURL() {
        #expect(throws: MonitoringError.self) { try WebhookAlertSink(WebhookConfiguration(url: "http://")) }
    }

    @Test("the in-memory history keeps the newest entries")
    func historyBounded() throws {
        let history = InMemoryAlertHistory(capacity: 3)
        for _ in 0..<2 { try history.appendAlertTransitions(Self.transitions, link: "l") }
        let recent = try history.recentAlertTransitions(limit: 10)
        #expect(recent.count == 3)
        #expect(recent.last == Self.transitions[1])
    }
}
