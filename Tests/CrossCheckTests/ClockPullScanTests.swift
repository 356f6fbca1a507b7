import Correlation
import Foundation
import LinkModel
import Simulation
import Testing
import TimeTags

/// The pull scan behind docs/correlation.md's "Stated clock errors": one of the matrix's free-running pair-source
/// links simulated in-process over a range of seeds and analysed by ``LinkAnalysis`` with the default clock
/// recovery (as `qlink correlate` runs it, fed every lab A × lab B outcome detector's events), printing each seed's
/// offset and drift pulls (estimate − truth)/σ at the reported link time, the clock events, and the pull RMS.
///
/// On demand only: every seed runs a default acquisition (2²³ cells at 100–200 kHz singles), about 6 s per seed in a
/// debug build. `QLINK_PULL_SCAN=<link>:<first>-<last>` with link `2k`, `1k`,
/// `20M` or `1M`, e.g. `QLINK_PULL_SCAN=2k:1-40 swift test -c release -Xswiftc -enable-testing --filter ClockPullScan`.
@Suite("Clock pull scan over seeds of the matrix's free-running links (on demand)")
struct ClockPullScanTests {
    /// Scan names and the start of the matrix row's name they run.
    static let links = ["20M": "pair source 20 MHz, +10 ms", "1M": "pair source 1 MHz, −10 ms",
                        "2k": "pair source 2 000 pairs/s", "1k": "pair source 1 000 pairs/s"]

    @Test(.enabled(if: ProcessInfo.processInfo.environment["QLINK_PULL_SCAN"] != nil, "set QLINK_PULL_SCAN=<link>:<first>-<last>"))
    func scan() throws {
        let spec = ProcessInfo.processInfo.environment["QLINK_PULL_SCAN"] ?? ""
        let parts = spec.split(separator: ":"), range = parts.last?.split(separator: "-").compactMap { UInt64($0) } ?? []
        let prefix = try #require(Self.links[String(parts.first ?? "")], "unknown link in \(spec): use one of \(Self.links.keys.sorted())")
        let row = try #require(CorrelateMatrixTests.cases.first { $0.name.hasPrefix(prefix) })
        let link = try #require(row.link)
        guard range.count == 2 else { Issue.record("give seeds as <first>-<last>"); return }
        var pulls: [(offset: Double, drift: Double)] = []
        for seed in range[0]...range[1] {
            let pull = try Self.pulls(link, seconds: row.seconds, seed: seed)
            print("\(parts[0]) seed \(seed): offset pull \(pull.offset), drift pull \(pull.drift)\(pull.events.count > 1 ? ", events: \(pull.events)" : "")")
            pulls.append((pull.offset, pull.drift))
        }
        let rms = { (values: [Double]) in (values.map { $0 * $0 }.reduce(0, +) / Double(values.count)).squareRoot() }
        let offsetRms = rms(pulls.map(\.offset)), driftRms = rms(pulls.map(\.drift))
        print("\(parts[0]) seeds \(range[0])–\(range[1]): offset pull RMS \(offsetRms), drift pull RMS \(driftRms)")
        #expect(offsetRms > 0.7 && offsetRms < 1.4 && driftRms > 0.7 && driftRms < 1.4)
    }

    /// One seed: the offset and drift pulls of the engine's clock estimate, and its clock events.
    static func pulls(_ link: MatrixLink, seconds: Double, seed: UInt64) throws -> (offset: Double, drift: Double, events: [String]) {
        let configuration = try LinkConfiguration.parse(link.yaml(seed: seed, durationS: seconds).simulate)
        var simulator = try ConfiguredSimulation(configuration: configuration, durationPs: Int64(seconds * 1e12), seed: seed).makeSimulator()
        var chunks: [[TagBatch]] = [[], []]
        while let step = simulator.next() {
            if let a = step.chunk(.labA)?.batch { chunks[0].append(a) }
            if let b = step.chunk(.labB)?.batch { chunks[1].append(b) }
        }
        let truth = simulator.groundTruth()
        let a = try #require(truth.stream(.labA)), b = try #require(truth.stream(.labB))
        let offset = LinkAnalysisConfiguration.labBChannelOffset
        let pairs = [(1, 3), (1, 4), (2, 3), (2, 4)].map { ChannelPair(TagChannel($0.0), TagChannel($0.1) + offset) }
        var analysis = LinkAnalysisConfiguration(twoLabs: true, pairs: pairs, windowHalfWidthPs: 1_000)
        analysis.clock = .independent(ClockRecoverySettings())
        var engine = try LinkAnalysis(configuration: analysis)
        var queues = chunks.map { $0[...] }
        var events: [ClockEvent] = []
        try engine.addInTimeOrder(next: { queues[$0].popFirst() }, fed: { events += $0.takeClockEvents() })
        events += engine.takeClockEvents()
        let clock = try #require(engine.snapshot().clock)
        let at = Double(try #require(clock.atPs)), offsetEstimate = try #require(clock.offsetPs), drift = try #require(clock.driftPpm)
        let expected = MatrixChecks.expectedOffsetPs(a, b, atPs: at)
        return ((offsetEstimate.value - expected) / offsetEstimate.standardError, (drift.value - b.clock.frequencyErrorPpm) / drift.standardError,
                events.map(\.text))
    }
}
