import QLinkTestSupport
import LinkModel
import Simulation
import Testing
@testable import Monitoring

/// Fault injection: the simulator's fault schedule, Correlation's rolling estimators and the evaluator.
@Suite("Fault injection with the simulator")
struct FaultInjectionTests {
    static let s = SimulatedLinkHarness.second
    static let pairRateHz = 4000.0
    static let delayPs: Int64 = 50_000_000

    /// A low-rate link: 5 % detection per lab, 20 Hz dark counts per detector, V = 0.98.
    static func scenario(_ faults: [ScheduledFault] = []) -> PairSourceScenario {
        PairSourceScenario(
            pairRateHz: pairRateHz, state: .phiPlus, visibility: 0.98,
            labA: SimulatedLinkHarness.lab(transmission: 0.1, efficiency: 0.5, darkHz: 20, delayPs: delayPs, plus: 1, minus: 2),
            labB: SimulatedLinkHarness.lab(transmission: 0.1, efficiency: 0.5, darkHz: 20, delayPs: delayPs, plus: 3, minus: 4),
            faults: FaultSchedule(faults))
    }

    /// The rules the tests configure (the defaults, with a 30 s baseline).
    static let rules = AlertRulesConfiguration()

    /// Runs `segments` through the harness and the evaluator; returns every transition and the final states.
    static func evaluate(_ segments: [SimulatedLinkHarness.Segment], planned: Bool = true,
                         plannedKSigma: Double = 5) async throws -> (transitions: [AlertTransition], final: [AlertState]) {
        try await offPool { try evaluateNow(segments, planned: planned, plannedKSigma: plannedKSigma) }
    }

    static func evaluateNow(_ segments: [SimulatedLinkHarness.Segment], planned: Bool,
                            plannedKSigma: Double = 5) throws -> (transitions: [AlertTransition], final: [AlertState]) {
        let prediction = PlannedPrediction(pairRateHz: pairRateHz * 0.05 * 0.05, fidelity: 0.98)
        var evaluator = AlertEvaluator(rules: rules, planned: PlannedComparisonConfiguration(enabled: planned, kSigma: plannedKSigma),
                                       prediction: prediction, expectedNodes: ["alice-node", "bob-node"])
        var transitions: [AlertTransition] = []
        let harness = SimulatedLinkHarness(segments: segments, nominalLagPs: 0)
        try harness.run { observation in transitions += evaluator.evaluate(observation) }
        return (transitions, evaluator.states)
    }

    /// The first raise of `rule` on `subject` at or after `fromPs`.
    static func firstRaise(_ transitions: [AlertTransition], _ rule: AlertRule, _ subject: String, after fromPs: Int64) -> AlertTransition? {
        transitions.first { $0.rule == rule && $0.subject == subject && $0.isRaise && $0.atPs >= fromPs }
    }

    static func describe(_ transitions: [AlertTransition]) -> String {
        transitions.map { "\($0.atPs / s)s \($0.rule.rawValue)[\($0.subject)] \($0.from.rawValue)→\($0.to.rawValue) \($0.value)" }
            .joined(separator: "\n")
    }

    @Test("a clean simulated hour raises no alert")
    func cleanHour() async throws {
        let run = try await Self.evaluate([.init(scenario: Self.scenario(), durationPs: 3600 * Self.s)])
        #expect(run.transitions.isEmpty, "\(Self.describe(run.transitions))")
        #expect(run.final.allSatisfy { $0.severity == .ok })
        #expect(run.final.contains { $0.rule == .fidelityLow })      // the rules did run
        #expect(run.final.contains { $0.rule == .rateBelowPlan })
    }

    @Test("a 3 dB loss step on arm A raises the arm-rate alert on A only, within its duration + 10 s, and clears after repair")
    func lossStep() async throws {
        let faultAt = 60 * Self.s
        // Halving a 10 Hz pair rate is about 7 standard errors of a 10 s window: a 3σ planned comparison
        // sees it for the 60 s it needs whatever the draws (at 5σ it does so only about half the time).
        let run = try await Self.evaluate([
            .init(scenario: Self.scenario([ScheduledFault(atPs: faultAt, kind: .lossStep(arm: .a, extraLossDb: 3))]), durationPs: 160 * Self.s),
            .init(scenario: Self.scenario(), durationPs: 60 * Self.s),     // the fibre is repaired at 160 s
        ], plannedKSigma: 3)
        let raised = try #require(Self.firstRaise(run.transitions, .armRateDrop, "a", after: faultAt), "\(Self.describe(run.transitions))")
        #expect(raised.atPs - faultAt <= Self.rules.armRateDropDb.forPs + 10 * Self.s)
        #expect(raised.value > 2 && raised.value < 4)
        #expect(!run.transitions.contains { $0.rule == .armRateDrop && $0.subject == "b" })
        #expect(Self.firstRaise(run.transitions, .rateBelowPlan, "pair_rate", after: faultAt) != nil)
        #expect(run.transitions.contains { $0.rule == .armRateDrop && $0.subject == "a" && $0.to == .ok && $0.atPs > 160 * Self.s })
        #expect(run.final.allSatisfy { $0.severity == .ok }, "\(run.final.filter { $0.severity != .ok })")
    }

    @Test("a dead detector raises the channel alert for that channel within its duration + 10 s and clears when it returns")
    func deadDetector() async throws {
        let faultAt = 60 * Self.s
        let fault = ScheduledFault(atPs: faultAt, kind: .detectorDark(stream: .labB, detector: 1, durationPs: 60 * Self.s))
        let run = try await Self.evaluate([.init(scenario: Self.scenario([fault]), durationPs: 180 * Self.s)])
        let raised = try #require(Self.firstRaise(run.transitions, .channelRateDrop, "channel 4", after: faultAt), "\(Self.describe(run.transitions))")
        #expect(raised.atPs - faultAt <= Self.rules.channelRateDropDb.forPs + 10 * Self.s)
        #expect(run.transitions.contains { $0.rule == .channelRateDrop && $0.subject == "channel 4" && $0.to == .critical })
        #expect(!run.transitions.contains { $0.rule == .channelRateDrop && $0.subject != "channel 4" })
        #expect(run.final.first { $0.rule == .channelRateDrop && $0.subject == "channel 4" }?.severity == .ok)
    }

    @Test("a clock jump raises the clock-residual alert within its duration + 10 s and clears when the clock steps back")
    func clockJump() async throws {
        let faultAt = 60 * Self.s
        let run = try await Self.evaluate([.init(scenario: Self.scenario([
            ScheduledFault(atPs: faultAt, kind: .clockJump(stream: .labB, jumpPs: 8000)),
            ScheduledFault(atPs: 100 * Self.s, kind: .clockJump(stream: .labB, jumpPs: -8000)),
        ]), durationPs: 160 * Self.s)])
        let raised = try #require(Self.firstRaise(run.transitions, .clockResidual, "link", after: faultAt), "\(Self.describe(run.transitions))")
        #expect(raised.atPs - faultAt <= Self.rules.clockResidualAbovePs.forPs + 10 * Self.s)
        #expect(raised.to == .critical)
        #expect(abs(raised.value - 8000) < 200)
        #expect(run.final.first { $0.rule == .clockResidual }?.severity == .ok)
        #expect(run.final.allSatisfy { $0.severity == .ok }, "\(run.final.filter { $0.severity != .ok })")
    }

    @Test("a visibility drop raises the fidelity alert within its duration + 10 s and clears when the visibility returns")
    func visibilityDrop() async throws {
        let faultAt = 60 * Self.s
        let run = try await Self.evaluate([.init(scenario: Self.scenario([
            ScheduledFault(atPs: faultAt, kind: .visibilityChange(visibility: 0.6)),
            ScheduledFault(atPs: 150 * Self.s, kind: .visibilityChange(visibility: 0.98)),
        ]), durationPs: 200 * Self.s)])
        let raised = try #require(Self.firstRaise(run.transitions, .fidelityLow, "link", after: faultAt), "\(Self.describe(run.transitions))")
        #expect(raised.atPs - faultAt <= Self.rules.fidelityBelow.forPs + 10 * Self.s)
        #expect(run.transitions.contains { $0.rule == .fidelityLow && $0.to == .critical })
        #expect(!run.transitions.contains { $0.rule == .armRateDrop || $0.rule == .clockResidual })
        #expect(run.final.first { $0.rule == .fidelityLow }?.severity == .ok)
    }
}
