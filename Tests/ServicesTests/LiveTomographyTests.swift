import Correlation
import Foundation
import LinkModel
import Services
import Simulation
import Testing
import TimeTags

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

/// Issue 16, live, the rest: heralded links per herald state, unequal detector efficiencies, failures flagged.
@Suite("Live tomography: heralded links, detector efficiencies, failures")
struct LiveTomographyCasesTests {
    /// configs/demo.yaml (heralded, single click) with both labs on the tomographic setting sequence (Z, X, Y at
    /// random every 1 ms, announced by markers), so every herald state's readouts cover all nine setting pairs.
    static func heraldedTomography() throws -> LinkConfiguration {
        let text = try String(contentsOfFile: RepositoryConfigs.heraldedDemo, encoding: .utf8)
        var edited = text
        for base in [0, 10] {
            edited = edited.replacingOccurrences(of: "bases: { settings: [z, x, y], period_ps: 1_000_000_000, order: cyclic, markers: true, marker_base: \(base) }",
                                                 with: "bases: { tomography: true, period_ps: 1_000_000_000, marker_base: \(base) }")
        }
        #expect(edited.components(separatedBy: "tomography: true").count == 3)
        return try LinkConfiguration.parse(edited)
    }

    @Test("Heralded link: the live analysis reconstructs ψ⁺ and ψ⁻ separately, equal to the offline reconstruction of the same streams and within 3σ of the simulator's heralded states")
    func heraldedPerState() throws {
        let configuration = try Self.heraldedTomography()
        let layout = try #require(ConfigurationMapping.analysisLayout(configuration))
        #expect(layout.heralded)
        let heraldSettings = try #require(try ConfigurationMapping.heralds(configuration))
        var simulator = try ConfiguredSimulation(configuration: configuration, durationPs: 8_000_000_000_000, seed: 16).makeSimulator()
        let chunks = OfflineEngine.nodeChunks(&simulator)
        let truth = try #require(simulator.groundTruth().heraldedSegments?.first)

        // Live: the chunks as the coordinator receives them, heralds decided from lab A's stream.
        var decider = HeraldDecider(repetitionPeriodPs: heraldSettings.repetitionPeriodPs, windowStartPs: heraldSettings.windowStartPs,
                                    windowEndPs: heraldSettings.windowEndPs, stationChannels: heraldSettings.stationChannels,
                                    heraldProtocol: heraldSettings.heraldProtocol)
        var live = LiveAnalysis(layout: layout)
        for chunk in chunks {
            if chunk.lab == heraldSettings.stationLab {
                live.addHeralds(decider.process(chunk.batch), coveredThroughPs: chunk.batch.timesPs.last)
            }
            live.add(lab: chunk.lab, batch: chunk.batch)
        }
        let snapshot = live.snapshot
        #expect(snapshot.tomographyFailures == nil)
        let liveTomography = try #require(snapshot.tomography)
        #expect(liveTomography.map(\.heraldedState) == [.psiPlus, .psiMinus])

        // Offline: the same streams in file-sized chunks, reconstructed as `qlink correlate --tomography` does (200 replicates).
        let engine = try OfflineEngine.engine(layout.engineConfiguration, nodeChunks: chunks,
                                              heralds: OfflineEngine.heralds(chunks, settings: heraldSettings))
        let detectors = try TomographyDetectors(roles: layout.roles)
        let offline = try LinkTomography.countSets(settings: engine.settingCounts(), heralded: engine.heraldedSettingCounts(), target: layout.target)
            .map { try LinkTomography.reconstruct($0, detectors: detectors, bootstrapReplicates: 200) }
        #expect(offline.map(\.heraldedState) == [.psiPlus, .psiMinus])
        for (l, o) in zip(liveTomography, offline) {
            let state = try #require(o.heraldedState)
            #expect(l.heraldedState == state && l.result.target == state && l.result.settings.count == 9)
            // Lab B's clock is recovered (not declared shared), so how the streams are cut decides when it locks and
            // which early heralds find their readouts: the counts agree within Poisson errors, not exactly.
            let liveCounts = l.result.raw.totalCounts, offlineCounts = o.result.raw.totalCounts
            #expect(abs(liveCounts - offlineCounts) <= 3 * (liveCounts + offlineCounts).squareRoot(),
                    "\(state): live \(liveCounts), offline \(offlineCounts) counts")
            let liveF = l.result.raw.estimate(\.fidelityToTarget), f = o.result.raw.estimate(\.fidelityToTarget)
            #expect(abs(liveF.value - f.value) <= 3 * f.standardError && liveF.standardError > 0, "\(state): live \(liveF), offline \(f)")
            // Against the simulator's heralded state (readout fidelity 1: the recorded state is the heralded one).
            let trueState = state == .psiPlus ? truth.statePsiPlus : truth.statePsiMinus
            let trueF = state == .psiPlus ? truth.fidelityPsiPlus : truth.fidelityPsiMinus
            #expect(f.standardError > 0 && abs(f.value - trueF) <= 3 * f.standardError, "\(state): F \(f), truth \(trueF)")
            let spread = try #require(o.result.raw.reconstructionError?.traceDistance)
            let distance = o.result.raw.rho.traceDistance(to: trueState)
            #expect(distance <= spread.mean + 3 * spread.standardDeviation, "\(state): T to the truth \(distance), bootstrap \(spread)")
        }
    }

    /// Removes each `channel`'s tags with probability 1 − keep (a less efficient detector), seeded.
    static func thinned(_ chunks: [(lab: Int, batch: TagBatch)], keep: [Int: [TagChannel: Double]]) -> [(lab: Int, batch: TagBatch)] {
        var rng = SeededGenerator(seed: 1_602)
        return chunks.map { chunk in
            var batch = TagBatch(timesPs: [], channels: [], markers: chunk.batch.markers)
            for (time, channel) in zip(chunk.batch.timesPs, chunk.batch.channels) {
                if let p = keep[chunk.lab]?[channel], rng.nextUnit() >= p { continue }
                batch.timesPs.append(time); batch.channels.append(channel)
            }
            return (chunk.lab, batch)
        }
    }

    /// The live analysis of `chunks` with `layout`.
    static func analyse(_ chunks: [(lab: Int, batch: TagBatch)], _ layout: AnalysisLayout) -> LinkAnalysisSnapshot {
        var live = LiveAnalysis(layout: layout)
        for chunk in chunks { live.add(lab: chunk.lab, batch: chunk.batch) }
        live.finish()
        return live.snapshot
    }

    @Test("Unequal detector efficiencies: the configured efficiencies' ratios recover the true state within 3σ; assuming equal efficiencies is biased beyond 3σ; an unusable efficiency is a flagged failure in the snapshot and its rows")
    func unequalEfficiencies() throws {
        let path = RepositoryConfigs.root.appendingPathComponent("configs/tomography.yaml").path
        let configuration = try LinkConfiguration.load(from: path)
        var simulator = try SimulatedTestLink.simulation(configuration, durationPs: 300_000_000_000).makeSimulator()
        // Lab A's − detector (channel 2) at 60 % and lab B's (channel 4) at 75 % of their + detectors' efficiency.
        let chunks = Self.thinned(OfflineEngine.nodeChunks(&simulator), keep: [0: [2: 0.6], 1: [4: 0.75]])
        let truth = try #require(simulator.groundTruth().pairSourceSegments?.first)
        // The configuration says so: the − detectors' efficiencies 0.51 and 0.6375 against 0.85.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let edited = text
            .replacingOccurrences(of: "{ channel: 2, name: minus, delay_ps: 0, efficiency: 0.85", with: "{ channel: 2, name: minus, delay_ps: 0, efficiency: 0.51")
            .replacingOccurrences(of: "{ channel: 4, name: minus, delay_ps: 0, efficiency: 0.85", with: "{ channel: 4, name: minus, delay_ps: 0, efficiency: 0.6375")
        let layout = try #require(ConfigurationMapping.analysisLayout(try LinkConfiguration.parse(edited, file: path)))
        let detectors = try TomographyDetectors(roles: layout.roles)
        #expect(detectors.perQubit == 2 && abs(detectors.efficiencyRatioA - 0.6) < 1e-12 && abs(detectors.efficiencyRatioB - 0.75) < 1e-12)

        let correctedSnapshot = Self.analyse(chunks, layout)
        let corrected = try #require(correctedSnapshot.tomography?.first, "failures: \(correctedSnapshot.tomographyFailures ?? [])")
        #expect(corrected.result.detectors == detectors)
        var equalLayout = layout
        equalLayout.roles = layout.roles.map { role in
            var role = role
            role.efficiency = 1
            return role
        }
        let equal = try #require(Self.analyse(chunks, equalLayout).tomography?.first)
        // Within 3σ of the truth (plus 0.01 for the maximum likelihood's bias and the dead time the truth omits, as in
        // the test above); assuming equal efficiencies misses F by more than 3σ (0.013, 3.5σ) and puts the state
        // farther from the truth in trace distance (a spurious local polarisation).
        let correctedEstimate = try #require(corrected.result.accidentalSubtracted), equalEstimate = try #require(equal.result.accidentalSubtracted)
        let f = correctedEstimate.estimate(\.fidelityToTarget), fEqual = equalEstimate.estimate(\.fidelityToTarget)
        #expect(abs(f.value - truth.fidelity) <= 3 * f.standardError + 0.01, "configured ratios: F \(f), truth \(truth.fidelity)")
        #expect(abs(fEqual.value - truth.fidelity) > 3 * fEqual.standardError, "equal efficiencies: F \(fEqual), truth \(truth.fidelity)")
        let distance = correctedEstimate.rho.traceDistance(to: truth.state), distanceEqual = equalEstimate.rho.traceDistance(to: truth.state)
        #expect(distanceEqual > 2 * distance, "trace distance to the truth: configured ratios \(distance), equal efficiencies \(distanceEqual)")

        // A − detector configured with efficiency 0 cannot be corrected for: flagged with the reason, no tomography.
        var broken = layout
        broken.roles = layout.roles.map { role in
            var role = role
            if role.side == .a && role.outcome == .minus { role.efficiency = 0 }
            return role
        }
        let failed = Self.analyse(chunks, broken)
        #expect(failed.tomography == nil)
        let failure = try #require(failed.tomographyFailures?.first)
        #expect(failure.heraldedState == nil && failure.reason.contains("efficiency ratios must be positive"), "\(failure.reason)")
        #expect(LinkAnalysisFormat.rows(failed).contains { $0.label == "Tomography (all coincidences)" && $0.value.hasPrefix("FAILED: ") })
        let json = String(decoding: try JSONEncoder().encode(failed), as: UTF8.self)
        #expect(json.contains("\"tomographyFailures\""))
    }
}
