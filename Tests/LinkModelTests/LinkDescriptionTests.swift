import Foundation
import Testing
@testable import LinkModel

/// A small model section, indented to sit under `model:` at the top level of a link configuration.
let modelSection = """
model:
  protocol: { kind: single_click, alpha: 0.25 }
  clock: { repetition_rate_hz: 100_000, multiplexing_modes: 4, classical_latency_ps: 1_000 }
  arms:
    - name: alice
      stages:
        - { kind: emitter, emission_probability: 0.9, zero_phonon_fraction: 0.5, collection_efficiency: 0.2 }
        - { kind: memory, coherence_time_ps: 1_000_000, decay: gaussian, dephasing_per_attempt: 0.001 }
        - { kind: transducer, efficiency: 0.5, noise_photons_per_attempt: 0.01, noise_photons_per_attempt_per_hz: 1.0e-7 }
        - { kind: fibre, length_km: 10, loss_db_per_km: 0.2, extra_loss_db: 1, cost: { capital: 1000, lifetime_years: 1 } }
    - name: bob
      stages:
        - { kind: emitter, collection_efficiency: 0.1 }
        - { kind: frequency_converter, efficiency: 0.4 }
  midpoint:
    visibility: 0.9
    detectors: { efficiency: 0.8, dark_count_rate_hz: 25, window_ps: 40_000 }
  costs: { currency: CHF, overhead: { operating_per_hour: 36 } }

"""

struct ModelDocument: Decodable {
    var model: LinkDescription
}

func parseModel(_ text: String) throws(ConfigurationError) -> LinkDescription {
    try StrictYAMLDecoder().decode(ModelDocument.self, from: text, file: "model.yaml").model
}

@Suite("Link model")
struct LinkDescriptionTests {
    @Test("stages decode with their kinds and derive transmission, noise and delay")
    func decodes() throws {
        let model = try parseModel(modelSection)
        #expect(model.protocol == .singleClick(alpha: 0.25))
        #expect(model.clock.multiplexingModes == 4)
        let alice = model.arms[0]
        #expect(alice.stages.map(\.name) == ["emitter", "memory", "transducer", "fibre"])
        #expect(abs(alice.stages[0].transmission - 0.09) < 1e-15)
        #expect(abs(alice.stages[3].transmission - pow(10, -0.3)) < 1e-15)
        #expect(abs(alice.stages[3].lossDb - 3) < 1e-12)
        #expect(abs(alice.transmission - 0.09 * 0.5 * pow(10, -0.3)) < 1e-15)
        // The transducer's n0 + k f = 0.01 + 0.01 at 100 kHz, then the fibre's 3 dB.
        #expect(abs(alice.noisePhotonsAtEnd(repetitionRateHz: 1e5) - 0.02 * pow(10, -0.3)) < 1e-15)
        #expect(alice.groupDelayPs == 48_967_209)  // 10 km × 1.468 / c = 48.967209 µs
        #expect(alice.memory?.decay == .gaussian)
        #expect(abs(model.arms[1].transmission - 0.04) < 1e-15)
        #expect(model.midpoint.detectors?.darkCountsPerWindow == 25 * 40e-9)
        #expect(model.heraldWaitPs(arm: 0) == 2 * 48_967_209 + 1_000)
        #expect(model.heraldWaitPs(arm: 1) == 1_000)
        #expect(abs(model.maxRepetitionRateHz - 4e12 / Double(2 * 48_967_209 + 1_000)) < 1e-6)
        // 1000 over one year plus 36 per hour.
        #expect(abs(model.costTotals.fixedPerSecond - (1000 / CostModel.secondsPerYear + 0.01)) < 1e-15)
        #expect(model.costs.currency == "CHF")
    }

    @Test("memory coherence decays with the wait and with each attempt")
    func memoryDecay() {
        let memory = Memory(coherenceTimePs: 1_000, decay: .gaussian, dephasingPerAttempt: 0.01)
        #expect(abs(memory.coherenceFactor(waitPs: 500, attempts: 2) - exp(-0.25) * 0.98 * 0.98) < 1e-15)
        #expect(Memory().coherenceFactor(waitPs: 1e12, attempts: 0) == 1)
    }

    private func expectError(_ kind: ConfigurationError.Kind, at path: String, containing fragment: String,
                             _ edit: (String) -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try parseModel(edit(modelSection))
            Issue.record("expected a \(kind) error at \(path)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
            #expect(error.keyPath == path, "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains(fragment), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("a misspelt stage key is rejected with its path")
    func unknownStageKey() {
        expectError(.unknownKey, at: "model.arms[0].stages[3].lenght_km", containing: "length_km") {
            $0.replacingOccurrences(of: "length_km: 10", with: "lenght_km: 10")
        }
    }

    @Test("a key of another stage kind is rejected")
    func foreignKey() {
        expectError(.unknownKey, at: "model.arms[1].stages[1].length_km", containing: "unknown key 'length_km'") {
            $0.replacingOccurrences(of: "{ kind: frequency_converter, efficiency: 0.4 }",
                                    with: "{ kind: frequency_converter, efficiency: 0.4, length_km: 3 }")
        }
    }

    @Test("an unknown stage kind lists the kinds")
    func unknownKind() {
        expectError(.invalidValue, at: "model.arms[1].stages[1].kind", containing: "frequency_converter") {
            $0.replacingOccurrences(of: "kind: frequency_converter", with: "kind: converter")
        }
    }

    @Test("an efficiency above one is out of range")
    func outOfRange() {
        expectError(.invalidValue, at: "model.arms[0].stages[2].efficiency", containing: "between 0.0 and 1.0") {
            $0.replacingOccurrences(of: "kind: transducer, efficiency: 0.5", with: "kind: transducer, efficiency: 1.5")
        }
    }

    @Test("α above one half is rejected")
    func alphaRange() {
        expectError(.invalidValue, at: "model.protocol.alpha", containing: "bright-state population") {
            $0.replacingOccurrences(of: "alpha: 0.25", with: "alpha: 0.7")
        }
    }

    @Test("a heralded protocol without station detectors says what to add")
    func missingDetectors() {
        expectError(.invalidValue, at: "model.midpoint", containing: "add midpoint.detectors") {
            $0.replacingOccurrences(of: "    detectors: { efficiency: 0.8, dark_count_rate_hz: 25, window_ps: 40_000 }\n", with: "")
        }
    }

    @Test("a pair source needs memories and no emitters")
    func pairSourceArms() {
        expectError(.invalidValue, at: "model.midpoint", containing: "needs midpoint.source") {
            $0.replacingOccurrences(of: "kind: single_click, alpha: 0.25", with: "kind: pair_source, mean_pairs_per_attempt: 0.1")
        }
    }

    @Test("a pair source whose photons go straight to detectors waits for no herald; with memories it does")
    func pairSourceRateLimit() throws {
        let path = projectRoot.appendingPathComponent("configs/loopback.yaml").path
        let loopback = try #require(try LinkConfiguration.parse(String(contentsOfFile: path, encoding: .utf8)).model)
        #expect(loopback.arms.allSatisfy { $0.memory == nil })
        #expect(loopback.travelLimitPs == 0)
        #expect(loopback.maxRepetitionRateHz >= loopback.clock.repetitionRateHz ?? 0)
        // The shipped plan's model section: a pair source feeding a memory in each lab.
        let plan = try String(contentsOfFile: projectRoot.appendingPathComponent("configs/plan-telecom.yaml").path, encoding: .utf8)
        let section = try #require(plan.components(separatedBy: "\nmodel:").last?.components(separatedBy: "\nplan:").first)
        let model = try parseModel("model:" + section)
        #expect(model.arms.allSatisfy { $0.memory != nil })
        #expect(model.travelLimitPs == max(model.heraldWaitPs(arm: 0), model.heraldWaitPs(arm: 1)))
        #expect(model.travelLimitPs > 0)
    }

    @Test("a link configuration may carry the model; without it the model is nil")
    func linkConfigurationModel() throws {
        let path = projectRoot.appendingPathComponent("configs/loopback.yaml").path
        let shipped = try String(contentsOfFile: path, encoding: .utf8)
        #expect(try LinkConfiguration.parse(shipped).model?.protocol == .pairSource(meanPairsPerAttempt: 0.05))
        // The shipped example without its model and simulation sections.
        let text = try #require(shipped.components(separatedBy: "\nmodel:").first)
        #expect(try LinkConfiguration.parse(text).model == nil)
        let withModel = try LinkConfiguration.parse(text + "\n" + modelSection)
        #expect(withModel.model?.arms.map(\.name) == ["alice", "bob"])
        #expect(withModel.labs.count == 2)
    }
}
