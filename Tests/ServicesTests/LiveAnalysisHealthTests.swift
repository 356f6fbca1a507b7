import Correlation
import Foundation
import LinkModel
import Services
import Simulation
import Testing
import TimeTags

/// What the live analysis reports for the alert rules, against the simulator's truth: accidentals (for the
/// coincidences-to-accidentals ratio) and the clock residual after a step of lab B's clock.
@Suite("Live analysis: accidentals and clock residual")
struct LiveAnalysisHealthTests {
    static func run(extra: String, seconds: Double) throws -> (LinkAnalysisSnapshot, GroundTruth, largestResidualPs: Double) {
        let text = try String(contentsOf: RepositoryConfigs.root.appendingPathComponent("configs/demo-pair-source.yaml"), encoding: .utf8)
        let configuration = try LinkConfiguration.parse(text + extra)
        let layout = try #require(ConfigurationMapping.analysisLayout(configuration))
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: Int64(seconds * 1e12), seed: 9)
        var simulator = try simulation.makeSimulator()
        var analysis = LiveAnalysis(layout: layout)
        var largest = 0.0
        while let step = simulator.next() {
            if let a = step.chunk(.labA)?.batch { analysis.add(lab: 0, batch: a) }
            if let b = step.chunk(.labB)?.batch { analysis.add(lab: 1, batch: b) }
            largest = max(largest, abs(analysis.clock?.residualPs ?? 0))
        }
        return (analysis.snapshot, simulator.groundTruth(), largest)
    }

    @Test func accidentalsFollowTheSinglesRates() throws {
        let (snapshot, truth, _) = try Self.run(extra: "", seconds: 1.5)
        let segment = try #require(truth.pairSourceSegments?.first)
        let accidentals = try #require(snapshot.accidentals)
        // Over the analysed span (the run less the track's last block): r_A · r_B · (2w + 1 ps) per second.
        let perSecond = segment.singlesRateAHz * segment.singlesRateBHz * 2_001e-12
        let seconds = Double(snapshot.durationPs) * 1e-12
        #expect(seconds > 1.2)
        #expect(abs(accidentals.value - perSecond * seconds) < 3 * accidentals.standardError + 0.05 * perSecond * seconds,
                "accidentals \(accidentals), \(perSecond) /s over \(seconds) s")
        let car = try #require(snapshot.car)
        #expect(car.value > 100, "CAR \(car)")
    }

    @Test func clockStepShowsAsResidualAndIsFollowed() throws {
        let (snapshot, _, largest) = try Self.run(extra: """
              faults:
                - { at_ps: 1_500_000_000_000, kind: clock_jump, stream: bob, jump_ps: 8_000 }

            """, seconds: 4)
        let offset = try #require(snapshot.clock?.offsetPs?.value)
        #expect((snapshot.clock?.measurements ?? 0) >= 2)
        // The offset follows the step (truth 1 500 000 + 8 000 ps) and the step shows in the residual of an update.
        #expect(abs(offset - 1_508_000) < 200, "offset \(offset)")
        #expect(abs(largest - 8_000) < 500, "largest residual \(largest)")
        let steady = try Self.run(extra: "", seconds: 4)
        #expect(steady.0.clock?.residualPs != nil)
        #expect(steady.largestResidualPs < 100, "largest residual without a step \(steady.largestResidualPs)")
    }
}
