import Correlation
import Foundation
import LinkModel
import Services
import Simulation
import Testing
import TimeTags

/// The README's own link (`configs/loopback.yaml`: 1 MHz of pairs, lab B 1.5 µs late and 0.05 ppm fast, i.e. its
/// offset moves 50 ns per second) fed to the coordinator's live analysis in the nodes' chunks, in the order the
/// coordinator receives them.
///
/// Cause of the old failure (CAR ≈ 1, a clock-residual alert), measured on the old code (CAR 17.7 over 2 s, the
/// offset and drift themselves right: 6.397 µs, 0.04999 ppm): the old live analysis mapped lab B onto lab A with
/// one constant offset, updated once per tracking span (1 s of link time), and never applied the drift between
/// updates. At 0.05 ppm the offset moves 50 ns per second, so 20 ms after each update lab B's events were more
/// than the ±1 ns window away from their partners: coincidences fell to the accidental level for the rest of
/// the span, and each update's offset jumped by the drift of a whole span (the clock-residual alert).
/// Offline `correlate` mapped B through the tracked offset *and drift* (interpolated per event). The unified
/// engine maps every lab B event through the clock track at its own time and holds events until that mapping
/// is final, so there is one clock path for files and live links.
@Suite("Live analysis on configs/loopback.yaml")
struct LoopbackLockTests {
    @Test func liveAnalysisKeepsLockOnTheLoopbackLink() throws {
        let configuration = try LinkConfiguration.load(from: RepositoryConfigs.root.appendingPathComponent("configs/loopback.yaml").path)
        let layout = try #require(ConfigurationMapping.analysisLayout(configuration))
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: 2_000_000_000_000)
        var simulator = try simulation.makeSimulator()
        var analysis = LiveAnalysis(layout: layout)
        while let step = simulator.next() {
            if let a = step.chunk(.labA)?.batch { analysis.add(lab: 0, batch: a) }
            if let b = step.chunk(.labB)?.batch { analysis.add(lab: 1, batch: b) }
        }
        let snapshot = analysis.snapshot
        let car = try #require(snapshot.car)
        #expect(car.value > 100, "CAR \(car): coincidences \(snapshot.coincidences), accidentals \(String(describing: snapshot.accidentals))")
        #expect(snapshot.clock?.lock == .locked)
        let offset = try #require(snapshot.clock?.offsetPs?.value)
        // Truth: lab B's clock 1.5 µs late plus its 1 km of extra fibre (4.9 µs) plus 0.05 ppm of the link time (≤ 100 ns).
        #expect(abs(Double(offset) - 6_400_000) < 150_000, "offset \(offset)")
    }
}
