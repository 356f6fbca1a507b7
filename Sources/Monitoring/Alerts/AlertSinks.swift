import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LinkModel
import Logging

/// Somewhere alert transitions go: the log, a webhook, the journal's alert history.
public protocol AlertSink: Sendable {
    /// Delivers the transitions decided in one evaluation of link `link`.
    func deliver(_ transitions: [AlertTransition], link: String) async throws(MonitoringError)
}

/// A durable alert history (the coordinator's journal implements it).
public protocol AlertHistoryStore: Sendable {
    /// Appends transitions of link `link`.
    func appendAlertTransitions(_ transitions: [AlertTransition], link: String) throws(MonitoringError)
    /// The most recent transitions, newest last, at most `limit`.
    func recentAlertTransitions(limit: Int) throws(MonitoringError) -> [AlertTransition]
}

/// Writes each transition as one log line: raises at warning or error level, clears at notice.
public struct LogAlertSink: AlertSink {
    private let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func deliver(_ transitions: [AlertTransition], link: String) async throws(MonitoringError) {
        for transition in transitions {
            let level: Logger.Level = transition.to == .critical ? .error : (transition.to == .warning ? .warning : .notice)
            logger.log(level: level, "alert.transition", metadata: [
                "alert.link": "\(link)", "alert.rule": "\(transition.rule.rawValue)", "alert.subject": "\(transition.subject)",
                "alert.from": "\(transition.from.rawValue)", "alert.to": "\(transition.to.rawValue)",
                "alert.at_ps": "\(transition.atPs)", "alert.message": "\(transition.message)",
            ])
        }
    }
}

/// Posts transitions as JSON to an HTTP endpoint:
/// `{"link": "…", "alerts": [{"rule": "…", "subject": "…", "from": "ok", "to": "critical", "at_ps": …, "value": …,
/// "threshold": …, "message": "…"}]}`.
public struct WebhookAlertSink: AlertSink {
    /// Where the alerts go.
    public let url: URL
    /// Seconds to wait for the receiver.
    public let timeoutSeconds: Double

    /// A sink posting to `configuration.url`.
    public init(_ configuration: WebhookConfiguration) throws(MonitoringError) {
        guard let url = URL(string: configuration.url), let scheme = url.scheme, ["http", "https"].contains(scheme),
              url.host != nil else {
            throw MonitoringError(.invalidConfiguration, "'\(configuration.url)' is not a usable webhook URL",
                                  hint: "write monitoring.webhook.url as http://HOST:PORT/PATH")
        }
        self.url = url
        timeoutSeconds = configuration.timeoutSeconds
    }

    /// The JSON body posted for `transitions`.
    public static func body(_ transitions: [AlertTransition], link: String) throws(MonitoringError) -> Data {
        struct Payload: Encodable {
            var link: String
            var alerts: [AlertTransition]
        }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return try encoder.encode(Payload(link: link, alerts: transitions))
        } catch {
            throw MonitoringError(.encodingFailed, "cannot encode the alert payload: \(error)")
        }
    }

    public func deliver(_ transitions: [AlertTransition], link: String) async throws(MonitoringError) {
        guard !transitions.isEmpty else { return }
        var request = URLRequest(url: url, timeoutInterval: timeoutSeconds)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try Self.body(transitions, link: link)
        let response: URLResponse
        do {
            (_, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw MonitoringError(.deliveryFailed, "webhook \(url) did not accept the alert: \(error.localizedDescription)",
                                  hint: "check that the receiver is running and reachable")
        }
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            throw MonitoringError(.deliveryFailed, "webhook \(url) answered HTTP \(http.statusCode)",
                                  hint: "check the receiver's logs")
        }
    }
}

/// Appends transitions to an ``AlertHistoryStore``.
public struct HistoryAlertSink: AlertSink {
    private let store: any AlertHistoryStore

    public init(store: any AlertHistoryStore) { self.store = store }

    public func deliver(_ transitions: [AlertTransition], link: String) async throws(MonitoringError) {
        guard !transitions.isEmpty else { return }
        try store.appendAlertTransitions(transitions, link: link)
    }
}

/// An alert history kept in memory (bounded), for nodes and tests; the journal keeps the durable one.
public final class InMemoryAlertHistory: AlertHistoryStore, @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [AlertTransition] = []
    private let capacity: Int

    /// A history keeping the newest `capacity` transitions.
    public init(capacity: Int = 1000) { self.capacity = max(1, capacity) }

    public func appendAlertTransitions(_ transitions: [AlertTransition], link: String) throws(MonitoringError) {
        lock.withLock {
            entries.append(contentsOf: transitions)
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
    }

    public func recentAlertTransitions(limit: Int) throws(MonitoringError) -> [AlertTransition] {
        lock.withLock { Array(entries.suffix(max(0, limit))) }
    }
}

/// Sends transitions to every sink; a failing sink is logged and does not stop the others.
public struct AlertDispatcher: Sendable {
    private let sinks: [any AlertSink]
    private let logger: Logger
    private let link: String

    public init(link: String, sinks: [any AlertSink], logger: Logger) {
        self.link = link
        self.sinks = sinks
        self.logger = logger
    }

    /// Delivers `transitions` to each sink; returns the errors of the sinks that failed.
    @discardableResult
    public func dispatch(_ transitions: [AlertTransition]) async -> [MonitoringError] {
        guard !transitions.isEmpty else { return [] }
        var failures: [MonitoringError] = []
        for sink in sinks {
            do {
                try await sink.deliver(transitions, link: link)
            } catch {
                failures.append(error)
                logger.warning("alert.sink.failed", metadata: ["alert.sink": "\(type(of: sink))", "error": "\(error)"])
            }
        }
        return failures
    }
}
