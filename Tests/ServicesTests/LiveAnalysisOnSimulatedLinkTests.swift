import Correlation
import Services
import Simulation
import Testing
import TimeTags

/// The coordinator's live analysis on the simulated pair-source test link: clock offset, the Z/X fidelity
/// bound and a drifting clock against the simulator's ground truth.
@Suite("Live analysis of a simulated link")
struct LiveAnalysisOnSimulatedLinkTests {
    /// Feeds `durationPs` of the simulated link into a live analysis. - Returns: the analysis and the truth.
    static func analyse(seed: UInt64, frequencyErrorPpm: Double = 0, pairsPerPulse: Double = 0.02, durationPs: Int64) throws -> (LiveAnalysis, PairSourceTruthSegment) {
        let configuration = try SimulatedTestLink.configuration(
            SimulatedTestLink.pairSourceSections(seed: seed, frequencyErrorPpm: frequencyErrorPpm, pairsPerPulse: pairsPerPulse))
        let layout = try #require(ConfigurationMapping.analysisLayout(configuration))
        var analysis = LiveAnalysis(layout: layout)
        var simulator = try SimulatedTestLink.simulation(configuration, durationPs: durationPs).makeSimulator()
        while let step = simulator.next() {
            if let a = step.chunk(.labA)?.batch { analysis.add(lab: 0, batch: a) }
            if let b = step.chunk(.labB)?.batch { analysis.add(lab: 1, batch: b) }
        }
        return (analysis, try #require(simulator.groundTruth().pairSourceSegments?.first))
    }

    @Test func recoversOffsetAndFidelity() throws {
        let (analysis, truth) = try Self.analyse(seed: 11, durationPs: 1_000_000_000_000)
        let snapshot = analysis.snapshot
        let offset = try #require(snapshot.clock?.offsetPs)
        #expect(abs(offset.value - Double(SimulatedTestLink.labBClockOffsetPs)) < 3 * offset.standardError + 5, "offset \(offset)")
        let fidelity = try #require(snapshot.fidelityLowerBound)
        #expect(abs(fidelity.value - truth.visibility) < 4 * fidelity.standardError + 0.005, "\(fidelity) vs V \(truth.visibility)")
        #expect(snapshot.lateEvents == 0 && snapshot.coincidences > 10_000)
    }

    @Test func tracksADriftingClock() throws {
        // Lab B's clock runs 0.0001 ppm fast: its offset grows by 100 ps per second of link time.
        let ppm = 0.0001
        let (analysis, _) = try Self.analyse(seed: 12, frequencyErrorPpm: ppm, pairsPerPulse: 0.005, durationPs: 6_000_000_000_000)
        let clock = try #require(analysis.snapshot.clock)
        #expect(clock.measurements >= 4, "measurements \(clock.measurements)")
        let offset = try #require(clock.offsetPs), at = try #require(clock.atPs)
        #expect(at > 4_000_000_000_000)
        // The offset followed the drift (400+ ps since the start) within 3σ.
        let truth = Double(SimulatedTestLink.labBClockOffsetPs) + Double(at) * ppm * 1e-6
        #expect(abs(offset.value - truth) < 3 * offset.standardError + 5, "offset \(offset) vs \(truth) at \(at)")
        let drift = try #require(clock.driftPpm)
        #expect(abs(drift.value - ppm) < 3 * drift.standardError + 0.00005, "drift \(drift) ppm")
    }
}
