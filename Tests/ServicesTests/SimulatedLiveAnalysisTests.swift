import Correlation
import Foundation
import LinkModel
import Protocol
import Services
import Simulation
import Testing
import TimeTags

/// The coordinator's live analysis fed by the link simulator from `configs/demo.yaml`: two detectors per lab
/// whose basis switches at random, announced by markers that travel with the tag batches.
@Suite("Live analysis of the simulated demo link")
struct SimulatedLiveAnalysisTests {
    static let demoPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("configs/demo.yaml").path

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
        let truth = try #require(simulator.groundTruth().pairSourceSegments?.first)
        let snapshot = analysis.snapshot
        let offset = try #require(snapshot.clockOffsetPs)
        #expect(abs(offset - 1_500_000) < 500, "offset \(offset)")  // well inside the ±1 ns window
        let z = try #require(snapshot.correlationZ), x = try #require(snapshot.correlationX)
        #expect(abs(z.value + truth.visibility) < 4 * z.standardError + 0.01, "E_z \(z)")
        #expect(abs(x.value + truth.visibility) < 4 * x.standardError + 0.01, "E_x \(x)")
        let bound = try #require(snapshot.fidelity)
        #expect(snapshot.fidelityIsLowerBound)
        #expect(abs(bound.value - truth.visibility) < 4 * bound.standardError + 0.01, "bound \(bound) vs V \(truth.visibility)")
        // Matched and crossed bases are both counted: the total is the true coincidence rate over the analysed span.
        let expected = truth.coincidenceRateHz * 1.0
        #expect(Double(snapshot.coincidences) > 0.8 * expected && Double(snapshot.coincidences) < 1.05 * expected,
                "coincidences \(snapshot.coincidences) vs \(expected)")
    }
}
