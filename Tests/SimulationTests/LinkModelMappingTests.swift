import Foundation
import LinkModel
import Testing
import TimeTags
@testable import Simulation

let simulationProjectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A link configuration around a model and a simulation section (paths are never opened).
func linkYAML(model: String, simulation: String = "") -> String {
    """
    name: mapped
    security: { ca_certificate: ca.crt, certificate_store: certs }
    coordinator:
      name: coordinator
      control_endpoint: tcp://127.0.0.1:0
      publish_endpoint: tcp://127.0.0.1:0
      certificate: c.crt
      private_key: c.key
    labs:
      - name: alice
        node: alice-node
        certificate: a.crt
        private_key: a.key
        detectors:
          - { channel: 1, name: H, efficiency: 0.9, dark_count_rate_hz: 10 }
          - { channel: 2, name: V, efficiency: 0.7, dark_count_rate_hz: 30 }
      - name: bob
        node: bob-node
        certificate: b.crt
        private_key: b.key
        detectors:
          - { channel: 3, name: H }
          - { channel: 4, name: V }
          - { channel: 7, name: spare }
    \(model)
    \(simulation)
    """
}

let heraldedModel = """
model:
  protocol: { kind: single_click, alpha: 0.2 }
  clock: { repetition_rate_hz: 1_000_000, multiplexing_modes: 10, classical_latency_ps: 3_000 }
  midpoint:
    visibility: 0.9
    noise_photons_per_attempt: 0.002
    processing_ps: 1_000
    detectors: { efficiency: 0.8, dark_count_rate_hz: 1000, window_ps: 20_000, dead_time_ps: 0 }
  arms:
    - name: bob
      stages:
        - { kind: emitter, collection_efficiency: 0.5 }
        - { kind: transducer, efficiency: 0.5, noise_photons_per_attempt: 0.01, noise_photons_per_attempt_per_hz: 1.0e-8 }
        - { kind: fibre, length_km: 1, loss_db_per_km: 1 }
        - { kind: memory, coherence_time_ps: 100_000_000 }
    - name: alice
      stages:
        - { kind: emitter, collection_efficiency: 0.4 }
        - { kind: fibre, length_km: 2, loss_db_per_km: 0.5 }
"""

@Suite("Link model → simulator scenarios")
struct LinkModelMappingTests {
    @Test("the shipped loopback example maps onto a pair-source scenario with its stages, detectors, clocks and bases")
    func loopbackExample() throws {
        let path = simulationProjectRoot.appendingPathComponent("configs/loopback.yaml").path
        let configuration = try LinkConfiguration.load(from: path)
        let simulation = try ConfiguredSimulation(configuration: configuration)
        guard case .pairSource(let scenario) = simulation.scenario else {
            Issue.record("expected a pair source"); return
        }
        #expect(abs(scenario.pairRateHz - 1e6) < 1e-6)
        #expect(abs(scenario.visibility - (4 * 0.97 - 1) / 3) < 1e-12)
        #expect(abs(scenario.labA.armTransmission - 0.7 * pow(10, -0.04)) < 1e-12)
        #expect(abs(scenario.labB.armTransmission - 0.7 * pow(10, -0.06)) < 1e-12)
        #expect(scenario.labA.fibreDelayPs == Int64((2000 * 1.468 / 299_792_458.0 * 1e12).rounded()))
        #expect(scenario.labA.detector.efficiency == 0.85)
        #expect(scenario.labA.detector.darkCountRateHz == 100)
        #expect(scenario.labA.detector.deadTimePs == 22_000)
        #expect(scenario.labA.detector.jitterSigmaPs == 40)
        #expect(scenario.labA.channels == OutcomeChannels(plus: 1, minus: 2))
        #expect(scenario.labB.channels == OutcomeChannels(plus: 3, minus: 4))
        #expect(scenario.labB.clock.offsetPs == 1_500_000)
        #expect(scenario.labA.bases.bases == [.linear(analyserAngleDeg: 0), .linear(analyserAngleDeg: 45)])
        #expect(scenario.labB.bases.order == .random && scenario.labB.bases.markerBase == 10)
        #expect(simulation.options.seed == 7 && simulation.options.durationPs == 1_000_000_000_000)
        #expect(simulation.streams.map(\.name) == ["alice", "bob"])
        #expect(simulation.stream(.labB)?.channelNames == [3: "H", 4: "V"])
    }

    @Test("a heralded model maps arms by name: efficiencies, rate-dependent noise, delays, latency, memory decay")
    func heraldedMapping() throws {
        let simulationSection = """
        simulation:
          labs:
            - { lab: alice, readout_fidelity: 0.95, readout_delay_ps: 500, bases: { settings: [z, x, y] } }
            - { lab: bob, channels: [7, 3] }
          station: { channels: [20, 21], detector: { jitter_sigma_ps: 30 } }
        """
        let configuration = try LinkConfiguration.parse(linkYAML(model: heraldedModel, simulation: simulationSection))
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: 1_000_000_000, seed: 3)
        guard case .heraldedLink(let s) = simulation.scenario else {
            Issue.record("expected a heralded link"); return
        }
        let model = try #require(configuration.model)
        // alice is arm 1 in the model but lab A in the simulation.
        #expect(abs(s.nodeA.armEfficiency - 0.4 * pow(10, -0.1)) < 1e-12)
        #expect(abs(s.nodeB.armEfficiency - 0.5 * 0.5 * pow(10, -0.1)) < 1e-12)
        let fibreB = pow(10, -0.1)
        #expect(abs(s.nodeB.noisePhotonsPerAttempt - ((0.01 + 1e-8 * 1e6) * fibreB + 0.001)) < 1e-12)
        #expect(abs(s.nodeA.noisePhotonsPerAttempt - 0.001) < 1e-12)
        #expect(s.nodeA.fibreDelayPs == model.arms[1].groupDelayPs)
        #expect(s.nodeA.readoutDelayPs == 4_500 && s.nodeB.readoutDelayPs == 4_000)
        #expect(s.nodeA.readoutFidelity == 0.95)
        #expect(s.nodeA.coherenceRetained == 1)
        let wait = Double(2 * model.arms[0].groupDelayPs + 4_000)
        #expect(abs(s.nodeB.coherenceRetained - exp(-wait / 1e8)) < 1e-12)
        #expect(s.nodeB.readoutChannels == OutcomeChannels(plus: 7, minus: 3))
        #expect(s.station.channels == OutcomeChannels(plus: 20, minus: 21))
        #expect(s.station.detectionWindowPs == 20_000 && s.station.detector.jitterSigmaPs == 30)
        #expect(s.heraldingProtocol == .singleClick(brightStatePopulation: 0.2))
        #expect(s.visibility == 0.9)
        #expect(simulation.streams.map(\.role) == [.labA, .labB, .station])
        #expect(simulation.options.seed == 3)
    }

    @Test("double click gets half the attempt period between rounds unless set; station channels follow the labs'")
    func barrettKokDefaults() throws {
        let model = heraldedModel.replacingOccurrences(of: "kind: single_click, alpha: 0.2", with: "kind: double_click")
        let simulation = try ConfiguredSimulation(configuration: try LinkConfiguration.parse(linkYAML(model: model)))
        guard case .heraldedLink(let s) = simulation.scenario else {
            Issue.record("expected a heralded link"); return
        }
        #expect(s.heraldingProtocol == .barrettKok(roundSeparationPs: 500_000))
        #expect(s.station.channels == OutcomeChannels(plus: 8, minus: 9))
        // Without simulation.labs the arms are matched by name: lab A (alice) uses arm 'alice'.
        #expect(abs(s.nodeA.armEfficiency - 0.4 * pow(10, -0.1)) < 1e-12)
    }

    @Test("faults name labs, arms and the station; unknown names are refused")
    func faults() throws {
        let section = """
        simulation:
          faults:
            - { at_ps: 1000, kind: loss_step, arm: bob, extra_loss_db: 3 }
            - { at_ps: 2000, kind: detector_dark, stream: station, detector: 1, duration_ps: 500 }
            - { at_ps: 3000, kind: clock_jump, stream: alice, jump_ps: -20 }
            - { at_ps: 4000, kind: visibility_change, visibility: 0.5 }
        """
        let simulation = try ConfiguredSimulation(configuration: try LinkConfiguration.parse(linkYAML(model: heraldedModel, simulation: section)))
        guard case .heraldedLink(let s) = simulation.scenario else {
            Issue.record("expected a heralded link"); return
        }
        #expect(s.faults.faults.map(\.kind) == [
            .lossStep(arm: .b, extraLossDb: 3), .detectorDark(stream: .station, detector: 1, durationPs: 500),
            .clockJump(stream: .labA, jumpPs: -20), .visibilityChange(visibility: 0.5),
        ])
        let bad = section.replacingOccurrences(of: "stream: alice", with: "stream: carol")
        #expect {
            try ConfiguredSimulation(configuration: try LinkConfiguration.parse(linkYAML(model: heraldedModel, simulation: bad)))
        } throws: { error in
            (error as? SimulationError)?.parameter == "simulation.faults[2].stream"
        }
    }

    @Test("the simulation section is strict: misspelt keys, unknown labs and foreign channels are refused with their path")
    func strictSection() {
        func error(_ section: String) -> ConfigurationError? {
            do {
                _ = try LinkConfiguration.parse(linkYAML(model: heraldedModel, simulation: section), file: "sim.yaml")
                return nil
            } catch {
                return error
            }
        }
        let misspelt = error("simulation:\n  labs:\n    - { lab: alice, detector: { jiter_sigma_ps: 4 } }\n    - { lab: bob }")
        #expect(misspelt?.kind == .unknownKey)
        #expect(misspelt?.keyPath == "simulation.labs[0].detector.jiter_sigma_ps")
        let unknownLab = error("simulation:\n  labs: [{ lab: alice }, { lab: carol }]")
        #expect(unknownLab?.kind == .invalidValue)
        #expect(unknownLab?.message.contains("'carol' is not a lab") == true)
        let foreign = error("simulation:\n  labs: [{ lab: alice, channels: [1, 3] }, { lab: bob }]")
        #expect(foreign?.message.contains("channel 3 is not a detector channel of lab 'alice'") == true)
        let badBasis = error("simulation:\n  labs: [{ lab: alice, bases: { settings: [z, w] } }, { lab: bob }]")
        #expect(badBasis?.message.contains("'w' is not a setting") == true)
        let badFault = error("simulation:\n  faults: [{ at_ps: 1, kind: loss_step, stream: alice, extra_loss_db: 1 }]")
        #expect(badFault != nil)
        let badState = error("simulation:\n  state: bell")
        #expect(badState?.keyPath == "simulation.state")
    }

    @Test("a model without a repetition rate asks for one; a configuration without a model says what to add")
    func missingPieces() throws {
        let noRate = heraldedModel.replacingOccurrences(of: "repetition_rate_hz: 1_000_000, ", with: "")
        #expect {
            try ConfiguredSimulation(configuration: try LinkConfiguration.parse(linkYAML(model: noRate)))
        } throws: { error in
            (error as? SimulationError)?.hint.contains("simulation.repetition_rate_hz") == true
        }
        let withRate = try ConfiguredSimulation(configuration: try LinkConfiguration.parse(
            linkYAML(model: noRate, simulation: "simulation: { repetition_rate_hz: 250_000 }")))
        guard case .heraldedLink(let s) = withRate.scenario else { Issue.record("expected a heralded link"); return }
        #expect(s.attemptRateHz == 250_000)
        #expect {
            try ConfiguredSimulation(configuration: try LinkConfiguration.parse(linkYAML(model: "")))
        } throws: { error in
            (error as? SimulationError)?.parameter == "model"
        }
    }
}

@Suite("Live simulated streams")
struct LiveStreamTests {
    private var scenario: SimulationScenario {
        .pairSource(PairSourceScenario(
            pairRateHz: 2e6, labA: PairSourceLab(armTransmission: 0.5, detector: DetectorModel(darkCountRateHz: 1000, jitterSigmaPs: 30)),
            labB: PairSourceLab(armTransmission: 0.4, fibreDelayPs: 1_000_000, channels: OutcomeChannels(plus: 3, minus: 4))))
    }

    @Test("a lab's live stream is the lab's part of the simulation, chunk by chunk, for either pacing")
    func liveEqualsBatch() async throws {
        let options = SimulationOptions(durationPs: 2_000_000_000, seed: 11, targetTagsPerStep: 512)
        var reference = try LinkSimulator(scenario: scenario, options: options)
        var expected: [TagBatch] = []
        while let step = reference.next() { expected.append(try #require(step.chunk(.labB)).batch) }
        #expect(expected.count > 3)
        for pacing in [SimulationPacing.asFastAsPossible, .realTime] {
            var received: [TagBatch] = []
            for await batch in try SimulatedSteps(scenario: scenario, options: options, pacing: pacing).batches(of: .labB) {
                received.append(batch)
            }
            #expect(received == expected)
        }
        var none = 0
        for await _ in try SimulatedSteps(scenario: scenario, options: options, pacing: .asFastAsPossible).batches(of: .station) {
            none += 1
        }
        #expect(none == 0)
    }

    @Test("the steps' iterator hands out the run's ground truth at the end")
    func groundTruthAtEnd() async throws {
        let steps = try SimulatedSteps(scenario: scenario, options: SimulationOptions(durationPs: 1_000_000_000, seed: 2),
                                       pacing: .asFastAsPossible)
        var iterator = steps.makeAsyncIterator()
        var last: SimulationStep?
        while let step = await iterator.next() { last = step }
        #expect(last?.isFinal == true)
        #expect(iterator.groundTruth()?.seed == 2)
        #expect(throws: SimulationError.self) {
            try SimulatedSteps(scenario: .pairSource(PairSourceScenario(pairRateHz: -1)), options: SimulationOptions(durationPs: 1, seed: 1),
                               pacing: .realTime)
        }
    }
}

@Suite("Two-thread detector chains")
struct ParallelStreamTests {
    @Test("running the labs' detector chains on two threads gives exactly the single-thread output")
    func parallelEqualsSerial() throws {
        let scenario = SimulationScenario.pairSource(PairSourceScenario(
            pairRateHz: 5e6, visibility: 0.9,
            labA: PairSourceLab(armTransmission: 0.6, detector: DetectorModel(darkCountRateHz: 1e4, jitterSigmaPs: 50, deadTimePs: 20_000,
                                                                              afterpulseProbability: 0.01, afterpulseDelayMeanPs: 50_000)),
            labB: PairSourceLab(armTransmission: 0.5, fibreDelayPs: 3_000_000, channels: OutcomeChannels(plus: 3, minus: 4),
                                bases: BasisSchedule(bases: [.z, .x], periodPs: 1_000_000))))
        func run(parallel: Bool) throws -> [SimulationStep] {
            var simulator = try LinkSimulator(scenario: scenario, options: SimulationOptions(
                durationPs: 20_000_000_000, seed: 5, targetTagsPerStep: 16_384, parallelStreams: parallel))
            var steps: [SimulationStep] = []
            while let step = simulator.next() { steps.append(step) }
            return steps
        }
        let serial = try run(parallel: false)
        #expect(serial.count > 3 && serial[0].chunk(.labA)!.batch.count > StreamWorkers.minimumEvents)
        #expect(try run(parallel: true) == serial)
    }
}
