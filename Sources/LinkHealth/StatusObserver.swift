import Correlation
import Foundation
import LinkModel
import Monitoring
import OpenSSLKit
import Protocol

/// Turns the coordinator's successive status reports into monitoring observations: rates over the window
/// from the cumulative counters, fidelity, clock, and when each node was last heard from.
///
/// Tag rates per arm and per channel are counts per second of link time (the tag times the coordinator's batches
/// reached, ``StatusReport/linkTimeByNode`` and ``StatusReport/linkTimeByChannel``), over a window of link time:
/// a feed that stalls (a loaded machine, a slow network) stops both the count and its link time and reads as the
/// same rate, while a dead detector's count stands still as its lab's link time runs on and reads as a drop.
/// A node that stops sending altogether is the `node_silent` rule's, on the coordinator's clock.
public struct StatusObserver: Sendable {
    private var rates: CumulativeRates
    /// Tag counters per arm and per channel, over a window of their lab's link time.
    private var tagRates: CumulativeRates
    /// The re-tuner's counters over a window of link time.
    private var linkRates: CumulativeRates
    private var lastSeenPs: [String: Int64] = [:]
    private var previousTags: [String: Int64] = [:]
    private var previousHeralds: Int64 = 0
    private var previousSuccesses: Int64 = 0
    private let labByNode: [String: String]
    private let windowPs: Int64
    /// The link time at which each channel's tags were first counted: its rate is reported once a whole window of
    /// link time has passed since.
    private var channelFirstSeenPs: [String: Int64] = [:]

    /// An observer for `link` over windows of `windowSeconds`.
    public init(link: LinkConfiguration, windowSeconds: Double) {
        windowPs = Int64(windowSeconds * 1e12)
        rates = CumulativeRates(windowPs: windowPs)
        tagRates = CumulativeRates(windowPs: windowPs)
        linkRates = CumulativeRates(windowPs: windowPs)
        labByNode = Dictionary(link.labs.map { ($0.node, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// What the re-tuner reads: the counts over the last window of link time (the link time the live analysis
    /// reached, `analysisLinkTimePs`), so the span is link time whatever the machine's pace; nil until the analysis
    /// has reported two link times.
    public var retuneWindow: RetuneWindow? {
        guard let span = linkRates.window("coincidences") else { return nil }
        var tags: [String: Int64] = [:]
        for key in linkRates.keys where key.hasPrefix("tags ") {
            tags[String(key.dropFirst("tags ".count))] = linkRates.events(key, sincePs: span.startPs)
        }
        return RetuneWindow(startPs: span.startPs, linkSpanPs: span.spanPs, coincidences: span.events, accidentals: linkRates.events("accidentals", sincePs: span.startPs),
                            heralds: linkRates.events("heralds", sincePs: span.startPs), tagsByLab: tags)
    }

    /// The observation for `status` (time on the coordinator's run clock).
    public mutating func observation(from status: StatusReport) -> LinkObservation {
        let now = Int64(status.elapsedSeconds * 1e12)
        var observation = LinkObservation(timePs: now)
        for (node, tags) in status.tagsByNode {
            if tags > (previousTags[node] ?? -1) { lastSeenPs[node] = now }
            previousTags[node] = tags
            guard let linkTimePs = status.linkTimeByNode?[node] else { continue }
            tagRates.record("tags " + node, tags, atPs: linkTimePs)
            if let rate = tagRates.rateHz("tags " + node) { observation.armRatesHz[labByNode[node] ?? node] = rate.value }
        }
        for (channel, tags) in status.tagsByChannel ?? [:] {
            guard let number = Int32(channel), let linkTimePs = status.linkTimeByChannel?[channel] else { continue }
            tagRates.record("channel " + channel, tags, atPs: linkTimePs)
            let first = channelFirstSeenPs[channel] ?? linkTimePs
            channelFirstSeenPs[channel] = first
            // A channel's first tags may start mid-batch: its rate (and the baseline the rules learn from it)
            // counts once a whole window of link time has passed.
            if linkTimePs - first >= windowPs, let rate = tagRates.rateHz("channel " + channel) { observation.channelRatesHz[Int(number)] = rate.value }
        }
        rates.record("coincidences", status.coincidences, atPs: now)
        rates.record("heralds", status.heraldSuccesses, atPs: now)
        observation.coincidenceRateHz = rates.rateHz("coincidences")
        if let accidentals = status.accidentals, accidentals.isFinite, accidentals >= 0 {
            rates.record("accidentals", Int64(accidentals.rounded()), atPs: now)
            observation.accidentalRateHz = rates.rateHz("accidentals")
            if let coincidences = observation.coincidenceRateHz, let accidental = observation.accidentalRateHz,
               accidental.value > 0, coincidences.value > 0 {
                let car = coincidences.value / accidental.value
                let relative = (pow(coincidences.standardError / coincidences.value, 2) + pow(accidental.standardError / accidental.value, 2)).squareRoot()
                observation.car = Estimate(car, standardError: car * relative)
            }
        }
        observation.clockResidualPs = status.clockResidualPs
        observation.heraldRateHz = rates.rateHz("heralds")
        if let linkTimePs = status.analysisLinkTimePs {
            // The re-tuner's counters, on the link time the analysis reached (samples without progress are skipped).
            var counts = ["coincidences": status.coincidences, "heralds": status.heraldSuccesses]
            if let accidentals = status.accidentals, accidentals.isFinite, accidentals >= 0 { counts["accidentals"] = Int64(accidentals.rounded()) }
            for (node, tags) in status.tagsByNode { counts["tags " + (labByNode[node] ?? node)] = tags }
            linkRates.record(counts, atPs: linkTimePs)
        }
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
