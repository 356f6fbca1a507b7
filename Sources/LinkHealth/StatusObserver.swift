import Correlation
import Foundation
import LinkModel
import Monitoring
import OpenSSLKit
import Protocol

/// Turns the coordinator's successive status reports into monitoring observations: rates over the window
/// from the cumulative counters, fidelity, clock, and when each node was last heard from.
///
/// Every rate is a count per second of link time (the tag times reached by the data that produced the count), over
/// a window of link time; none is per second of the coordinator's clock. Each counter runs on its own link time:
/// - tags per arm and per channel on their lab's link time (``StatusReport/linkTimeByNode``,
///   ``StatusReport/linkTimeByChannel``);
/// - coincidences and accidentals (and so the CAR) on the link time through which the live analysis has analysed
///   both labs (``StatusReport/analysisLinkTimePs``);
/// - heralds on the link time through which the station's batches were decided (``StatusReport/heraldLinkTimePs``;
///   no herald rate on a link without heralds).
///
/// A feed that stalls (a loaded machine, a slow network) stops both a count and its link time and reads as the same
/// rate, while a dead detector's count stands still as its lab's link time runs on and reads as a drop, and a link
/// that really delivers fewer pairs counts fewer per second of link time. Only the observation's time and
/// when each node was last heard from are on the coordinator's clock: a node that stops sending altogether is a fact
/// of the wall clock, the `node_silent` rule's, and the rules' `for_s` durations run on that clock too.
public struct StatusObserver: Sendable {
    /// Every counter, each sampled at its own link time (keys `tags NODE`, `channel N`, `coincidences`,
    /// `accidentals`, `heralds`, and `lab LAB` for the re-tuner's tags on the analysis' link time).
    private var rates: CumulativeRates
    private var lastSeenPs: [String: Int64] = [:]
    private var previousTags: [String: Int64] = [:]
    private var previousHeralds: Int64 = 0
    private var previousSuccesses: Int64 = 0
    private let labByNode: [String: String]
    private let windowPs: Int64
    /// The link time at which each channel's tags were first counted: its rate is reported once a whole window of
    /// link time has passed since.
    private var channelFirstSeenPs: [String: Int64] = [:]

    /// An observer for `link` over windows of `windowSeconds` of link time.
    public init(link: LinkConfiguration, windowSeconds: Double) {
        windowPs = Int64(windowSeconds * 1e12)
        rates = CumulativeRates(windowPs: windowPs)
        labByNode = Dictionary(link.labs.map { ($0.node, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// What the re-tuner reads: the counts over the last window of link time, so the span is link time whatever the
    /// machine's pace. A heralded link: the heralds over the station's link time (``StatusReport/heraldLinkTimePs``);
    /// otherwise the coincidences, accidentals and each lab's tags over the link time the live analysis reached
    /// (``StatusReport/analysisLinkTimePs``). Nil until two such link times have been reported.
    public var retuneWindow: RetuneWindow? {
        if let span = rates.window("heralds") {
            return RetuneWindow(startPs: span.startPs, linkSpanPs: span.spanPs, heralds: span.events)
        }
        guard let span = rates.window("coincidences") else { return nil }
        var tags: [String: Int64] = [:]
        for key in rates.keys where key.hasPrefix("lab ") {
            tags[String(key.dropFirst("lab ".count))] = rates.events(key, sincePs: span.startPs)
        }
        return RetuneWindow(startPs: span.startPs, linkSpanPs: span.spanPs, coincidences: span.events,
                            accidentals: rates.events("accidentals", sincePs: span.startPs), tagsByLab: tags)
    }

    /// The observation for `status`: its time and the nodes' last-heard times on the coordinator's run clock, every
    /// rate on link time.
    public mutating func observation(from status: StatusReport) -> LinkObservation {
        let now = Int64(status.elapsedSeconds * 1e12)
        var observation = LinkObservation(timePs: now)
        for (node, tags) in status.tagsByNode {
            // Silence is judged on the wall clock: a node that sends nothing reaches no link time to judge it on.
            if tags > (previousTags[node] ?? -1) { lastSeenPs[node] = now }
            previousTags[node] = tags
            guard let linkTimePs = status.linkTimeByNode?[node] else { continue }
            rates.record("tags " + node, tags, atPs: linkTimePs)
            if let rate = rates.rateHz("tags " + node) { observation.armRatesHz[labByNode[node] ?? node] = rate.value }
        }
        for (channel, tags) in status.tagsByChannel ?? [:] {
            guard let number = Int32(channel), let linkTimePs = status.linkTimeByChannel?[channel] else { continue }
            rates.record("channel " + channel, tags, atPs: linkTimePs)
            let first = channelFirstSeenPs[channel] ?? linkTimePs
            channelFirstSeenPs[channel] = first
            // A channel's first tags may start mid-batch: its rate (and the baseline the rules learn from it)
            // counts once a whole window of link time has passed.
            if linkTimePs - first >= windowPs, let rate = rates.rateHz("channel " + channel) { observation.channelRatesHz[Int(number)] = rate.value }
        }
        let accidentals = status.accidentals.flatMap { $0.isFinite && $0 >= 0 ? Int64($0.rounded()) : nil }
        if let linkTimePs = status.analysisLinkTimePs {
            // The analysis' counters, on the link time through which it has analysed both labs (samples without
            // progress are skipped); the labs' tags beside them for the re-tuner.
            var counts = ["coincidences": status.coincidences]
            if let accidentals { counts["accidentals"] = accidentals }
            for (node, tags) in status.tagsByNode { counts["lab " + (labByNode[node] ?? node)] = tags }
            rates.record(counts, atPs: linkTimePs)
        }
        observation.coincidenceRateHz = rates.rateHz("coincidences")
        if accidentals != nil {
            observation.accidentalRateHz = rates.rateHz("accidentals")
            if let coincidences = observation.coincidenceRateHz, let accidental = observation.accidentalRateHz,
               accidental.value > 0, coincidences.value > 0 {
                let car = coincidences.value / accidental.value
                let relative = (pow(coincidences.standardError / coincidences.value, 2) + pow(accidental.standardError / accidental.value, 2)).squareRoot()
                observation.car = Estimate(car, standardError: car * relative)
            }
        }
        if let linkTimePs = status.heraldLinkTimePs {
            rates.record("heralds", status.heraldSuccesses, atPs: linkTimePs)
            observation.heraldRateHz = rates.rateHz("heralds")
        }
        observation.clockResidualPs = status.clockResidualPs
        let successes = status.heraldSuccesses - previousSuccesses
        let failures = (status.heralds - previousHeralds) - successes
        if successes > 0 { observation.heraldOutcomes["success"] = successes }
        if failures > 0 { observation.heraldOutcomes["fail"] = failures }
        previousHeralds = status.heralds
        previousSuccesses = status.heraldSuccesses
        if let fidelity = status.fidelity {
            observation.fidelity = Estimate(fidelity, standardError: status.fidelityError ?? 0)
            observation.fidelityIsLowerBound = status.fidelityIsLowerBound != false
        }
        observation.clockOffsetPs = status.clockOffsetPs
        observation.clockDriftPpm = status.clockDriftPpm
        observation.nodeLastSeenPs = lastSeenPs
        return observation
    }
}

/// Days until each certificate of the link expires (the coordinator's and every lab node's, by name), read
/// from the configured PEM files; a file that cannot be read is left out (and logged by the caller).
public enum CertificateLifetimes {
    /// Days left per certificate name at `now`, and the paths that could not be read.
    public static func daysLeft(_ link: LinkConfiguration, now: Date = Date()) -> (days: [String: Double], unreadable: [String]) {
        var days: [String: Double] = [:], unreadable: [String] = []
        let files = [(link.coordinator.name, link.coordinator.certificate)] + link.labs.map { ($0.node, $0.certificate) }
        for (name, path) in files {
            guard let pem = try? String(contentsOfFile: path, encoding: .utf8),
                  let certificate = try? X509Certificate(pem: pem, context: path), let notAfter = certificate.notAfter else {
                unreadable.append(path)
                continue
            }
            days[name] = notAfter.timeIntervalSince(now) / 86_400
        }
        return (days, unreadable)
    }
}
