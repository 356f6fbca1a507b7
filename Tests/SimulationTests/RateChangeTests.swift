import Foundation
import LinkModel
import Simulation
import Testing
import TimeTags

/// Changing the repetition rate of a running simulation: time stays continuous, the new rate is measured in
/// the streams from the change on, and the output is deterministic for a seed and a schedule of changes.
@Suite("Repetition-rate changes of a running simulation")
struct RateChangeTests {
    static func model(_ protocolYAML: String, rateHz: Double, noisePerHz: Double = 0) throws -> LinkDescription {
        let heralded = """
        midpoint:
          visibility: 0.9
          detectors: { efficiency: 0.8, dark_count_rate_hz: 100, window_ps: 2_000 }
        arms:
          - name: a
            stages:
              - { kind: emitter, collection_efficiency: 0.5 }
              - { kind: transducer, efficiency: 0.8, noise_photons_per_attempt_per_hz: \(noisePerHz) }
              - { kind: fibre, length_km: 2, loss_db_per_km: 0.3 }
          - name: b
            stages:
              - { kind: emitter, collection_efficiency: 0.5 }
              - { kind: fibre, length_km: 2, loss_db_per_km: 0.3 }
        """
        let pairSource = """
        midpoint:
          source: { pair_fidelity: 0.95 }
        arms:
          - name: a
            stages:
              - { kind: fibre, length_km: 2, loss_db_per_km: 0.3 }
              - { kind: detectors, efficiency: 0.6, dark_count_rate_hz: 100, window_ps: 1_000 }
          - name: b
            stages:
              - { kind: fibre, length_km: 2, loss_db_per_km: 0.3 }
              - { kind: detectors, efficiency: 0.6, dark_count_rate_hz: 100, window_ps: 1_000 }
        """
        return try StrictYAMLDecoder().decode(LinkDescription.self, from: """
        protocol: \(protocolYAML)
        clock: { repetition_rate_hz: \(rateHz) }
        \(protocolYAML.contains("pair_source") ? pairSource : heralded)
        """)
    }

    /// All steps of a run with `changes`, and its truth.
    static func run(_ configured: ConfiguredSimulation, changes: [RepetitionRateChange]) throws -> ([SimulationStep], GroundTruth) {
        var simulator = try configured.makeSimulator(rateChanges: changes)
        var steps: [SimulationStep] = []
        while let step = simulator.next() { steps.append(step) }
        return (steps, simulator.groundTruth())
    }

    @Test func heraldedAttemptGridFollowsTheNewRateFromTheChange() throws {
        let model = try Self.model("{ kind: single_click, alpha: 0.1 }", rateHz: 1e6)
        let durationPs: Int64 = 40_000_000_000
        let configured = try ConfiguredSimulation(linkName: "rate", model: model, durationPs: durationPs, seed: 3)
        // Asked for 20.0005 ms: the change waits for the next attempt of the 1 µs grid.
        let change = RepetitionRateChange(fromPs: 20_000_500_000, rateHz: 2.5e6)
        let (steps, truth) = try Self.run(configured, changes: [change])
        let effective: Int64 = 20_001_000_000
        #expect(steps.contains { $0.startPs == effective }, "a window starts at the change")
        var station: [Int64] = []
        for step in steps { station += step.chunk(.station)?.batch.timesPs ?? [] }
        #expect(zip(station, station.dropFirst()).allSatisfy { $0.0 <= $0.1 }, "time stays continuous")
        let before = station.filter { $0 < effective }, after = station.filter { $0 >= effective }
        #expect(before.allSatisfy { $0 % 1_000_000 == 0 })
        #expect(after.allSatisfy { ($0 - effective) % 400_000 == 0 })
        #expect(after.contains { ($0 - effective) % 1_000_000 != 0 }, "clicks between the old grid's attempts")
        // Clicks per second follow the truth of each segment (the click probability per attempt is the same).
        let segments = try #require(truth.heraldedSegments)
        #expect(segments.count == 2 && segments[1].startPs == effective)
        #expect(abs(segments[1].heraldRateHz / segments[0].heraldRateHz - 2.5) < 1e-9)
        let markers = steps.flatMap { $0.chunk(.station)?.batch.markers ?? [] }
        for segment in segments {
            let count = Double(markers.filter { $0.timePs >= segment.startPs && $0.timePs < segment.endPs }.count)
            let expected = segment.heraldRateHz * Double(segment.endPs - segment.startPs) * 1e-12
            #expect(abs(count - expected) < 4 * expected.squareRoot(), "heralds \(count), truth \(expected)")
        }
    }

    @Test func pairSourcePulseRateChangeAndDeterminism() throws {
        let model = try Self.model("{ kind: pair_source, mean_pairs_per_attempt: 0.01 }", rateHz: 1e7)
        let durationPs: Int64 = 200_000_000_000
        let configured = try ConfiguredSimulation(linkName: "rate", model: model, durationPs: durationPs, seed: 5)
        let changes = [RepetitionRateChange(fromPs: 100_000_000_000, rateHz: 3e7)]
        let (steps, truth) = try Self.run(configured, changes: changes)
        let (again, _) = try Self.run(configured, changes: changes)
        let same = steps == again, differs = try Self.run(configured, changes: []).0 != steps
        #expect(same, "same seed and schedule, same output")
        #expect(differs, "another schedule, other output")
        let segments = try #require(truth.pairSourceSegments)
        #expect(segments.count == 2)
        var a: [Int64] = []
        for step in steps { a += step.chunk(.labA)?.batch.timesPs ?? [] }
        #expect(zip(a, a.dropFirst()).allSatisfy { $0.0 <= $0.1 })
        for segment in segments {
            let count = Double(a.filter { $0 >= segment.startPs && $0 < segment.endPs }.count)
            let expected = segment.singlesRateAHz * Double(segment.endPs - segment.startPs) * 1e-12
            #expect(abs(count - expected) < 4 * expected.squareRoot(), "lab A singles \(count), truth \(expected)")
        }
        #expect(abs(segments[1].coincidenceRateHz / segments[0].coincidenceRateHz - 3) < 1e-9)
    }

    @Test func noiseFollowsTheRate() throws {
        // Transducer noise k·f: at three times the rate three times the noise photons per attempt.
        let model = try Self.model("{ kind: single_click, alpha: 0.1 }", rateHz: 1e6, noisePerHz: 1e-9)
        let configured = try ConfiguredSimulation(linkName: "rate", model: model, durationPs: 1_000_000_000, seed: 1)
        guard case .heraldedLink(let slow) = configured.scenario,
              case .heraldedLink(let fast) = try configured.scenario(repetitionRateHz: 3e6) else {
            Issue.record("not a heralded link"); return
        }
        // The noise arises before the fibre (transmission 10^−0.06) and reaches the station attenuated.
        let fibre = pow(10, -0.06)
        #expect(abs(slow.nodeA.noisePhotonsPerAttempt - 1e-3 * fibre) < 1e-12)
        #expect(abs(fast.nodeA.noisePhotonsPerAttempt - 3e-3 * fibre) < 1e-12)
        #expect(fast.nodeB.noisePhotonsPerAttempt == 0)
        #expect(fast.attemptPeriodPs == 333_333)
    }

    @Test func changesThatCannotBeHonouredAreRefused() throws {
        let model = try Self.model("{ kind: double_click }", rateHz: 1e6)
        let configured = try ConfiguredSimulation(linkName: "rate", model: model, durationPs: 10_000_000_000, seed: 1)
        var simulator = try configured.makeSimulator()
        _ = simulator.next()
        let generated = simulator.generatedThroughPs
        #expect(generated > 0)
        // Already generated.
        #expect(throws: SimulationError.self) {
            try configured.changeRepetitionRate(RepetitionRateChange(fromPs: generated - 1, rateHz: 2e6), in: &simulator)
        }
        // A rate whose rounds no longer fit the attempt period (the 2 ns window twice in 1 ns).
        #expect(throws: SimulationError.self) {
            try configured.changeRepetitionRate(RepetitionRateChange(fromPs: generated, rateHz: 1e9), in: &simulator)
        }
        #expect(throws: SimulationError.self) { try configured.scenario(repetitionRateHz: -1) }
        // Another link's scenario is not an operating point of this one.
        var other = configured.scenario
        if case .heraldedLink(var s) = other { s.station.channels = OutcomeChannels(plus: 9, minus: 10); other = .heraldedLink(s) }
        #expect(throws: SimulationError.self) { try simulator.changeScenario(to: other, fromPs: generated) }
        // A valid change after the refusals still works, and changes must come in time order.
        let effective = try configured.changeRepetitionRate(RepetitionRateChange(fromPs: generated, rateHz: 2e6), in: &simulator)
        #expect(effective >= generated && effective % 1_000_000 == 0)
        #expect(throws: SimulationError.self) {
            try configured.changeRepetitionRate(RepetitionRateChange(fromPs: effective - 1, rateHz: 1e6), in: &simulator)
        }
    }
}
