import Correlation
import LinkModel
import Testing
@testable import Monitoring

let second: Int64 = 1_000_000_000_000

@Suite("Threshold tracking: durations, hysteresis, severities")
struct ThresholdTrackerTests {
    @Test("a low value must persist for the configured duration before the alert rises")
    func durationBeforeRaise() {
        var tracker = ThresholdTracker(rule: ThresholdRule(warning: 0.9, critical: 0.8, forSeconds: 60, clearForSeconds: 10, hysteresis: 0.02),
                                       badWhenLow: true)
        var changes: [(Int64, Severity)] = []
        for t in 0...200 {
            let value = t < 50 ? 0.95 : (t < 70 ? 0.85 : (t < 75 ? 0.95 : 0.85))
            if let severity = tracker.observe(value, atPs: Int64(t) * second) { changes.append((Int64(t), severity)) }
        }
        // Low from 50 to 69, a 5 s break, low again from 75: raised at 75 + 60.
        #expect(changes.map(\.0) == [135])
        #expect(changes.map(\.1) == [.warning])
    }

    @Test("hysteresis: a value just above the level does not clear; clearing needs the margin for clear_for_s")
    func hysteresisAndClear() {
        var tracker = ThresholdTracker(warning: 0.9, critical: 0.8, forPs: 0, clearForPs: 10 * second, hysteresis: 0.02, badWhenLow: true)
        #expect(tracker.observe(0.7, atPs: 0) == .critical)
        #expect(tracker.observe(0.81, atPs: 1 * second) == nil)      // within the margin of the critical level
        #expect(tracker.observe(0.81, atPs: 30 * second) == nil)
        #expect(tracker.observe(0.83, atPs: 31 * second) == nil)     // beyond the margin: the clock starts
        #expect(tracker.observe(0.83, atPs: 40 * second) == nil)
        #expect(tracker.observe(0.83, atPs: 41 * second) == .warning)
        #expect(tracker.observe(0.95, atPs: 42 * second) == nil)
        #expect(tracker.observe(0.95, atPs: 52 * second) == .ok)
        #expect(tracker.sincePs == 52 * second)
    }

    @Test("high-is-bad rules rise on large values; NaN changes nothing")
    func highIsBad() {
        var tracker = ThresholdTracker(warning: 500, critical: 2000, forPs: 2 * second, clearForPs: 0, hysteresis: 100, badWhenLow: false)
        #expect(tracker.observe(5000, atPs: 0) == nil)
        #expect(tracker.observe(.nan, atPs: 1 * second) == nil)
        #expect(tracker.observe(5000, atPs: 2 * second) == .critical)
        #expect(tracker.observe(450, atPs: 3 * second) == .warning)   // 450 > 500 − 100: the warning stays
        #expect(tracker.observe(350, atPs: 4 * second) == .ok)
    }
}

@Suite("Alert evaluator")
struct AlertEvaluatorTests {
    @Test("rate baselines are learned, then a drop in dB raises the arm and channel rules")
    func baselineAndDrop() {
        var rules = AlertRulesConfiguration()
        rules.baselineSeconds = 10
        rules.armRateDropDb = ThresholdRule(warning: 1.5, critical: 6, forSeconds: 5, clearForSeconds: 5, hysteresis: 0.5)
        rules.channelRateDropDb = ThresholdRule(warning: 3, critical: 10, forSeconds: 5, clearForSeconds: 5, hysteresis: 1)
        var evaluator = AlertEvaluator(rules: rules)
        var transitions: [AlertTransition] = []
        for t in 0...60 {
            let alice = t < 30 ? 1000.0 : 500
            let observation = LinkObservation(timePs: Int64(t) * second, channelRatesHz: [1: alice / 2, 2: alice / 2, 3: 400, 4: t < 30 ? 400 : 0],
                                              armRatesHz: ["alice": alice, "bob": t < 30 ? 800 : 400])
            transitions += evaluator.evaluate(observation)
        }
        #expect(evaluator.baselineRatesHz["arm alice"] == 1000)
        let raised = transitions.filter(\.isRaise).map { "\($0.rule.rawValue) \($0.subject) \($0.to.rawValue) \($0.atPs / second)" }
        #expect(raised.sorted() == ["arm_rate_drop alice warning 35", "arm_rate_drop bob warning 35",
                                    "channel_rate_drop channel 1 warning 35", "channel_rate_drop channel 2 warning 35",
                                    "channel_rate_drop channel 4 critical 35"].sorted())
        #expect(evaluator.activeAlerts.first?.severity == .critical)
    }

    @Test("a node silent too long and a certificate near expiry raise their rules")
    func silenceAndCertificates() {
        var evaluator = AlertEvaluator(rules: AlertRulesConfiguration(), expectedNodes: ["alice-node", "bob-node"])
        var transitions: [AlertTransition] = []
        for t in 0...40 {
            let observation = LinkObservation(timePs: Int64(t) * second, nodeLastSeenPs: ["alice-node": Int64(t) * second],
                                              certificateDaysLeft: ["bob-node": 6.5])
            transitions += evaluator.evaluate(observation)
        }
        let raised = transitions.map { "\($0.rule.rawValue) \($0.subject) \($0.to.rawValue) \($0.atPs / second)" }
        #expect(raised.contains("node_silent bob-node warning 6"))
        #expect(raised.contains("node_silent bob-node critical 31"))
        #expect(raised.contains("certificate_expiry bob-node critical 0"))
        #expect(!raised.contains { $0.contains("alice-node") })
    }

    @Test("measured below the plan by more than k standard errors is flagged; within k it is not")
    func belowPlan() {
        var evaluator = AlertEvaluator(rules: AlertRulesConfiguration(),
                                       planned: PlannedComparisonConfiguration(kSigma: 3, forSeconds: 10, clearForSeconds: 5),
                                       prediction: PlannedPrediction(pairRateHz: 100, fidelity: 0.9))
        var transitions: [AlertTransition] = []
        for t in 0...60 {
            let rate = t < 20 ? Estimate(98, standardError: 2) : Estimate(90, standardError: 2)  // 1σ, then 5σ low
            let fidelity = Estimate(0.89, standardError: 0.01)                                    // 1σ low throughout
            transitions += evaluator.evaluate(LinkObservation(timePs: Int64(t) * second, fidelity: fidelity, heraldRateHz: rate))
        }
        #expect(transitions.map { "\($0.rule.rawValue) \($0.to.rawValue) \($0.atPs / second)" } == ["rate_below_plan warning 30"])
    }

    @Test("a Z/X lower bound far below the planned fidelity is no shortfall: the planner predicts the fidelity itself")
    func boundIsNotComparedWithThePlan() {
        var evaluator = AlertEvaluator(rules: AlertRulesConfiguration(),
                                       planned: PlannedComparisonConfiguration(kSigma: 3, forSeconds: 10, clearForSeconds: 5),
                                       prediction: PlannedPrediction(pairRateHz: 100, fidelity: 0.925))
        var transitions: [AlertTransition] = []
        for t in 0...60 {
            // The Z/X bound of a Werner state with V = 0.9 is 0.9 (its fidelity 0.925): 20σ below the plan as a value.
            transitions += evaluator.evaluate(LinkObservation(timePs: Int64(t) * second, fidelity: Estimate(0.8997, standardError: 0.00125),
                                                              fidelityIsLowerBound: true, heraldRateHz: Estimate(100, standardError: 2)))
        }
        #expect(transitions.isEmpty, "\(transitions)")
    }
}
