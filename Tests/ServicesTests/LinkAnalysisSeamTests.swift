import Correlation
import Foundation
import LinkModel
import Services
import Simulation
import Testing
import TimeTags

/// The seam between files and live links: the SAME simulated `configs/loopback.yaml` streams analysed once as
/// files (each lab's stream cut into 65 536-tag chunks, the lab that is behind read first, as `qlink correlate`
/// reads) and once as the coordinator receives them (the nodes' chunks, lab A's then lab B's per step, through
/// ``LiveAnalysis``). One engine: the counts agree exactly with a shared clock, and everything agrees within
/// 3σ with a recovered clock and with the simulator's ground truth.
@Suite("One engine for files and live links (configs/loopback.yaml)")
struct LinkAnalysisSeamTests {
    struct Run {
        var nodeChunks: [(lab: Int, batch: TagBatch)] = []
        var truth: PairSourceTruthSegment
        var layout: AnalysisLayout
    }

    /// Simulates `seconds` of the loopback link; `sharedClock` removes lab B's clock error and the fibre length
    /// difference so both labs run on one time axis.
    static func simulate(seconds: Double, sharedClock: Bool) throws -> Run {
        var text = try String(contentsOf: RepositoryConfigs.root.appendingPathComponent("configs/loopback.yaml"), encoding: .utf8)
        if sharedClock {
            text = text.replacingOccurrences(of: "      clock: { offset_ps: 1_500_000, frequency_error_ppm: 0.05 }\n", with: "")
                .replacingOccurrences(of: "length_km: 3,", with: "length_km: 2,")
        }
        let configuration = try LinkConfiguration.parse(text)
        var layout = try #require(ConfigurationMapping.analysisLayout(configuration))
        if sharedClock { layout.clock = .shared(offsetPs: 0) }
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: Int64(seconds * 1e12))
        var simulator = try simulation.makeSimulator()
        let chunks = OfflineEngine.nodeChunks(&simulator)
        let truth = try #require(simulator.groundTruth().pairSourceSegments?.first)
        return Run(nodeChunks: chunks, truth: truth, layout: layout)
    }

    /// The CHSH combination of loopback.yaml's settings (alice 0°/45°, bob 22.5°/67.5°).
    static let chsh = CHSHSettings(a: "0", aPrime: "45", b: "22.5", bPrime: "67.5")

    /// The files path: each lab's whole stream re-cut into chunks of `size` tags in time order (``OfflineEngine``).
    static func asFiles(_ run: Run, size: Int = 65_536) throws -> LinkAnalysisSnapshot {
        var configuration = run.layout.engineConfiguration
        configuration.chsh = chsh
        return try OfflineEngine.run(configuration, nodeChunks: run.nodeChunks, size: size)
    }

    /// The live path: the nodes' chunks in arrival order through the coordinator's ``LiveAnalysis``.
    static func live(_ run: Run) -> LinkAnalysisSnapshot {
        var layout = run.layout
        layout.chsh = chsh
        var analysis = LiveAnalysis(layout: layout)
        for chunk in run.nodeChunks { analysis.add(lab: chunk.lab, batch: chunk.batch) }
        analysis.finish()
        return analysis.snapshot
    }

    static func correlation(_ snapshot: LinkAnalysisSnapshot, _ basis: String) -> Estimate? {
        snapshot.bases.first { $0.basis == basis && $0.countBasis == .raw }?.correlation
    }

    /// Checks `estimate` against `truth` within 3σ.
    static func near(_ estimate: Estimate?, _ truth: Double, _ what: String) {
        guard let estimate else { Issue.record("\(what) missing"); return }
        #expect(abs(estimate.value - truth) <= 3 * estimate.standardError, "\(what) \(estimate) vs truth \(truth)")
    }

    /// Ground truth: E per basis pair (visibility-scaled Born correlators), CHSH S.
    static func checkTruth(_ snapshot: LinkAnalysisSnapshot, _ run: Run) {
        guard case .markers(let mapA) = run.layout.sourceA, case .markers(let mapB) = run.layout.sourceB else {
            Issue.record("loopback.yaml announces bases by markers"); return
        }
        let labelA = Dictionary(uniqueKeysWithValues: mapA.map { (Int($0.key), $0.value) })
        let labelB = Dictionary(uniqueKeysWithValues: mapB.map { (Int($0.key) - Int(mapB.keys.min() ?? 0), $0.value) })
        for truth in run.truth.correlations {
            guard let a = labelA[truth.basisA], let b = labelB[truth.basisB] else { continue }
            near(correlation(snapshot, a + b), truth.correlation, "E_\(a)\(b)")
        }
        if let s = run.truth.chshS { near(snapshot.chsh.map { Estimate(abs($0.value), standardError: $0.standardError) }, s, "S") }
    }

    @Test func sharedClockCountsAgreeExactly() throws {
        let run = try Self.simulate(seconds: 1, sharedClock: true)
        let files = try Self.asFiles(run)
        let live = Self.live(run)
        #expect(files.coincidences > 100_000)
        #expect(files.pairs == live.pairs)
        #expect(files.singles == live.singles)
        #expect(files == live)
        Self.checkTruth(files, run)
    }

    @Test func recoveredClockAgreesWithinThreeSigmaAndWithTheTruth() throws {
        let run = try Self.simulate(seconds: 2, sharedClock: false)
        let files = try Self.asFiles(run)
        let live = Self.live(run)
        #expect(files.clock?.lock == .locked && live.clock?.lock == .locked)
        let car = try #require(files.car), liveCar = try #require(live.car)
        #expect(car.value > 100, "CAR \(car)")
        #expect(abs(car.value - liveCar.value) <= 3 * (car.standardError * car.standardError + liveCar.standardError * liveCar.standardError).squareRoot(),
                "CAR files \(car), live \(liveCar)")
        let counts = Double(files.coincidences), liveCounts = Double(live.coincidences)
        #expect(abs(counts - liveCounts) <= 3 * (counts + liveCounts).squareRoot(), "coincidences files \(counts), live \(liveCounts)")
        for basis in files.bases where basis.countBasis == .raw {
            guard let other = Self.correlation(live, basis.basis) else { Issue.record("live has no E_\(basis.basis)"); continue }
            let sigma = (basis.correlation.standardError * basis.correlation.standardError + other.standardError * other.standardError).squareRoot()
            #expect(abs(basis.correlation.value - other.value) <= 3 * sigma, "E_\(basis.basis) files \(basis.correlation), live \(other)")
        }
        Self.checkTruth(files, run)
        // Offset and drift: lab B 1.5 µs late plus 1 km more fibre; 0.05 ppm fast.
        let drift = try #require(files.clock?.driftPpm)
        #expect(abs(drift.value - 0.05) <= 3 * drift.standardError + 0.001, "drift \(drift)")
    }
}
