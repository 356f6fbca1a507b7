import Correlation
import Services
import Testing

/// Heralded single-click links at 100 kHz attempts (≈ 3 500 heralds/s) whose lab B runs free: the engine recovers
/// lab B's clock from the readouts of both labs (every readout sits on the attempt grid and carries no jitter) with
/// its defaults, in-process through ``OfflineEngine`` as `qlink correlate` and the coordinator feed it.
@Suite("Heralded links with a free-running lab B: clock recovery with defaults")
struct HeraldedClockRecoveryTests {
    static let links: [(seed: UInt64, offsetPs: Int64, ppm: Double)] = [
        (44, 2_000_000_000, 30), (44, 2_000_000_000, 0), (44, 1_500_000, 30), (44, 1_500_000, 0), (45, -9_000_000_000, -50),
    ]

    @Test(arguments: 0..<links.count)
    func offlineEngineLocks(_ index: Int) throws {
        let link = Self.links[index]
        let configuration = try SimulatedTestLink.configuration(SimulatedTestLink.heraldedSections(
            seed: link.seed, labBClock: "{ offset_ps: \(link.offsetPs), frequency_error_ppm: \(link.ppm) }"))
        let settings = try SimulatedTestLink.coordinatorSettings(configuration, directory: "/")
        var simulator = try SimulatedTestLink.simulation(configuration, durationPs: 10_000_000_000_000).makeSimulator()
        let chunks = OfflineEngine.nodeChunks(&simulator)
        let layout = try #require(settings.analysis)
        let heralds = OfflineEngine.heralds(chunks, settings: try #require(settings.heralds))
        let snapshot = try OfflineEngine.run(layout.engineConfiguration, nodeChunks: chunks, heralds: heralds)
        let clock = try #require(snapshot.clock)
        #expect(clock.lock == .locked, "\(clock)")
        #expect(snapshot.heraldsWithOutcomes > 10_000, "\(snapshot.heraldsWithOutcomes) of \(snapshot.heralded.map(\.heralds))")
        let offset = try #require(clock.offsetPs), at = try #require(clock.atPs), drift = try #require(clock.driftPpm)
        #expect(offset.standardError > 0 && drift.standardError > 0, "offset \(offset), drift \(drift)")
        let trueOffset = Double(link.offsetPs) + Double(at) * link.ppm * 1e-6
        #expect(abs(offset.value - trueOffset) <= 3 * offset.standardError, "offset \(offset) vs \(trueOffset) at \(at)")
        #expect(abs(drift.value - link.ppm) <= 3 * drift.standardError, "drift \(drift) vs \(link.ppm) ppm")
        let truth = try heraldedTruthFidelity(simulator.groundTruth())
        // Z and X readouts: the Z/X lower bound, at most the truth (within 3σ).
        let bound = try #require(snapshot.fidelityLowerBound)
        #expect(bound.value <= truth.fidelity + 3 * bound.standardError, "F ≥ \(bound), truth \(truth.fidelity)")
    }
}
