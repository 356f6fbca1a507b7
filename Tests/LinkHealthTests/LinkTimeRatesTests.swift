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

/// Coincidence, accidental and herald rates (and the CAR, and the `rate_below_plan` comparison that reads them) are
/// judged per second of link time: the coincidences and accidentals on the link time the analysis covered in both
/// labs, the heralds on the station's. A stall of the whole feed is no dip and no shortfall; fewer pairs per second of
/// link time are.
@Suite("Pair and herald rates on link time")
struct PairRatesOnLinkTimeTests {
    /// A link delivering `pairsHz` pairs (coincidences on a pair source, heralds on a heralded link) per second of link
    /// time with 50 accidentals per second, until link time 40 s, then half as many pairs. Link time follows the
    /// coordinator's clock `wall` except that nothing arrives from wall 10 s to 25 s (then the backlog at once).
    static func report(wallSeconds wall: Double, heralded: Bool, pairsHz: Double) -> StatusReport {
        let link = wall >= 10 && wall < 25 ? 10 : wall
        let pairs = Int64((pairsHz * min(link, 40) + pairsHz / 2 * max(0, link - 40)).rounded())
        let ps = Int64((link * 1e12).rounded())
        var status = StatusReport(runId: 1)
        status.elapsedSeconds = wall
        status.analysisLinkTimePs = ps
        status.accidentals = 50 * link
        if heralded {
            status.heraldLinkTimePs = ps
            status.heraldSuccesses = pairs
            status.heralds = 3 * pairs
            // The analysis' heralds with readouts in both labs: a share of the heralds.
            status.coincidences = pairs / 2
        } else {
            status.coincidences = pairs
        }
        return status
    }

    @Test(arguments: [false, true])
    func aStalledFeedIsNoShortfallAndFewerPairsPerLinkSecondAre(heralded: Bool) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let link = try LinkConfiguration.load(from: root.appendingPathComponent(heralded ? "configs/demo.yaml" : "configs/demo-pair-source.yaml").path)
        let pairsHz = 2_000.0
        var observer = StatusObserver(link: link, windowSeconds: 3)
        var evaluator = AlertEvaluator(rules: AlertRulesConfiguration(), planned: PlannedComparisonConfiguration(kSigma: 3, forSeconds: 3),
                                       prediction: PlannedPrediction(pairRateHz: pairsHz))
        var raised: [AlertTransition] = []
        var healthy: [LinkObservation] = []
        var dropped: LinkObservation?
        for step in 1...120 {
            let wall = Double(step) / 2
            let observation = observer.observation(from: Self.report(wallSeconds: wall, heralded: heralded, pairsHz: pairsHz))
            raised += evaluator.evaluate(observation).filter { $0.rule == .rateBelowPlan && $0.isRaise }
            if wall >= 1 && wall <= 40 { healthy.append(observation) }
            dropped = observation
        }
        // Through the 15 s stall the rates read what the link delivered per second of link time: no dip, no shortfall.
        let measured = healthy.compactMap { heralded ? $0.heraldRateHz : $0.coincidenceRateHz }
        #expect(measured.count == healthy.count && measured.allSatisfy { abs($0.value - pairsHz) < 1e-6 }, "\(measured.map(\.value))")
        #expect(healthy.allSatisfy { abs(($0.accidentalRateHz?.value ?? 0) - 50) < 1e-6 }, "\(healthy.map { $0.accidentalRateHz?.value })")
        let car = heralded ? pairsHz / 2 / 50 : pairsHz / 50
        #expect(healthy.allSatisfy { abs(($0.car?.value ?? 0) - car) < 1e-6 }, "\(healthy.map { $0.car?.value })")
        #expect(healthy.allSatisfy { heralded == ($0.heraldRateHz != nil) }, "a herald rate only on a heralded link")
        // Half the pairs per second of link time from link time 40 s is a shortfall, raised once it has lasted for_s.
        let first = try #require(raised.first, "no rate_below_plan after the pair rate halved")
        #expect(raised.allSatisfy { $0.subject == "pair_rate" && $0.to == .warning } && first.atPs > 40_000_000_000_000,
                "\(raised.map { "\($0.to) at \(Double($0.atPs) / 1e12) s" })")
        let after = try #require(heralded ? dropped?.heraldRateHz : dropped?.coincidenceRateHz)
        #expect(abs(after.value - pairsHz / 2) < 1e-6)
    }
}
