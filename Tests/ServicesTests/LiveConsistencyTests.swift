import Correlation
import Foundation
import LinkModel
import Protocol
import Services
import Simulation
import Testing
import TimeTags

/// The offline path, as `qlink correlate` reads files: each lab's whole stream re-cut into file-sized chunks in
/// time order (every marker in the chunk whose photons reach it), the lab that is behind on lab A's axis read
/// next, all into one ``LinkAnalysis``.
enum OfflineEngine {
    /// The nodes' chunks of one simulated link, in the order the coordinator receives them: lab A's stream (with
    /// the station's clicks merged in) and lab B's, per simulation step.
    static func nodeChunks(_ simulator: inout LinkSimulator) -> [(lab: Int, batch: TagBatch)] {
        var chunks: [(lab: Int, batch: TagBatch)] = []
        while let step = simulator.next() {
            let a = mergedWithStation(step.chunk(.labA)?.batch ?? TagBatch(), step.chunk(.station)?.batch)
            if !a.isEmpty || !a.markers.isEmpty { chunks.append((0, a)) }
            if let b = step.chunk(.labB)?.batch { chunks.append((1, b)) }
        }
        return chunks
    }

    /// Lab `lab`'s stream from `nodeChunks` as files of `size` tags.
    static func fileChunks(_ nodeChunks: [(lab: Int, batch: TagBatch)], lab: Int, size: Int) -> [TagBatch] {
        var whole = TagBatch()
        for chunk in nodeChunks where chunk.lab == lab {
            whole.timesPs += chunk.batch.timesPs
            whole.channels += chunk.batch.channels
            whole.markers += chunk.batch.markers
        }
        var chunks: [TagBatch] = []
        var start = 0, marker = 0
        while start < whole.count {
            let end = min(whole.count, start + size)
            var batch = TagBatch(timesPs: Array(whole.timesPs[start..<end]), channels: Array(whole.channels[start..<end]))
            let through = end == whole.count ? Int64.max : whole.timesPs[end - 1]
            while marker < whole.markers.count, whole.markers[marker].timePs <= through { batch.markers.append(whole.markers[marker]); marker += 1 }
            chunks.append(batch)
            start = end
        }
        return chunks
    }

    /// Runs `configuration` over `nodeChunks` cut into files of `size` tags; `heralds` (in time order, decided from
    /// lab A's stream) are added as lab A's files cover them.
    static func run(_ configuration: LinkAnalysisConfiguration, nodeChunks: [(lab: Int, batch: TagBatch)], size: Int = 65_536,
                    heralds: [Herald] = []) throws -> LinkAnalysisSnapshot {
        try engine(configuration, nodeChunks: nodeChunks, size: size, heralds: heralds).snapshot()
    }

    /// The engine after ``run(_:nodeChunks:size:heralds:)``'s input (for what the snapshot does not hold, such as
    /// the counts per setting the tomography reads).
    static func engine(_ configuration: LinkAnalysisConfiguration, nodeChunks: [(lab: Int, batch: TagBatch)], size: Int = 65_536,
                       heralds: [Herald] = []) throws -> LinkAnalysis {
        var engine = try LinkAnalysis(configuration: configuration)
        var files = (0..<2).map { fileChunks(nodeChunks, lab: $0, size: size)[...] }
        var pending = LiveAnalysis.engineHeralds(heralds)[...]
        var coveredA: Int64?
        try engine.addInTimeOrder(next: { lab in
            let file = files[lab].popFirst()
            if lab == 0, let last = file?.timesPs.last { coveredA = last }
            return file
        }) { engine in
            guard !heralds.isEmpty, let covered = coveredA else { return }
            var through: [(timePs: Int64, type: HeraldType)] = []
            while let next = pending.first, next.timePs <= covered { through.append(next); pending.removeFirst() }
            engine.addHeralds(through, coveredThroughPs: covered)
        }
        return engine
    }

    /// The heralds the coordinator decides from lab A's node chunks.
    static func heralds(_ nodeChunks: [(lab: Int, batch: TagBatch)], settings: HeraldSettings) -> [Herald] {
        var decider = HeraldDecider(repetitionPeriodPs: settings.repetitionPeriodPs, windowStartPs: settings.windowStartPs,
                                    windowEndPs: settings.windowEndPs, stationChannels: settings.stationChannels,
                                    heraldProtocol: settings.heraldProtocol)
        return nodeChunks.filter { $0.lab == settings.stationLab }.flatMap { decider.process($0.batch) }
    }
}

/// The live coordinator (over real ZeroMQ on loopback, fed by two simulated nodes) against the simulator's ground
/// truth and against the offline engine run on the same simulated streams in file-sized chunks: counts exactly
/// equal where the clock is shared, everything else within 3σ. The coordinator's final snapshot is taken after
/// it has drained its analysis queue at shutdown; nothing waits on the wall clock.
@Suite("Live coordinator, offline engine and ground truth agree", .serialized)
struct LiveConsistencyTests {
    /// Runs `configuration` live for `durationPs` (the analysis queue never full, so every batch is analysed) and
    /// offline. - Returns: the live final snapshot and status, the offline snapshot, and the simulator's truth.
    static func compare(_ configuration: LinkConfiguration, durationPs: Int64, adjust: @escaping (inout CoordinatorSettings) -> Void = { _ in })
        async throws -> (live: LinkAnalysisSnapshot, status: StatusReport, offline: LinkAnalysisSnapshot, truth: GroundTruth) {
        var settings = try SimulatedTestLink.coordinatorSettings(configuration, directory: "/")
        adjust(&settings)
        let state = try await EndToEndTests.run(configuration, durationPs: durationPs, check: { _, _, _ in }, adjust: { live in
            adjust(&live)
            live.analysisQueueBatches = 1 << 30
        })
        var simulator = try SimulatedTestLink.simulation(configuration, durationPs: durationPs).makeSimulator()
        let chunks = OfflineEngine.nodeChunks(&simulator)
        let layout = try #require(settings.analysis)
        let heralds = settings.heralds.map { OfflineEngine.heralds(chunks, settings: $0) } ?? []
        let offline = try OfflineEngine.run(layout.engineConfiguration, nodeChunks: chunks, heralds: heralds)
        let live = try #require(state.analysis), status = try #require(state.status)
        #expect(status.analysisDroppedBatches == 0)
        #expect(status.analysisLinkTimePs == live.linkTimePs && live.linkTimePs != nil)
        #expect(live.lateEvents == 0)
        return (live, status, offline, simulator.groundTruth())
    }

    /// The CHSH combination of the test links' Z/X settings (|S| = 2V for ψ⁻ at visibility V).
    static let zx = CHSHSettings(a: "Z", aPrime: "X", b: "Z", bPrime: "X")

    /// `a` and `b` agree within 3σ of their difference.
    static func agree(_ a: Estimate?, _ b: Estimate?, _ what: String) {
        guard let a, let b else { Issue.record("\(what): live \(String(describing: a)), offline \(String(describing: b))"); return }
        let sigma = (a.standardError * a.standardError + b.standardError * b.standardError).squareRoot()
        #expect(abs(a.value - b.value) <= 3 * sigma, "\(what): live \(a), offline \(b)")
    }

    /// Live and offline within 3σ: coincidences (Poisson), E per basis pair, the reported fidelity, CAR, offset, drift.
    static func agreeWithinThreeSigma(_ live: LinkAnalysisSnapshot, _ offline: LinkAnalysisSnapshot) {
        agree(Estimate(Double(live.coincidences), standardError: Double(live.coincidences).squareRoot()),
              Estimate(Double(offline.coincidences), standardError: Double(offline.coincidences).squareRoot()), "coincidences")
        for basis in offline.bases where basis.countBasis == .raw {
            agree(live.bases.first { $0.basis == basis.basis && $0.countBasis == .raw }?.correlation, basis.correlation, "E_\(basis.basis)")
        }
        if offline.reportedFidelity != nil { agree(live.reportedFidelity?.estimate, offline.reportedFidelity?.estimate, "F") }
        if offline.chsh != nil { agree(live.chsh, offline.chsh, "S") }
        if offline.car != nil { agree(live.car, offline.car, "CAR") }
        if let clock = offline.clock, clock.offsetPs != nil {
            #expect(live.clock?.lock == .locked && clock.lock == .locked)
            // Offsets are compared at the same link time: the live one moved on by the drift since the offline one.
            if let at = live.clock?.atPs, let offlineAt = clock.atPs, let drift = clock.driftPpm?.value, let offset = clock.offsetPs {
                let moved = Estimate(offset.value + Double(at - offlineAt) * drift * 1e-6, standardError: offset.standardError)
                agree(live.clock?.offsetPs, moved, "offset")
            }
            agree(live.clock?.driftPpm, clock.driftPpm, "drift")
        }
    }

    /// The live snapshot's E per basis pair (and S) against the simulator's truth within 3σ. - Returns: the truth.
    @discardableResult
    static func checkPairSourceTruth(_ run: (live: LinkAnalysisSnapshot, status: StatusReport, offline: LinkAnalysisSnapshot, truth: GroundTruth),
                                     _ configuration: LinkConfiguration) throws -> PairSourceTruthSegment {
        let truth = try #require(run.truth.pairSourceSegments?.first)
        let layout = try #require(ConfigurationMapping.analysisLayout(configuration))
        LinkAnalysisSeamTests.checkTruth(run.live, LinkAnalysisSeamTests.Run(truth: truth, layout: layout))
        return truth
    }

    @Test func loopbackConfiguration() async throws {
        let configuration = try LinkConfiguration.load(from: RepositoryConfigs.root.appendingPathComponent("configs/loopback.yaml").path)
        // Its settings are CHSH's (alice 0°/45°, bob 22.5°/67.5°), as a `correlation.chsh` section would say.
        let run = try await Self.compare(configuration, durationPs: 1_000_000_000_000) { $0.analysis?.chsh = LinkAnalysisSeamTests.chsh }
        Self.agreeWithinThreeSigma(run.live, run.offline)
        try Self.checkPairSourceTruth(run, configuration)
        let car = try #require(run.live.car)
        #expect(car.value > 100, "CAR \(car)")
        // Lab B's clock 0.05 ppm fast.
        let drift = try #require(run.live.clock?.driftPpm)
        #expect(abs(drift.value - 0.05) <= 3 * drift.standardError + 0.001, "drift \(drift)")
    }

    /// A free-running lab B: 3 ms late and 20 ppm fast, 200 k pairs/s.
    @Test func pairSourceWithOffsetAndFrequencyError() async throws {
        let offsetPs: Int64 = 3_000_000_000, ppm = 20.0
        let configuration = try SimulatedTestLink.configuration(
            SimulatedTestLink.pairSourceSections(seed: 31, frequencyErrorPpm: ppm, clockOffsetPs: offsetPs))
        let run = try await Self.compare(configuration, durationPs: 2_000_000_000_000) { $0.analysis?.chsh = Self.zx }
        Self.agreeWithinThreeSigma(run.live, run.offline)
        let truth = try Self.checkPairSourceTruth(run, configuration)
        let clock = try #require(run.live.clock)
        let offset = try #require(clock.offsetPs), at = try #require(clock.atPs), drift = try #require(clock.driftPpm)
        let trueOffset = Double(offsetPs) + Double(at) * ppm * 1e-6
        #expect(abs(offset.value - trueOffset) <= 3 * offset.standardError + 5, "offset \(offset) vs \(trueOffset) at \(at)")
        #expect(abs(drift.value - ppm) <= 3 * drift.standardError + 0.001, "drift \(drift) ppm")
        let bound = try #require(run.live.fidelityLowerBound)
        #expect(abs(bound.value - truth.visibility) <= 3 * bound.standardError + 0.005, "F ≥ \(bound) vs V \(truth.visibility)")
    }

    /// Both labs on one clock (declared shared): the live counts equal the offline ones exactly.
    @Test func pairSourceOnASharedClockCountsExactly() async throws {
        let configuration = try SimulatedTestLink.configuration(SimulatedTestLink.pairSourceSections(seed: 32, clockOffsetPs: 0))
        let run = try await Self.compare(configuration, durationPs: 1_000_000_000_000) {
            $0.analysis?.clock = .shared(offsetPs: 0)
            $0.analysis?.chsh = Self.zx
        }
        #expect(run.live.coincidences > 10_000)
        #expect(run.live.pairs == run.offline.pairs)
        #expect(run.live.singles == run.offline.singles)
        #expect(run.live.bases == run.offline.bases)
        #expect(run.live.chsh == run.offline.chsh)
        try Self.checkPairSourceTruth(run, configuration)
    }

    /// The heralded demo link (`configs/demo.yaml`: Z, X and Y readouts, lab B's clock 1.5 µs late): the heralds
    /// come from lab A's stream; the readouts are correlated with them.
    @Test func heraldedLink() async throws {
        let configuration = try LinkConfiguration.load(from: RepositoryConfigs.heraldedDemo)
        let run = try await Self.compare(configuration, durationPs: 2_000_000_000_000)
        #expect(run.live.heraldsWithOutcomes > 1_000)
        #expect(run.live.heralded.map(\.heralds) == run.offline.heralded.map(\.heralds))
        #expect(run.live.heraldsWithOutcomes == run.offline.heraldsWithOutcomes)
        #expect(run.live.heralded == run.offline.heralded)
        let truth = try heraldedTruthFidelity(run.truth)
        let fidelity = try #require(run.live.fidelity)
        #expect(abs(fidelity.value - truth.fidelity) <= 3 * fidelity.standardError, "F \(fidelity), truth \(truth.fidelity)")
    }

    /// The pair-source demo as shipped (`configs/demo-pair-source.yaml`: lab B's clock 1.5 µs late): live,
    /// offline and truth agree.
    @Test func pairSourceDemoConfiguration() async throws {
        let configuration = try LinkConfiguration.load(from: RepositoryConfigs.root.appendingPathComponent("configs/demo-pair-source.yaml").path)
        let run = try await Self.compare(configuration, durationPs: 1_000_000_000_000) { $0.analysis?.chsh = Self.zx }
        Self.agreeWithinThreeSigma(run.live, run.offline)
        try Self.checkPairSourceTruth(run, configuration)
        let offset = try #require(run.live.clock?.offsetPs)
        #expect(abs(offset.value - 1_500_000) <= 3 * offset.standardError + 5, "offset \(offset)")
    }

    /// One free-running lab B of the family the issue names, at the edges: ±10 ms and ±50 ppm, and pair rates
    /// from 200 k/s down to 4 k/s (mean pairs per 100 ns pulse 0.02 … 0.0004; a quarter of them detected as
    /// pairs). Each with its own seed; the defaults of the live coordinator, no tuning.
    static let freeRunningFamily: [(seed: UInt64, offsetPs: Int64, ppm: Double, pairsPerPulse: Double)] = [
        (41, -10_000_000_000, -50, 0.02),
        (42, 10_000_000_000, 50, 0.002),
        (43, -4_200_000_000, 35, 0.0004),
    ]

    @Test(arguments: 0..<freeRunningFamily.count)
    func freeRunningLabBAtTheEdges(_ index: Int) async throws {
        let link = Self.freeRunningFamily[index]
        let configuration = try SimulatedTestLink.configuration(
            SimulatedTestLink.pairSourceSections(seed: link.seed, frequencyErrorPpm: link.ppm, pairsPerPulse: link.pairsPerPulse,
                                                 clockOffsetPs: link.offsetPs))
        let run = try await Self.compare(configuration, durationPs: 2_000_000_000_000) { $0.analysis?.chsh = Self.zx }
        Self.agreeWithinThreeSigma(run.live, run.offline)
        try Self.checkPairSourceTruth(run, configuration)
        let clock = try #require(run.live.clock)
        #expect(clock.lock == .locked)
        let offset = try #require(clock.offsetPs), at = try #require(clock.atPs), drift = try #require(clock.driftPpm)
        let trueOffset = Double(link.offsetPs) + Double(at) * link.ppm * 1e-6
        #expect(abs(offset.value - trueOffset) <= 3 * offset.standardError + 5, "offset \(offset) vs \(trueOffset) at \(at)")
        #expect(abs(drift.value - link.ppm) <= 3 * drift.standardError + 0.001, "drift \(drift) vs \(link.ppm) ppm")
    }

    /// A heralded link at 100 kHz attempts whose lab B runs free (2 ms late, 30 ppm fast): the heralds come from
    /// lab A's stream exactly as offline, and lab B's readouts are mapped through the clock the engine recovers
    /// from the readouts of both labs (Z and X readouts: the fidelity's Z/X lower bound).
    @Test func heraldedLinkWithAFreeRunningLabB() async throws {
        let configuration = try SimulatedTestLink.configuration(
            SimulatedTestLink.heraldedSections(seed: 44, labBClock: "{ offset_ps: 2_000_000_000, frequency_error_ppm: 30 }"))
        let run = try await Self.compare(configuration, durationPs: 10_000_000_000_000)
        #expect(run.live.heraldsWithOutcomes > 10_000)
        #expect(run.live.heralded.map(\.heralds) == run.offline.heralded.map(\.heralds))
        let live = try #require(run.live.fidelityLowerBound), offline = try #require(run.offline.fidelityLowerBound)
        Self.agree(live, offline, "F bound")
        let truth = try heraldedTruthFidelity(run.truth)
        #expect(live.value <= truth.fidelity + 3 * live.standardError, "F ≥ \(live), truth \(truth.fidelity)")
        for snapshot in [run.live, run.offline] {
            let clock = try #require(snapshot.clock)
            #expect(clock.lock == .locked)
            let offset = try #require(clock.offsetPs), at = try #require(clock.atPs), drift = try #require(clock.driftPpm)
            let trueOffset = 2_000_000_000 + Double(at) * 30e-6
            #expect(abs(offset.value - trueOffset) <= 3 * offset.standardError, "offset \(offset) vs \(trueOffset) at \(at)")
            #expect(abs(drift.value - 30) <= 3 * drift.standardError, "drift \(drift)")
        }
    }
}
