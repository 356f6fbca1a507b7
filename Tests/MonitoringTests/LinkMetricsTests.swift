import Correlation
import Foundation
import Metrics
import Testing
@testable import Monitoring

@Suite("Link metrics and the exposition format")
struct LinkMetricsTests {
    /// Metrics with every family given a value.
    /// The tomography of a Werner state Φ+ with p = 0.8 from exact counts, raw and accidental-subtracted.
    static func tomography() -> LinkTomography {
        let correlated: [Double] = [450, 50, 50, 450], anti: [Double] = [50, 450, 450, 50], flat: [Double] = [250, 250, 250, 250]
        let names = ["Z", "X", "Y"]
        let settings = (0..<9).map { k in
            SettingCounts(basisA: names[k / 3], basisB: names[k % 3],
                          counts: JointCounts(cells: k == 0 || k == 4 ? correlated : k == 8 ? anti : flat),
                          accidentals: [Estimate](repeating: Estimate(2, standardError: 0.5), count: 4))
        }
        // Exact counts of a physical state: the fit cannot fail.
        return LinkTomography(heraldedState: nil, result: try! TwoQubitTomography.reconstruct(settings: settings))
    }

    static func populated() -> LinkMetrics {
        let metrics = LinkMetrics(link: "loopback", role: "coordinator")
        var observation = LinkObservation(timePs: 20_000_000_000_000)
        observation.channelRatesHz = [1: 1200, 2: 1150.5, 3: 980, 4: 1010]
        observation.armRatesHz = ["alice": 2350.5, "bob": 1990]
        observation.coincidenceRateHz = Estimate(120, standardError: 3.4)
        observation.accidentalRateHz = Estimate(0.8, standardError: 0.1)
        observation.car = Estimate(150, standardError: 20)
        observation.visibility = ["z": Estimate(0.97, standardError: 0.01), "x": Estimate(0.95, standardError: 0.01)]
        observation.fidelity = Estimate(0.962, standardError: 0.004)
        observation.heraldRateHz = Estimate(35, standardError: 2)
        observation.clockOffsetPs = -1_234_567
        observation.clockDriftPpm = 0.42
        observation.clockResidualPs = 12.5
        observation.nodeLastSeenPs = ["alice-node": 19_000_000_000_000, "bob \"b\" node\\x": 18_000_000_000_000]
        observation.certificateDaysLeft = ["coordinator": 300]
        observation.qber = ["z": Estimate(0.021, standardError: 0.002), "x": Estimate(0.034, standardError: 0.003)]
        observation.keyRateBitsPerS = Estimate(41.5, standardError: 1.2)
        observation.heraldedQber = ["psi_plus": ["z": Estimate(0.02, standardError: 0.003)], "psi_minus": ["x": Estimate(0.04, standardError: 0.004)]]
        metrics.update(with: observation)
        metrics.setPlanned(PlannedPrediction(pairRateHz: 120, fidelity: 0.96, qberZ: 0.02, qberX: 0.03, keyRateBitsPerS: 45))
        metrics.recordHeralds(outcome: "psi_plus", count: 10)
        metrics.recordHeralds(outcome: "psi_minus", count: 12)
        metrics.recordHeralds(outcome: "fail", count: 1000)
        metrics.recordSequenceGap(node: "alice-node", count: 2)
        metrics.recordRejectedConnection(reason: "unauthenticated")
        metrics.recordRejectedConnection(reason: "bad_version")
        metrics.recordRefusedHandshakes(reason: "wrong-mechanism", count: 2)
        metrics.recordRefusedHellos(reason: "wrong-lab")
        metrics.recordRefusedTags(reason: "station-channel", count: 20)
        metrics.recordAnalysisDroppedBatches(count: 2)
        metrics.setSpool(node: "bob-node", bytes: 4096, batches: 3)
        metrics.setQueueDepth(queue: "tags", depth: 7)
        metrics.setQueueDepth(queue: "journal", depth: 0)
        metrics.update(tomography: tomography())
        for nanoseconds: Int64 in [80_000, 300_000, 1_500_000, 40_000_000, 20_000_000_000] {
            metrics.recordHeraldLatency(nanoseconds: nanoseconds)
            metrics.recordBatchLatency(nanoseconds: nanoseconds * 2)
        }
        metrics.setRepetitionRate(currentHz: 1e6, recommendedHz: 7.5e5)
        metrics.setAlerts([AlertState(rule: .fidelityLow, subject: "link", severity: .warning, sincePs: 0, value: 0.84, message: "")])
        return metrics
    }

    @Test("every family of issue 9 is exported with its type, and the text parses strictly")
    func everyFamilyParses() throws {
        let text = Self.populated().exposition()
        var parser = ExpositionParser()
        try parser.parse(text)
        for family in MetricFamily.allCases {
            let parsed = try #require(parser.families[family.rawValue], "missing \(family.rawValue)")
            #expect(parsed.help == family.help)
            #expect(!parsed.samples.isEmpty, "no samples for \(family.rawValue)")
        }
        let types = parser.families.mapValues(\.type)
        #expect(types["qlink_heralds_total"] == "counter")
        #expect(types["qlink_rejected_connections_total"] == "counter")
        #expect(types["qlink_refused_handshakes_total"] == "counter")
        #expect(types["qlink_refused_hellos_total"] == "counter")
        #expect(types["qlink_refused_tags_total"] == "counter")
        #expect(types["qlink_herald_latency_seconds"] == "histogram")
        #expect(types["qlink_batch_latency_seconds"] == "histogram")
        #expect(types["qlink_fidelity"] == "gauge")
    }

    @Test("values and labels come through: per-channel singles, outcomes, escaped label values, histogram counts")
    func valuesComeThrough() throws {
        var parser = ExpositionParser()
        try parser.parse(Self.populated().exposition())
        func value(_ family: String, _ labels: [String: String] = [:], sample: String? = nil) -> Double? {
            parser.families[family]?.samples.first { $0.name == (sample ?? family) && $0.labels == labels }?.value
        }
        #expect(value("qlink_singles_rate_hertz", ["channel": "2"]) == 1150.5)
        #expect(value("qlink_arm_rate_hertz", ["arm": "alice"]) == 2350.5)
        #expect(value("qlink_heralds_total", ["outcome": "psi_minus"]) == 12)
        #expect(value("qlink_fidelity") == 0.962)
        #expect(value("qlink_fidelity_standard_error") == 0.004)
        #expect(value("qlink_fidelity_is_lower_bound") == 0)
        #expect(value("qlink_clock_offset_seconds") == -1_234_567e-12)
        #expect(abs((value("qlink_clock_drift_ratio") ?? 0) - 0.42e-6) < 1e-15)
        #expect(abs((value("qlink_certificate_expiry_seconds", ["certificate": "coordinator"]) ?? 0) - 300 * 86_400) < 1e-3)
        #expect(value("qlink_node_silence_seconds", ["node": "bob \"b\" node\\x"]) == 2)
        #expect(value("qlink_alert_severity", ["rule": "fidelity_low", "subject": "link"]) == 1)
        #expect(value("qlink_herald_latency_seconds", sample: "qlink_herald_latency_seconds_count") == 5)
        #expect(value("qlink_herald_latency_seconds", ["le": "0.001"], sample: "qlink_herald_latency_seconds_bucket") == 2)
        #expect(value("qlink_link_info", ["link": "loopback", "role": "coordinator"]) == 1)
    }

    @Test("a fresh registry parses; unmeasured values are absent, and NaN is never written")
    func freshRegistryParses() throws {
        let metrics = LinkMetrics(link: "x", role: "node")
        var parser = ExpositionParser()
        try parser.parse(metrics.exposition())
        #expect(parser.families["qlink_fidelity"] == nil)
        #expect(parser.families["qlink_herald_latency_seconds"]?.type == "histogram")
        metrics.update(with: LinkObservation(timePs: 0, fidelity: Estimate(0.9, standardError: 0.01)))
        metrics.update(with: LinkObservation(timePs: 1, fidelity: Estimate(.nan, standardError: .infinity)))
        parser = ExpositionParser()
        try parser.parse(metrics.exposition())
        #expect(parser.families["qlink_fidelity"]?.samples.first?.value == 0.9)
        metrics.update(with: LinkObservation(timePs: 2, fidelity: Estimate(0.88, standardError: 0.01), fidelityIsLowerBound: true))
        parser = ExpositionParser()
        try parser.parse(metrics.exposition())
        #expect(parser.families["qlink_fidelity_is_lower_bound"]?.samples.first?.value == 1)
    }

    @Test("swift-metrics reports through the factory land in the same registry")
    func swiftMetricsBridge() throws {
        let metrics = LinkMetrics(link: "x", role: "node")
        let counter = Metrics.Counter(label: "qlink_test_events_total", dimensions: [("kind", "a")], factory: metrics.metricsFactory)
        counter.increment(by: 3)
        var parser = ExpositionParser()
        try parser.parse(metrics.exposition())
        #expect(parser.families["qlink_test_events_total"]?.samples.first?.value == 3)
    }

    @Test("the parser rejects broken exposition text", arguments: [
        "metric{a=\"1\"} 1\nother 2\nmetric{a=\"2\"} 3\n",   // not contiguous
        "# TYPE m gauge\nm 1\n# TYPE m gauge\n",              // TYPE after samples
        "m{a=\"x} 1\n",                                          // unterminated value
        "m{1a=\"x\"} 1\n",                                       // bad label name
        "m one\n",                                               // bad value
        "m 1\nm 2\n",                                            // duplicate series
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",  // decreasing
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",                           // no +Inf
        "m 1",                                                   // no final line feed
        "m{a=\"\\t\"} 1\n",                                      // bad escape
    ])
    func parserRejects(_ text: String) {
        var parser = ExpositionParser()
        #expect(throws: ExpositionParser.ParseError.self) { try parser.parse(text) }
    }
}
