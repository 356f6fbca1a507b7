import Correlation
import Foundation
import LinkModel
import Planner
import Simulation
import Testing
import TimeTags

/// The planner's rate dependence against the simulator: the frequency converter's added noise grows with the
/// attempt rate (k·f), so the herald probability rises and the fidelity falls with the rate. At three rates,
/// and across a rate change in one running simulation, the simulated herald probability and the fidelity from
/// the nodes' Z/X/Y readouts lie within three standard errors of `LinkProfile.evaluate`.
@Suite("Planner against simulator across repetition rates")
struct PlannerRateCrossCheckTests {
    static let noisePerHz = 2e-8

    static func model() throws -> LinkDescription {
        try StrictYAMLDecoder().decode(LinkDescription.self, from: """
        protocol: { kind: single_click, alpha: 0.1 }
        clock: { repetition_rate_hz: 1_000_000, multiplexing_modes: 20 }
        midpoint:
          visibility: 0.9
          detectors: { efficiency: 0.8, dark_count_rate_hz: 1000, window_ps: 20_000 }
        arms:
          - name: a
            stages:
              - { kind: emitter, collection_efficiency: 0.5 }
              - { kind: frequency_converter, efficiency: 0.9, noise_photons_per_attempt: 0.001,
                  noise_photons_per_attempt_per_hz: \(noisePerHz) }
              - { kind: fibre, length_km: 1, loss_db_per_km: 0.5 }
              - { kind: memory, coherence_time_ps: 100_000_000 }
          - name: b
            stages:
              - { kind: emitter, collection_efficiency: 0.5 }
              - { kind: fibre, length_km: 1, loss_db_per_km: 0.5, extra_loss_db: 1 }
              - { kind: memory, coherence_time_ps: 100_000_000 }
        """)
    }

    /// Heralds and the fidelity estimated from Z/X/Y readouts, for the heralds of attempts in [startPs, endPs).
    struct Measured {
        var heralds = 0
        var cells = [[Double]](repeating: [0, 0, 0, 0], count: 3)

        func fidelity() throws -> Estimate {
            let e = try cells.map { try BellEstimators.correlation(raw: JointCounts(cells: $0)) }
            return BellEstimators.fidelity(to: BellState.psiPlus, z: e[0], x: e[1], y: e[2])
        }
    }

    /// Runs `configured` with `changes`; returns the measurements of each span between `boundaries` and the truth.
    static func measure(_ configured: ConfiguredSimulation, changes: [RepetitionRateChange],
                        boundaries: [Int64]) throws -> ([Measured], GroundTruth) {
        var simulator = try configured.makeSimulator(rateChanges: changes)
        var a = RecordedStream(), b = RecordedStream(), station = RecordedStream()
        func add(_ batch: TagBatch?, to stream: inout RecordedStream) {
            guard let batch else { return }
            stream.times += batch.timesPs
            stream.channels += batch.channels
            stream.markers += batch.markers
        }
        while let step = simulator.next() {
            add(step.chunk(.labA)?.batch, to: &a)
            add(step.chunk(.labB)?.batch, to: &b)
            add(step.chunk(.station)?.batch, to: &station)
        }
        let heralds = station.markers
        try #require(a.times.count == heralds.count && b.times.count == heralds.count)
        var spans = [Measured](repeating: Measured(), count: boundaries.count - 1)
        for k in 0..<heralds.count {
            guard let span = (0..<spans.count).first(where: { heralds[k].timePs >= boundaries[$0] && heralds[k].timePs < boundaries[$0 + 1] })
            else { continue }
            spans[span].heralds += 1
            // In the Ψ+ frame: after a Ψ− herald node B's X and Y outcomes are flipped.
            guard let basisA = a.marker(at: a.times[k]), let basisB = b.marker(at: b.times[k]), basisA == basisB else { continue }
            let outcomeA = a.channels[k] == 1 ? 0 : 1
            var outcomeB = b.channels[k] == 3 ? 0 : 1
            if heralds[k].marker == 2 && basisB != 0 { outcomeB ^= 1 }
            spans[span].cells[Int(basisA)][2 * outcomeA + outcomeB] += 1
        }
        return (spans, simulator.groundTruth())
    }

    static func configured(durationPs: Int64, seed: UInt64, rateHz: Double) throws -> ConfiguredSimulation {
        let bases = SimulatedBases(settings: ["z", "x", "y"], periodPs: 10_000_000, markers: true)
        let settings = SimulationSettings(repetitionRateHz: rateHz,
                                          labs: [SimulatedLab(lab: "a", bases: bases), SimulatedLab(lab: "b", bases: bases)])
        return try ConfiguredSimulation(linkName: "rates", model: try model(), settings: settings, durationPs: durationPs, seed: seed)
    }

    /// Checks one span against the planner at `rateHz`.
    static func check(_ measured: Measured, seconds: Double, rateHz: Double, truth: HeraldedTruthSegment?) throws {
        let model = try model()
        let prediction = LinkProfile(model).evaluate(OperatingPoint(repetitionRateHz: rateHz, knob: model.protocol.knob))
        if let truth {
            let truthFidelity = (truth.psiPlusProbability * truth.fidelityPsiPlus + truth.psiMinusProbability * truth.fidelityPsiMinus)
                / truth.heraldProbability
            #expect(abs(truthFidelity - prediction.fidelity) < 1e-9, "simulator truth F \(truthFidelity), planner \(prediction.fidelity)")
            #expect(abs(truth.heraldProbability / prediction.successProbability - 1) < 1e-6,
                    "simulator truth \(truth.heraldProbability), planner \(prediction.successProbability) at \(rateHz) Hz")
        }
        let attempts = seconds * rateHz
        let probability = Double(measured.heralds) / attempts
        let probabilityError = Double(measured.heralds).squareRoot() / attempts
        #expect(measured.heralds > 1_000)
        #expect(abs(probability - prediction.successProbability) <= 3 * probabilityError,
                "herald probability \(probability) ± \(probabilityError), planner \(prediction.successProbability) at \(rateHz) Hz")
        let fidelity = try measured.fidelity()
        #expect(fidelity.standardError < 0.03)
        #expect(abs(fidelity.value - prediction.fidelity) <= 3 * fidelity.standardError,
                "fidelity \(fidelity), planner \(prediction.fidelity) at \(rateHz) Hz")
        print(String(format: "rate %.2e Hz: herald probability %.5f ± %.5f (planner %.5f), fidelity %.4f ± %.4f (planner %.4f)",
                     rateHz, probability, probabilityError, prediction.successProbability, fidelity.value, fidelity.standardError,
                     prediction.fidelity))
    }

    @Test("herald probability and fidelity follow the planner at 0.5, 1 and 2 MHz", arguments: [
        (5e5, UInt64(11)), (1e6, UInt64(12)), (2e6, UInt64(13)),
    ])
    func fixedRate(rateHz: Double, seed: UInt64) throws {
        let durationPs = Int64(100_000 / rateHz * 1e12)  // 100 000 attempts
        let configured = try Self.configured(durationPs: durationPs, seed: seed, rateHz: rateHz)
        let (spans, truth) = try Self.measure(configured, changes: [], boundaries: [0, durationPs])
        try Self.check(spans[0], seconds: Double(durationPs) * 1e-12, rateHz: rateHz, truth: truth.heraldedSegments?.first)
    }

    @Test("a running simulation switched from 0.5 to 2 MHz follows the planner on both sides of the change")
    func rateChangeMidRun() throws {
        let changePs: Int64 = 200_000_000_000, durationPs: Int64 = 250_000_000_000
        let configured = try Self.configured(durationPs: durationPs, seed: 21, rateHz: 5e5)
        let (spans, truth) = try Self.measure(configured, changes: [RepetitionRateChange(fromPs: changePs, rateHz: 2e6)],
                                             boundaries: [0, changePs, durationPs])
        let segments = try #require(truth.heraldedSegments)
        #expect(segments.map(\.startPs) == [0, changePs])
        try Self.check(spans[0], seconds: Double(changePs) * 1e-12, rateHz: 5e5, truth: segments.first)
        try Self.check(spans[1], seconds: Double(durationPs - changePs) * 1e-12, rateHz: 2e6, truth: segments.last)
        // The noise that grows with the rate costs fidelity: clearly lower at 2 MHz.
        let slow = try spans[0].fidelity(), fast = try spans[1].fidelity()
        #expect(slow.value - fast.value > 3 * (slow.standardError * slow.standardError + fast.standardError * fast.standardError).squareRoot())
    }
}
