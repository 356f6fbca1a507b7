import Protocol
import Services
import Testing
import TimeTags

/// Herald decisions across a change of the repetition rate: the new attempt grid starts at the first attempt
/// of the old one at or after the change time (as in the link simulator), attempt ids count on.
@Suite("Herald decisions across a repetition-rate change")
struct HeraldDeciderRateChangeTests {
    func batch(_ clicks: [(Int64, Int)]) -> TagBatch {
        TagBatch(timesPs: clicks.map(\.0), channels: clicks.map { TagChannel(21 + $0.1) })
    }

    @Test func singleClickFollowsTheNewGrid() {
        var decider = HeraldDecider(repetitionPeriodPs: 100_000, windowStartPs: 0, windowEndPs: 20_000, stationChannels: [21, 22])
        // Asked for 250 ns: attempts 0, 1, 2 of the 100 ns grid run on; the 40 ns grid starts at 300 ns (attempt 3).
        decider.changeRepetitionPeriod(to: 40_000, fromPs: 250_000)
        let heralds = decider.process(batch([
            (100_000, 0), (210_000, 1),          // old grid: attempts 1 and 2
            (300_000, 0), (345_000, 1),          // new grid: attempts 3 (300 ns) and 4 (340 ns)
            (385_000, 0), (390_000, 1),          // attempt 5 (380 ns): two clicks, failure
            (370_000 + 40_000 * 10, 0),          // 770 ns: 30 ns into attempt 14 (760 ns), outside the window
        ]))
        #expect(heralds.map(\.attemptId) == [1, 2, 3, 4, 5])
        #expect(heralds.map(\.outcome) == [.psiPlus, .psiMinus, .psiPlus, .psiMinus, .failure])
        #expect(heralds.map(\.timePs) == [100_000, 200_000, 300_000, 340_000, 380_000])
        #expect(decider.clicksOutsideWindow == 1)
        #expect(decider.repetitionPeriodPs == 40_000)
    }

    @Test func barrettKokSecondWindowKeepsItsPlaceInThePeriod() {
        var decider = HeraldDecider(repetitionPeriodPs: 100_000, windowStartPs: 0, windowEndPs: 10_000, stationChannels: [21, 22],
                                    heraldProtocol: .barrettKok(secondWindowStartPs: 50_000, secondWindowEndPs: 60_000))
        decider.changeRepetitionPeriod(to: 200_000, fromPs: 1_000_000)
        let heralds = decider.process(batch([
            (100_000, 0), (155_000, 0),          // old grid, attempt 1: ψ⁺
            (1_000_000, 0), (1_105_000, 1),      // new grid, attempt 10, second round at 100 ns: ψ⁻
            (1_255_000, 1),                      // 55 ns into attempt 11: between the windows
        ]))
        #expect(heralds.map(\.attemptId) == [1, 10])
        #expect(heralds.map(\.outcome) == [.psiPlus, .psiMinus])
        #expect(decider.heraldProtocol == .barrettKok(secondWindowStartPs: 100_000, secondWindowEndPs: 110_000))
        #expect(decider.clicksOutsideWindow == 1)
    }
}
