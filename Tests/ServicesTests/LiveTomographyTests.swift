import Correlation
import Foundation
import LinkModel
import Services
import Simulation
import Testing

/// Issue 16, live: the coordinator's analysis reconstructs the two-qubit state every window once all nine Z/X/Y
/// setting pairs have counts, with the same engine as `qlink correlate --tomography`.
@Suite("Live tomography on configs/tomography.yaml", .serialized)
struct LiveTomographyTests {
    @Test("A running coordinator fed by two simulated nodes publishes the tomography; it agrees with the offline reconstruction of the same streams within σ, and with the simulator's state")
    func liveAgainstOffline() async throws {
        let configuration = try LinkConfiguration.load(from: RepositoryConfigs.root.appendingPathComponent("configs/tomography.yaml").path)
        let durationPs: Int64 = 300_000_000_000
        let state = try await EndToEndTests.run(configuration, durationPs: durationPs, check: { _, _, _ in }, adjust: { live in
            live.analysisQueueBatches = 1 << 30
        })
        let live = try #require(state.analysis)
        let liveTomography = try #require(live.tomography?.first, "the live snapshot has no tomography")
        #expect(liveTomography.heraldedState == nil)
        #expect(liveTomography.result.settings.count == 9)
        #expect(liveTomography.result.raw.bootstrapReplicates + liveTomography.result.raw.bootstrapFailures == LiveAnalysis.tomographyBootstrapReplicates)
        let liveSubtracted = try #require(liveTomography.result.accidentalSubtracted)

        // Offline: the same simulated streams in file-sized chunks through the engine, then the reconstruction
        // `qlink correlate --tomography` makes (200 bootstrap replicates).
        let settings = try SimulatedTestLink.coordinatorSettings(configuration, directory: "/")
        let layout = try #require(settings.analysis)
        var simulator = try SimulatedTestLink.simulation(configuration, durationPs: durationPs).makeSimulator()
        let engine = try OfflineEngine.engine(layout.engineConfiguration, nodeChunks: OfflineEngine.nodeChunks(&simulator))
        let offline = try TwoQubitTomography.reconstruct(settings: engine.settingCounts(), detectors: .two, target: layout.target,
                                                         bootstrapReplicates: 200)
        let truth = try #require(simulator.groundTruth().pairSourceSegments?.first)

        let quantities: [(String, KeyPath<TomographyQuantities, Double>)] = [
            ("F", \.fidelityToTarget), ("F max. entangled", \.fidelityMaxEntangled), ("purity", \.purity),
            ("concurrence", \.concurrence), ("negativity", \.negativity), ("CHSH max", \.chshMax),
        ]
        for (live, offline) in [(liveTomography.result.raw, offline.raw), (liveSubtracted, try #require(offline.accidentalSubtracted))] {
            for (name, key) in quantities {
                let a = live.estimate(key), b = offline.estimate(key)
                // The same streams: the two differ only where the live clock recovery placed a coincidence differently,
                // far less than one σ; 3σ of the offline bootstrap is the bound.
                #expect(abs(a.value - b.value) <= 3 * b.standardError, "\(live.countBasis) \(name): live \(a), offline \(b)")
                #expect(a.standardError > 0, "\(live.countBasis) \(name): live σ \(a.standardError)")
            }
        }
        // Against the simulator: accidental-subtracted fidelity to the target within 3σ of the true ⟨Φ+|ρ|Φ+⟩
        // (plus 0.01 for the maximum likelihood's bias at these counts and the dead time the truth omits).
        let f = liveSubtracted.estimate(\.fidelityToTarget)
        #expect(abs(f.value - truth.fidelity) <= 3 * f.standardError + 0.01, "live F \(f), truth \(truth.fidelity)")
    }
}
