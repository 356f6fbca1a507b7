@testable import Services
import Testing

/// The coordinator's tag rate per node (`rateHzByNode`) is per second of the link time the node's batches covered,
/// whatever the pace at which they arrive.
@Suite("Link time a lab's batches covered")
struct LinkCoverageTests {
    @Test("kept tags per second of covered link time; a late or resent batch widens the span, never the clock")
    func ratePerLinkSecond() throws {
        let second: Int64 = 1_000_000_000_000
        // Batches of one second of link time, 1 000 tags each (the last tag 1 ms before the next batch's first).
        var coverage = LinkCoverage(startPs: 1 * second, reachedPs: 1 * second)
        coverage.extend(firstPs: 1 * second, lastPs: 2 * second - 1_000_000_000, kept: 1_000)
        #expect(coverage.rateHz.map { abs($0 - 1_000 / 0.999) < 1e-9 } == true, "\(String(describing: coverage.rateHz))")
        // However long the feed stalls, the next batches cover link time 2 s to 4 s: the rate stays.
        coverage.extend(firstPs: 2 * second, lastPs: 3 * second - 1_000_000_000, kept: 1_000)
        coverage.extend(firstPs: 3 * second, lastPs: 4 * second - 1_000_000_000, kept: 1_000)
        #expect(coverage.reachedPs == 4 * second - 1_000_000_000)
        #expect(coverage.rateHz.map { abs($0 - 3_000 / 2.999) < 1e-9 } == true, "\(String(describing: coverage.rateHz))")
        // An earlier batch (resent after a restart of its node) widens the span backwards; refused tags are not counted.
        coverage.extend(firstPs: 0, lastPs: second - 1_000_000_000, kept: 500)
        #expect(coverage.startPs == 0 && coverage.tags == 3_500)
        #expect(coverage.rateHz.map { abs($0 - 3_500 / 3.999) < 1e-9 } == true)
        // One instant is no span: no rate.
        #expect(LinkCoverage(startPs: 5, reachedPs: 5).rateHz == nil)
    }
}
