import Correlation
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Reads `GET /status` from a coordinator or node.
public struct StatusClient: Sendable {
    /// The status URL (`http://HOST:PORT/status`).
    public let url: URL
    /// Seconds to wait for an answer.
    public let timeoutSeconds: Double

    /// A client for `base`: a full URL, `http://HOST:PORT` or `HOST:PORT` (`/status` is added when no path is given).
    public init(base: String, timeoutSeconds: Double = 5) throws(MonitoringError) {
        var text = base
        if !text.contains("://") { text = "http://" + text }
        if text.hasPrefix("tcp://") { text = "http://" + text.dropFirst("tcp://".count) }
        guard var components = URLComponents(string: text), ["http", "https"].contains(components.scheme ?? ""),
              components.host?.isEmpty == false else {
            throw MonitoringError(.invalidConfiguration, "'\(base)' is not a status server address",
                                  hint: "give --url http://HOST:PORT (the coordinator's monitoring.status_endpoint)")
        }
        if components.path.isEmpty || components.path == "/" { components.path = "/status" }
        guard let url = components.url else {
            throw MonitoringError(.invalidConfiguration, "'\(base)' is not a status server address", hint: "give --url http://HOST:PORT")
        }
        self.url = url
        self.timeoutSeconds = timeoutSeconds
    }

    /// Fetches and decodes the status.
    public func fetch() async throws(MonitoringError) -> LinkStatus {
        let request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeoutSeconds)
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw MonitoringError(.server, "cannot reach the status server at \(url): \(error.localizedDescription)",
                                  hint: "check that the coordinator or node runs with a status endpoint and that the address is right")
        }
        if let http = response as? HTTPURLResponse, http.statusCode != 200 {
            throw MonitoringError(.badResponse, "the status server at \(url) answered HTTP \(http.statusCode)",
                                  hint: "check the URL path (the status is served at /status)")
        }
        do {
            return try StatusCoding.decoder().decode(LinkStatus.self, from: data)
        } catch {
            throw MonitoringError(.badResponse, "the answer from \(url) is not a QLink status: \(error)",
                                  hint: "check that the address belongs to a QLink coordinator or node")
        }
    }
}

/// Renders a ``LinkStatus`` as text for a terminal.
public enum StatusText {
    /// A compact multi-line report.
    public static func render(_ status: LinkStatus) -> String {
        var lines: [String] = []
        lines.append("link \(status.link) (\(status.role)) — \(status.state), up \(number(status.uptimeSeconds, "%.0f")) s")
        if let o = status.observation {
            if !o.armRatesHz.isEmpty {
                lines.append("  arm rates:     " + o.armRatesHz.sorted { $0.key < $1.key }.map { "\($0.key) \(rate($0.value))" }.joined(separator: " · "))
            }
            if !o.channelRatesHz.isEmpty {
                lines.append("  singles:       " + o.channelRatesHz.sorted { $0.key < $1.key }.map { "ch\($0.key) \(rate($0.value))" }.joined(separator: " · "))
            }
            var pairs: [String] = []
            if let c = o.coincidenceRateHz { pairs.append("coincidences \(rate(c.value))") }
            if let a = o.accidentalRateHz { pairs.append("accidentals \(rate(a.value))") }
            if let car = o.car { pairs.append("CAR \(number(car.value, "%.3g"))") }
            if !pairs.isEmpty { lines.append("  window rates:  " + pairs.joined(separator: " · ")) }
            if status.analysis == nil, let f = status.fidelityText { lines.append("  fidelity:      \(f)") }
            if let h = o.heraldRateHz {
                var text = "  heralds:       \(rate(h.value))"
                if let planned = status.planned?.pairRateHz { text += " (planned \(rate(planned)))" }
                if !o.heraldOutcomes.isEmpty {
                    text += " — " + o.heraldOutcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                }
                lines.append(text)
            }
            if status.analysis == nil, let offset = o.clockOffsetPs {
                var text = "  clock offset:  \(number(offset, "%.0f")) ps"
                if let drift = o.clockDriftPpm { text += ", drift \(number(drift, "%.3f")) ppm" }
                if let residual = o.clockResidualPs { text += ", residual \(number(residual, "%.0f")) ps" }
                lines.append(text)
            }
        } else {
            lines.append("  no measurements yet")
        }
        if let planned = status.planned?.fidelity {
            lines.append("  planned:       fidelity \(number(planned, "%.4f")) (the planner's prediction of the fidelity itself)")
        }
        let measuredQBER = status.observation?.qber ?? [:], plannedQBER = status.planned?.qberByBasis ?? [:]
        if !measuredQBER.isEmpty || !plannedQBER.isEmpty {
            let text = ["z", "x"].compactMap { basis -> String? in
                let measured = measuredQBER[basis], planned = plannedQBER[basis]
                guard measured != nil || planned != nil else { return nil }
                return basis.uppercased() + " " + (measured.map { number($0.value, "%.4f") + " ± " + number($0.standardError, "%.4f") } ?? "–")
                    + (planned.map { " (planned " + number($0, "%.4f") + ")" } ?? "")
            }
            lines.append("  QBER:          " + text.joined(separator: " · "))
        }
        let measuredKey = status.observation?.keyRateBitsPerS, plannedKey = status.planned?.keyRateBitsPerS
        if measuredKey != nil || plannedKey != nil {
            lines.append("  secret key:    " + (measuredKey.map { number($0.value, "%.4g") + " ± " + number($0.standardError, "%.2g") + " bit/s" } ?? "–")
                + (plannedKey.map { " (planned " + number($0, "%.4g") + " bit/s)" } ?? ""))
        }
        if let analysis = status.analysis {
            lines.append("  analysis (the engine of qlink correlate):")
            lines += LinkAnalysisFormat.text(analysis).split(separator: "\n").map { "    " + $0 }
        }
        if let tuning = status.tuning {
            var text = "  rate:          \(tuning.repetitionRateHz.map(rate) ?? "–")"
            text += tuning.rateSincePs.map { " in force since link time \($0) ps" } ?? " (configured, since the start)"
            if let recommended = tuning.recommendedRateHz { text += ", recommended \(rate(recommended))" }
            text += tuning.autoTune ? " (auto-tune on)" : " (auto-tune off)"
            lines.append(text)
            if let pending = tuning.pendingChangeId {
                lines.append("  rate pending:  change \(pending)" + (tuning.pendingRateHz.map { " to \(rate($0))" } ?? "")
                             + ", proposed, not yet agreed by both labs")
            }
            if let hold = tuning.rateHold { lines.append("  rate hold:     \(hold)") }
            if let decision = tuning.lastDecision { lines.append("                 \(decision)") }
        }
        for node in status.nodes {
            lines.append("  node \(node.name) (\(node.lab)): \(node.connected ? "connected" : "disconnected"), gaps \(node.sequenceGaps)"
                + (node.spoolBatches.map { ", spool \($0) batches" } ?? ""))
        }
        if let refusals = status.refusals { lines.append("  refused:       \(refusals.summary)") }
        if status.alerts.isEmpty {
            lines.append("  alerts:        none")
        } else {
            lines.append("  alerts:")
            for alert in status.alerts {
                lines.append("    \(alert.severity.rawValue.uppercased()) \(alert.rule.rawValue) [\(alert.subject)]: \(alert.message)")
            }
        }
        if !status.recentHeralds.isEmpty {
            let recent = status.recentHeralds.suffix(5).map { "#\($0.sequence) \($0.outcome)" }.joined(separator: ", ")
            lines.append("  recent heralds: \(recent)")
        }
        return lines.joined(separator: "\n")
    }

    static func number(_ value: Double, _ format: String) -> String {
        value.isFinite ? String(format: format, value) : "–"
    }

    static func rate(_ hertz: Double) -> String {
        guard hertz.isFinite else { return "–" }
        switch abs(hertz) {
        case 1e6...: return String(format: "%.3f MHz", hertz / 1e6)
        case 1e3...: return String(format: "%.3f kHz", hertz / 1e3)
        default: return String(format: "%.3g Hz", hertz)
        }
    }
}
