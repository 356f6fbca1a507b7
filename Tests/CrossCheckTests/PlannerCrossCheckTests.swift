import Correlation
import LinkModel
import Planner
import Simulation
import Testing
import TimeTags

/// The planner's closed forms against the simulator: a planned link (scaled to a fast, bright
/// operating point) is simulated from the same link model, and the measured herald rate and the
/// fidelity estimated from the nodes' Z/X/Y readouts lie within three standard errors of the
/// planner's prediction.
@Suite("Planner against simulator")
struct PlannerCrossCheckTests {
    static func model(protocolYAML: String) throws -> LinkDescription {
        let yaml = """
        protocol: \(protocolYAML)
        clock: { repetition_rate_hz: 1_000_000, multiplexing_modes: 20 }
        midpoint:
          visibility: 0.9
          noise_photons_per_attempt: 0.002
          detectors: { efficiency: 0.8, dark_count_rate_hz: 1000, window_ps: 20_000 }
        arms:
          - name: a
            stages:
              - { kind: emitter, collection_efficiency: 0.5 }
              - { kind: frequency_converter, efficiency: 0.9, noise_photons_per_attempt: 0.001,
                  noise_photons_per_attempt_per_hz: 1.0e-9 }
              - { kind: fibre, length_km: 1, loss_db_per_km: 0.5 }
              - { kind: memory, coherence_time_ps: 100_000_000 }
          - name: b
            stages:
              - { kind: emitter, collection_efficiency: 0.5 }
              - { kind: fibre, length_km: 1, loss_db_per_km: 0.5, extra_loss_db: 1 }
              - { kind: memory, coherence_time_ps: 100_000_000 }
        """
        return try StrictYAMLDecoder().decode(LinkDescription.self, from: yaml)
    }

    /// Simulates `model` at its clock rate and returns (heralds, duration in s, fidelity estimate).
    static func measure(_ model: LinkDescription, seed: UInt64) throws -> (heralds: Int, seconds: Double, fidelity: Estimate,
                                                                          truth: HeraldedTruthSegment) {
        let bases = SimulatedBases(settings: ["z", "x", "y"], periodPs: 10_000_000, markers: true)
        let settings = SimulationSettings(labs: [SimulatedLab(lab: "a", bases: bases), SimulatedLab(lab: "b", bases: bases)])
        let durationPs: Int64 = 50_000_000_000
        let configured = try ConfiguredSimulation(linkName: "cross-check", model: model, settings: settings, durationPs: durationPs)
        let (streams, truth) = try record(configured.scenario, durationPs: durationPs, seed: seed)
        let a = try #require(streams[.labA]), b = try #require(streams[.labB]), station = try #require(streams[.station])
        let heralds = station.markers
        try #require(a.times.count == heralds.count && b.times.count == heralds.count)
        // Counts per basis (Z, X, Y on both nodes) in the Ψ+ frame: after a Ψ− herald node B's X
        // and Y outcomes are flipped (a Z rotation on B maps Ψ− onto Ψ+).
        var cells = [[Double]](repeating: [0, 0, 0, 0], count: 3)
        for k in 0..<heralds.count {
            guard let basisA = a.marker(at: a.times[k]), let basisB = b.marker(at: b.times[k]), basisA == basisB else { continue }
            let outcomeA = a.channels[k] == 1 ? 0 : 1
            var outcomeB = b.channels[k] == 3 ? 0 : 1
            if heralds[k].marker == 2 && basisB != 0 { outcomeB ^= 1 }
            cells[Int(basisA)][2 * outcomeA + outcomeB] += 1
        }
        let e = try cells.map { try BellEstimators.correlation(raw: JointCounts(cells: $0)) }
        let fidelity = BellEstimators.fidelity(to: BellState.psiPlus, z: e[0], x: e[1], y: e[2])
        return (heralds.count, Double(durationPs) * 1e-12, fidelity, try #require(truth.heraldedSegments?.first))
    }

    @Test("single click and double click: herald rate and fidelity match the planner", arguments: [
        ("{ kind: single_click, alpha: 0.1 }", UInt64(1)), ("{ kind: single_click, alpha: 0.1 }", UInt64(2)),
        ("{ kind: double_click }", UInt64(3)), ("{ kind: double_click }", UInt64(4)),
    ])
    func plannedLink(protocolYAML: String, seed: UInt64) throws {
        let model = try Self.model(protocolYAML: protocolYAML)
        let prediction = LinkProfile(model).evaluate(OperatingPoint(repetitionRateHz: 1e6, knob: model.protocol.knob))
        let measured = try Self.measure(model, seed: seed)
        // The simulator's own closed-form truth and the planner agree on the herald probability.
        #expect(abs(measured.truth.heraldProbability / prediction.successProbability - 1) < 1e-6,
                "simulator truth \(measured.truth.heraldProbability), planner \(prediction.successProbability)")
        let rate = Double(measured.heralds) / measured.seconds
        let rateError = Double(measured.heralds).squareRoot() / measured.seconds
        #expect(measured.heralds > 1_000)
        #expect(abs(rate - prediction.pairRateHz) <= 3 * rateError,
                "herald rate \(rate) ± \(rateError) Hz, planner \(prediction.pairRateHz) Hz")
        #expect(measured.fidelity.standardError < 0.03)
        #expect(abs(measured.fidelity.value - prediction.fidelity) <= 3 * measured.fidelity.standardError,
                "fidelity \(measured.fidelity), planner \(prediction.fidelity) (at herald \(prediction.fidelityAtHerald))")
    }
}
