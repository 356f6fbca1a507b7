import Correlation
import Testing

@Suite("Streaming clock recovery")
struct ClockRecoveryStreamTests {
    @Test("a −3.7 µs offset with 1 ppm drift locks with the defaults, in any chunk size", arguments: [1_000, 65_536, Int.max])
    func locksOnSmallDrift(chunk: Int) throws {
        let labs = ClockLabs(offsetPs: -3.7e6, driftPpm: 1, pairRateHz: 20_000, singlesRateHz: 20_000, durationS: 1)
        let data = labs.generate(seed: 11)
        let (stream, events) = try recoverClock(data.a, data.b, chunk: chunk)
        #expect(stream.state == .locked)
        let estimate = try #require(stream.estimate)
        let truth = labs.truthPs(estimate.atPs)
        #expect(abs(estimate.offsetPs.value - truth) < max(100, 5 * estimate.offsetPs.standardError), "offset \(estimate.offsetPs) vs \(truth)")
        #expect(abs(estimate.driftPpm.value - 1) < 0.05, "drift \(estimate.driftPpm)")
        #expect(events.count == 1)
        if case .acquired = events.first {} else { Issue.record("first event \(String(describing: events.first))") }
        let final = try #require(stream.finalThroughPs)
        #expect(final == .max)
        let last = try #require(data.a.last)
        #expect(abs((stream.offsetPs(atAPs: last) ?? 0) - labs.truthPs(last)) < 100)
    }
}
