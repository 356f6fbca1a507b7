import Foundation
import LinkHealth
import LinkModel
import Monitoring
import Protocol
import Testing

/// Tag rates per arm and per channel are judged per second of link time: a feed that stalls (the whole link, or
/// one lab) is no drop of rate, a detector whose count stands still while its lab's link time runs on is.
@Suite("Tag rates on link time")
struct LinkTimeRatesTests {
    /// Every channel counts 10 k tags per second of link time. Each lab's batches reach link time `wall` except:
    /// nothing arrives from wall 10 s to 25 s (then the backlog at once), and lab B stalls alone from wall 30 s
    /// to 36 s. Lab B's detector 0 (channel 11) is dark from link time 40 s.
    static func report(wallSeconds wall: Double) -> StatusReport {
        let linkA = wall >= 10 && wall < 25 ? 10 : wall
        let linkB = wall >= 30 && wall < 36 ? 30 : linkA
        func tags(_ seconds: Double) -> Int64 { Int64((seconds * 10_000).rounded()) }
        func ps(_ seconds: Double) -> Int64 { Int64((seconds * 1e12).rounded()) }
        var status = StatusReport(runId: 1)
        status.elapsedSeconds = wall
        status.tagsByChannel = ["1": tags(linkA), "2": tags(linkA), "11": tags(min(linkB, 40)), "12": tags(linkB)]
        status.tagsByNode = ["alice-node": 2 * tags(linkA), "bob-node": tags(min(linkB, 40)) + tags(linkB)]
        status.linkTimeByNode = ["alice-node": ps(linkA), "bob-node": ps(linkB)]
        status.linkTimeByChannel = ["1": ps(linkA), "2": ps(linkA), "11": ps(linkB), "12": ps(linkB)]
        return status
    }

    @Test func stallsAreNoDropAndADeadDetectorIs() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let link = try LinkConfiguration.load(from: root.appendingPathComponent("configs/demo-pair-source.yaml").path)
        var observer = StatusObserver(link: link, windowSeconds: 3)
        let rules = AlertRulesConfiguration(armRateDropDb: .init(warning: 1.5, critical: 6, forSeconds: 3),
                                            channelRateDropDb: .init(warning: 3, critical: 10, forSeconds: 3), baselineSeconds: 5)
        var evaluator = AlertEvaluator(rules: rules)
        var rateAlerts: [String] = []
        var liveRates: [Double] = []
        for step in 1...120 {
            let observation = observer.observation(from: Self.report(wallSeconds: Double(step) / 2))
            for transition in evaluator.evaluate(observation) where transition.rule == .armRateDrop || transition.rule == .channelRateDrop {
                rateAlerts.append("\(transition.rule) \(transition.subject) \(transition.to) at wall \(Double(transition.atPs) / 1e12) s")
            }
            liveRates += [1, 2, 12].compactMap { observation.channelRatesHz[$0] }
            // Per detector of the arm; lab B's until its detector goes dark.
            liveRates += (step < 80 ? ["alice", "bob"] : ["alice"]).compactMap { observation.armRatesHz[$0].map { $0 / 2 } }
        }
        #expect(!liveRates.isEmpty && liveRates.allSatisfy { abs($0 - 10_000) < 1 }, "\(Set(liveRates).sorted())")
        #expect(evaluator.baselineRatesHz["channel 11"] == 10_000)
        // Channel 11 (and lab B's arm, at half its rate: 3 dB) drop; nothing else does, stalls or not.
        let dead = evaluator.activeAlerts.filter { $0.rule == .channelRateDrop || $0.rule == .armRateDrop }.map { "\($0.rule) \($0.subject) \($0.severity)" }
        #expect(dead == ["channelRateDrop channel 11 critical", "armRateDrop bob warning"], "\(rateAlerts)")
        #expect(rateAlerts.allSatisfy { $0.contains("channel 11") || $0.contains("bob") }, "\(rateAlerts)")
    }
}
