import Correlation
import Foundation
import LinkModel
import Protocol
import Services
import Simulation
import Testing
import TimeTags

/// The coordinator's live analysis fed by the link simulator from `configs/demo-pair-source.yaml`: two detectors per lab
/// whose basis switches at random, announced by markers that travel with the tag batches.
@Suite("Live analysis of the simulated demo link")
struct SimulatedLiveAnalysisTests {
    static let demoPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("configs/demo-pair-source.yaml").path

    @Test func layoutFollowsTheSimulatedBasisMarkers() throws {
        let configuration = try LinkConfiguration.load(from: Self.demoPath)
        let layout = try #require(ConfigurationMapping.analysisLayout(configuration))
        #expect(layout.channelsA == [1, 2])
        #expect(layout.channelsB == [11, 12])
        #expect(layout.sourceA == .markers([0: "Z", 1: "X"]))
        #expect(layout.sourceB == .markers([10: "Z", 11: "X"]))
        #expect(layout.target == .psiMinus)
        // A pair source has nothing to herald.
        #expect(try ConfigurationMapping.heralds(configuration) == nil)
    }

    @Test func correlationBasesOverrideTheSimulation() throws {
        let configuration = try LinkConfiguration.parse(try String(contentsOfFile: Self.demoPath, encoding: .utf8) + """

        correlation:
          target_state: phi_plus
          bases:
            - { lab: alice, markers: [{ marker: 0, basis: X }, { marker: 1, basis: Z }] }
            - { lab: bob, basis: Z }
        """)
        let layout = try #require(ConfigurationMapping.analysisLayout(configuration))
        #expect(layout.sourceA == .markers([0: "X", 1: "Z"]))
        #expect(layout.sourceB == .fixed("Z"))
        #expect(layout.target == .phiPlus)
    }

    @Test func markersTravelInTheTagPayload() throws {
        let batch = TagBatch(timesPs: [5, 9], channels: [1, 2], markers: [MarkerEvent(timePs: 3, marker: 10), MarkerEvent(timePs: 7, marker: 11)])
        let bytes = TagPayload.encode(batch)
        let decoded = try bytes.withUnsafeBytes { try TagPayload.decode($0, expectedCount: 2) }
        #expect(decoded == batch)
        #expect(throws: ProtocolError.self) { try bytes.withUnsafeBytes { try TagPayload.decode($0, expectedCount: 5) } }
    }

    @Test func recoversOffsetAndTheZXBoundOfTheSimulatedPairs() throws {
        let configuration = try LinkConfiguration.load(from: Self.demoPath)
        let layout = try #require(ConfigurationMapping.analysisLayout(configuration))
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: 1_000_000_000_000, seed: 5)
        var simulator = try simulation.makeSimulator()
        var analysis = LiveAnalysis(layout: layout)
        func wire(_ batch: TagBatch) throws -> TagBatch {
            let bytes = TagPayload.encode(batch)
            return try bytes.withUnsafeBytes { try TagPayload.decode($0, expectedCount: batch.count) }
        }
        while let step = simulator.next() {
            if let a = step.chunk(.labA)?.batch { analysis.add(lab: 0, batch: try wire(a)) }
            if let b = step.chunk(.labB)?.batch { analysis.add(lab: 1, batch: try wire(b)) }
        }
        analysis.finish()
        let truth = try #require(simulator.groundTruth().pairSourceSegments?.first)
        let snapshot = analysis.snapshot
        let offset = try #require(snapshot.clock?.offsetPs)
        #expect(snapshot.clock?.lock == .locked)
        #expect(abs(offset.value - 1_500_000) < 3 * offset.standardError + 5, "offset \(offset)")
        let z = try #require(snapshot.bases.first { $0.basis == "ZZ" && $0.countBasis == .raw }?.correlation)
        let x = try #require(snapshot.bases.first { $0.basis == "XX" && $0.countBasis == .raw }?.correlation)
        #expect(abs(z.value + truth.visibility) < 4 * z.standardError + 0.01, "E_z \(z)")
        #expect(abs(x.value + truth.visibility) < 4 * x.standardError + 0.01, "E_x \(x)")
        let bound = try #require(snapshot.fidelityLowerBound)
        #expect(snapshot.fidelity == nil)
        #expect(abs(bound.value - truth.visibility) < 4 * bound.standardError + 0.01, "bound \(bound) vs V \(truth.visibility)")
        // Every A × B outcome pair is counted: the total is the true coincidence rate over the whole run.
        let expected = truth.coincidenceRateHz * 1.0
        #expect(Double(snapshot.coincidences) > 0.8 * expected && Double(snapshot.coincidences) < 1.05 * expected,
                "coincidences \(snapshot.coincidences) vs \(expected)")
    }
}

/// Herald settings taken from a configured heralded link: the coordinator's decisions on the simulated
/// station stream agree with the simulator's own heralds (its herald markers).
@Suite("Herald settings from the configured link")
struct ConfiguredHeraldTests {
    static let heraldedModel = """
    model:
      protocol: { kind: single_click, alpha: 0.2 }
      clock: { repetition_rate_hz: 1_000_000 }
      midpoint:
        visibility: 0.9
        detectors: { efficiency: 0.8, dark_count_rate_hz: 1000, window_ps: 20_000, dead_time_ps: 0 }
      arms:
        - name: alice
          stages:
            - { kind: emitter, collection_efficiency: 0.5 }
            - { kind: fibre, length_km: 1, loss_db_per_km: 0.5 }
        - name: bob
          stages:
            - { kind: emitter, collection_efficiency: 0.5 }
            - { kind: fibre, length_km: 1, loss_db_per_km: 0.5 }
    simulation:
      seed: 3
    """

    func configuration(_ model: String) throws -> LinkConfiguration {
        let text = try String(contentsOfFile: SimulatedLiveAnalysisTests.demoPath, encoding: .utf8)
        let labs = text.range(of: "\nmodel:").map { String(text[..<$0.lowerBound]) } ?? text
        return try LinkConfiguration.parse(labs + "\n" + model)
    }

    @Test func singleClickHeraldsMatchTheSimulatedStation() throws {
        let configuration = try configuration(Self.heraldedModel)
        let settings = try #require(try ConfigurationMapping.heralds(configuration))
        #expect(settings.repetitionPeriodPs == 1_000_000)
        #expect(settings.heraldProtocol == .singleClick)
        #expect(settings.stationLab == 0)
        var decider = HeraldDecider(repetitionPeriodPs: settings.repetitionPeriodPs, windowStartPs: settings.windowStartPs,
                                    windowEndPs: settings.windowEndPs, stationChannels: settings.stationChannels,
                                    heraldProtocol: settings.heraldProtocol)
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: 100_000_000_000)
        var simulator = try simulation.makeSimulator()
        var decided: [Herald] = []
        var truth: [Int32: Int] = [:]
        while let step = simulator.next() {
            guard let station = step.chunk(.station)?.batch else { continue }
            decided += decider.process(station)
            for marker in station.markers { truth[marker.marker, default: 0] += 1 }
        }
        let plus = decided.filter { $0.outcome == .psiPlus }.count, minus = decided.filter { $0.outcome == .psiMinus }.count
        let truePlus = truth[1] ?? 0, trueMinus = truth[2] ?? 0
        #expect(truePlus + trueMinus > 1_000, "simulated heralds \(truePlus) + \(trueMinus)")
        // Clicks pushed out of the acceptance window by detector jitter may differ; nothing else.
        #expect(abs(plus - truePlus) <= max(3, truePlus / 100), "ψ+ decided \(plus), simulated \(truePlus)")
        #expect(abs(minus - trueMinus) <= max(3, trueMinus / 100), "ψ− decided \(minus), simulated \(trueMinus)")
    }

    @Test func barrettKokGetsItsSecondWindow() throws {
        let model = Self.heraldedModel.replacingOccurrences(of: "kind: single_click, alpha: 0.2", with: "kind: double_click")
        let settings = try #require(try ConfigurationMapping.heralds(try configuration(model)))
        #expect(settings.heraldProtocol == .barrettKok(secondWindowStartPs: 500_000, secondWindowEndPs: 520_000))
    }
}
