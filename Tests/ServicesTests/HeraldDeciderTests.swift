import Protocol
import Services
import Testing
import TimeTags

@Suite("Herald decisions")
struct HeraldDeciderTests {
    let periodPs: Int64 = 100_000

    /// Station clicks `(attempt, offset within the attempt, detector index)` as a sorted batch on channels 21/22.
    func clicks(_ list: [(Int64, Int64, Int)]) -> TagBatch {
        let sorted = list.map { ($0.0 * periodPs + $0.1, TagChannel(21 + $0.2)) }.sorted { $0.0 < $1.0 }
        return TagBatch(timesPs: sorted.map(\.0), channels: sorted.map(\.1))
    }

    @Test func singleClickWindowsAndMultiClickFailure() {
        var decider = HeraldDecider(repetitionPeriodPs: periodPs, windowStartPs: 40_000, windowEndPs: 60_000, stationChannels: [21, 22])
        let heralds = decider.process(clicks([(1, 50_000, 0), (2, 50_000, 1), (3, 45_000, 0), (3, 55_000, 1), (4, 10_000, 0), (5, 59_999, 1)]))
        #expect(heralds.map(\.attemptId) == [1, 2, 3, 5])
        #expect(heralds.map(\.outcome) == [.psiPlus, .psiMinus, .failure, .psiMinus])
        #expect(heralds.map(\.sequence) == [1, 2, 3, 4])
        #expect(decider.clicksOutsideWindow == 1)
        // A later batch never re-decides an attempt already decided.
        #expect(decider.process(clicks([(5, 50_000, 0)])).isEmpty)
    }

    @Test func barrettKokNeedsOneClickInEachRound() {
        var decider = HeraldDecider(repetitionPeriodPs: periodPs, windowStartPs: 20_000, windowEndPs: 30_000, stationChannels: [21, 22],
                                    heraldProtocol: .barrettKok(secondWindowStartPs: 70_000, secondWindowEndPs: 80_000))
        let heralds = decider.process(clicks([
            (1, 25_000, 0), (1, 75_000, 0),   // same detector twice: ψ⁺
            (2, 25_000, 0), (2, 75_000, 1),   // different detectors: ψ⁻
            (3, 25_000, 1),                   // no click in the second round: failure
            (4, 75_000, 1),                   // no click in the first round: failure
            (5, 22_000, 0), (5, 28_000, 1), (5, 75_000, 0), // two clicks in the first round: failure
            (6, 50_000, 0),                   // between the windows: not a click of any round
        ]))
        #expect(heralds.map(\.attemptId) == [1, 2, 3, 4, 5])
        #expect(heralds.map(\.outcome) == [.psiPlus, .psiMinus, .failure, .failure, .failure])
        #expect(heralds[0].detectionPs == 1 * periodPs + 75_000)
        #expect(decider.clicksOutsideWindow == 1)
    }
}
