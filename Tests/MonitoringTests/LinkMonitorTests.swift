import Correlation
import LinkModel
import Logging
import Planner
import Testing
@testable import Monitoring

@Suite("Link monitor: observations to metrics, alerts, history, status and re-tuning")
struct LinkMonitorTests {
    static func link() throws -> LinkConfiguration {
        var link = try LinkConfiguration.parse(loopbackYAML(appending: """
        monitoring:
          alerts:
            fidelity_below: { warning: 0.85, critical: 0.8, for_s: 60 }
          retune: { min_fidelity: 0.9, min_rate_hz: 1e4, max_rate_hz: 1e7 }
        """))
        link.model = RetuneTests.model()
        link.model?.clock.repetitionRateHz = 468_690
        return link
    }

    @Test("a low fidelity for 60 s reaches the history, the metrics and the status; the link shows degraded")
    func alertsFlowThrough() async throws {
        let history = InMemoryAlertHistory()
        var logger = Logger(label: "test.monitor")
        logger.logLevel = .critical
        let monitor = try LinkMonitor(link: Self.link(), role: "coordinator", history: history, logger: logger)
        #expect(await monitor.currentStatus().state == "starting")
        #expect(await monitor.prediction?.pairRateHz ?? 0 > 0)
        for t in 0...80 {
            var observation = LinkObservation(timePs: Int64(t) * second, fidelity: Estimate(t < 10 ? 0.95 : 0.7, standardError: 0.01))
            observation.nodeLastSeenPs = ["alice-node": Int64(t) * second, "bob-node": Int64(t) * second]
            observation.heraldOutcomes = ["psi_plus": 2]
            await monitor.observe(observation)
            await monitor.recordHerald(HeraldSummary(sequence: UInt64(t), attemptId: UInt64(t) * 10, outcome: "psi_plus", timePs: Int64(t) * second))
        }
        let recorded = try history.recentAlertTransitions(limit: 10)
        // F_min is crossed, and the fidelity is far below the planner's prediction too.
        #expect(recorded.map { "\($0.rule.rawValue) \($0.to.rawValue) \($0.atPs / second)" }
                == ["fidelity_low critical 70", "fidelity_below_plan warning 70"])
        let status = await monitor.currentStatus()
        #expect(status.state == "degraded")
        #expect(status.alerts.map(\.rule) == [.fidelityLow, .fidelityBelowPlan])
        #expect(status.recentHeralds.count == 20 && status.recentHeralds.last?.sequence == 80)
        #expect(status.uptimeSeconds == 80)
        var parser = ExpositionParser()
        try parser.parse(await monitor.metricsExposition())
        #expect(parser.families["qlink_alert_severity"]?.samples.contains { $0.labels["rule"] == "fidelity_low" && $0.value == 2 } == true)
        #expect(parser.families["qlink_heralds_total"]?.samples.first?.value == 162)
    }

    @Test("re-tuning recommends without auto-tune and records the recommendation in the status")
    func retuneRecommends() async throws {
        var logger = Logger(label: "test.monitor")
        logger.logLevel = .critical
        let monitor = try LinkMonitor(link: Self.link(), role: "coordinator", history: nil, logger: logger)
        let t = RetuneTests.fibreTransmission * RetuneTests.memoryEfficiency
        let pairs = 0.0848 * 468_690
        let measurement = RetuneMeasurement(repetitionRateHz: 468_690, knob: 0.0848, windowSeconds: 10,
                                            singlesRateHz: [pairs * t / 2 + 20, pairs * t + 20], backgroundRateHz: [20, 20],
                                            coincidenceRateHz: pairs * t * t / 2)
        let decision = try #require(await monitor.retune(measurement, atPs: 100 * second))
        guard case .recommend(let point, _) = decision else {
            Issue.record("expected a recommendation, got \(decision)")
            return
        }
        #expect(point.repetitionRateHz < 468_690)
        let tuning = try #require(await monitor.currentStatus().tuning)
        #expect(tuning.recommendedRateHz == point.repetitionRateHz)
        #expect(tuning.autoTune == false)
        await monitor.applied(point)
        #expect(await monitor.currentStatus().tuning?.repetitionRateHz == point.repetitionRateHz)
    }

    @Test("the status text shows the rate in force, the link time since when, a pending proposal and a node's hold")
    func statusShowsTheRateSchedule() async throws {
        var logger = Logger(label: "test.monitor")
        logger.logLevel = .critical
        let monitor = try LinkMonitor(link: Self.link(), role: "coordinator", history: nil, logger: logger)
        #expect(StatusText.render(await monitor.currentStatus()).contains(" (configured, since the start)"))
        await monitor.setRateSchedule(rateHz: 200_000, sincePs: 13_000_100_000, pendingChangeId: 3, pendingRateHz: 100_000)
        let text = StatusText.render(await monitor.currentStatus())
        #expect(text.contains("rate:          200.000 kHz in force since link time 13000100000 ps"), "\(text)")
        #expect(text.contains("rate pending:  change 3 to 100.000 kHz, proposed, not yet agreed by both labs"), "\(text)")
        #expect(!text.contains("rate hold:"))
        await monitor.setRateSchedule(rateHz: nil, sincePs: nil, pendingChangeId: nil, pendingRateHz: nil,
                                      hold: "waiting for the coordinator's rate schedule: not connected to the coordinator")
        let held = StatusText.render(await monitor.currentStatus())
        #expect(held.contains("rate hold:     waiting for the coordinator's rate schedule: not connected to the coordinator"), "\(held)")
        #expect(!held.contains("rate pending:"))
    }
}
