import Foundation
import Testing
@testable import LinkModel

/// A two-lab link around `model` and `extra` sections (paths are never opened).
private func link(model: String = "", _ extra: String = "") -> String {
    """
    name: resolved
    security: { ca_certificate: ca.crt, certificate_store: certs }
    coordinator: { name: c, control_endpoint: "tcp://127.0.0.1:0", publish_endpoint: "tcp://127.0.0.1:0", certificate: c.crt, private_key: c.key }
    labs:
      - name: alice
        node: alice-node
        certificate: a.crt
        private_key: a.key
        detectors:
          - { channel: 1, name: H, delay_ps: 120 }
          - { channel: 2, name: V }
          - { channel: 5, name: D }
          - { channel: 6, name: A }
      - name: bob
        node: bob-node
        certificate: b.crt
        private_key: b.key
        detectors:
          - { channel: 3, name: H }
          - { channel: 4, name: V, delay_ps: -40 }
    \(model)
    \(extra)
    """
}

private let pairModel = """
model:
  protocol: { kind: pair_source, mean_pairs_per_attempt: 0.01 }
  clock: { repetition_rate_hz: 20_000_000 }
  midpoint: { source: { pair_fidelity: 0.97 } }
  arms:
    - { name: alice, stages: [{ kind: fibre, length_km: 1, loss_db_per_km: 0.2 }, { kind: detectors, efficiency: 0.8, window_ps: 1_000 }] }
    - { name: bob, stages: [{ kind: fibre, length_km: 1, loss_db_per_km: 0.2 }, { kind: detectors, efficiency: 0.8, window_ps: 1_000 }] }
"""

private func heraldedModel(_ protocolText: String, rateHz: String, windowPs: Int = 20_000) -> String {
    """
    model:
      protocol: \(protocolText)
      clock: { repetition_rate_hz: \(rateHz) }
      midpoint: { visibility: 0.9, detectors: { efficiency: 0.8, window_ps: \(windowPs) } }
      arms:
        - { name: alice, stages: [{ kind: emitter, collection_efficiency: 0.5 }] }
        - { name: bob, stages: [{ kind: emitter, collection_efficiency: 0.5 }] }
    """
}

@Suite("Resolved link")
struct ResolvedLinkTests {
    @Test("simulation.repetition_rate_hz overrides model.clock.repetition_rate_hz, and says so")
    func ratePrecedence() throws {
        let modelOnly = try ResolvedLink(LinkConfiguration.parse(link(model: pairModel)))
        #expect(modelOnly.attempts?.rateHz == 20_000_000)
        #expect(modelOnly.attempts?.source == .model)
        #expect(modelOnly.attempts?.periodPs == 50_000)
        let both = try ResolvedLink(LinkConfiguration.parse(link(model: pairModel, "simulation: { repetition_rate_hz: 3_000_000 }")))
        #expect(both.attempts?.rateHz == 3_000_000)
        #expect(both.attempts?.source == .simulation)
        #expect(both.attempts?.periodPs == 333_333)
        // The resolved model runs at the resolved rate, so planner evaluations of it agree.
        #expect(both.model?.clock.repetitionRateHz == 3_000_000)
        let noRate = pairModel.replacingOccurrences(of: "  clock: { repetition_rate_hz: 20_000_000 }\n", with: "")
        let simulationOnly = try ResolvedLink(LinkConfiguration.parse(link(model: noRate, "simulation: { repetition_rate_hz: 7 }")))
        #expect(simulationOnly.attempts?.rateHz == 7)
        #expect(try ResolvedLink(LinkConfiguration.parse(link(model: noRate))).attempts == nil)
        #expect(try ResolvedLink(LinkConfiguration.parse(link())).attempts == nil)
    }

    @Test("a rate schedule keeps later changes in order and refuses out-of-order or non-positive ones")
    func rateSchedule() throws {
        var clock = AttemptClock(rateHz: 1e6, source: .model)
        try clock.record(.init(fromPs: 5_000, rateHz: 2e6))
        try clock.record(.init(fromPs: 9_000, rateHz: 5e5))
        #expect(clock.schedule.rateHz(atPs: 0) == 1e6)
        #expect(clock.schedule.rateHz(atPs: 4_999) == 1e6)
        #expect(clock.schedule.rateHz(atPs: 5_000) == 2e6)
        #expect(clock.schedule.rateHz(atPs: 1_000_000) == 5e5)
        #expect(throws: RateSchedule.InvalidChange.self) { try clock.record(.init(fromPs: 8_000, rateHz: 1e6)) }
        #expect(throws: RateSchedule.InvalidChange.self) { try clock.record(.init(fromPs: 10_000, rateHz: 0)) }
        #expect(clock.schedule.changes.count == 2)
        #expect(clock.rateHz == 1e6)
    }

    @Test("without a model, bases come from the correlation section, else from the detector names")
    func basesWithoutModel() throws {
        let named = try ResolvedLink(LinkConfiguration.parse(link()))
        #expect(named.labA.bases == .detectors)
        #expect(named.labA.basesOrigin == .detectorNames)
        #expect(named.labA.outcomeDetectors.map(\.channel) == [1, 2, 5, 6])
        #expect(named.labA.outcomeDetectors.map(\.passiveBasis) == ["Z", "Z", "X", "X"])
        #expect(named.labA.outcomeDetectors.map(\.outcome) == [.plus, .minus, .plus, .minus])
        #expect(named.targetState == "phi_plus")
        #expect(named.delaysPs == [1: 120, 4: -40])
        #expect(named.clock == .independent(maxOffsetPs: 10_000_000_000))
        let given = try ResolvedLink(LinkConfiguration.parse(link("""
        correlation:
          clock_reference: shared
          shared_offset_ps: 250
          target_state: psi_minus
          bases:
            - { lab: bob, segments: [{ start_ps: 900, basis: X }, { start_ps: 0, basis: Z }] }
        """)))
        #expect(given.labB.bases == .segments([.init(startPs: 0, basis: "Z"), .init(startPs: 900, basis: "X")]))
        #expect(given.labB.basesOrigin == .correlation)
        // An active basis choice: the names' passive bases no longer apply.
        #expect(given.labB.outcomeDetectors.allSatisfy { $0.passiveBasis == nil })
        #expect(given.labA.bases == .detectors)
        #expect(given.targetState == "psi_minus")
        #expect(given.clock == .shared(offsetPs: 250))
    }

    @Test("a simulation that announces bases by markers gives those bases without a correlation section")
    func basesFromSimulationMarkers() throws {
        let resolved = try ResolvedLink(LinkConfiguration.parse(link(model: pairModel, """
        simulation:
          state: psi_minus
          labs:
            - { lab: alice, channels: [5, 6], bases: { settings: [z, x, 22.5], markers: true, marker_base: 40 } }
            - { lab: bob, bases: { settings: [x] } }
        """)))
        #expect(resolved.labA.bases == .markers([40: "Z", 41: "X", 42: "22.5"]))
        #expect(resolved.labA.basesOrigin == .simulation)
        #expect(resolved.labA.outcomeDetectors.map(\.channel) == [5, 6])
        #expect(resolved.labA.outcomeDetectors.map(\.outcome) == [.plus, .minus])
        #expect(resolved.labB.bases == .fixed("X"))
        #expect(resolved.labB.outcomeDetectors.map(\.channel) == [3, 4])
        #expect(resolved.targetState == "psi_minus")
        #expect(resolved.station == nil && resolved.heraldWindows == nil)
        // Several settings without markers: the basis of an event cannot be known.
        let silent = try ResolvedLink(LinkConfiguration.parse(link(model: pairModel, """
        simulation:
          labs: [{ lab: alice, bases: { settings: [z, x], markers: false } }, { lab: bob }]
        """)))
        #expect(silent.labA.bases == nil && !silent.labA.labelsBases)
        #expect(silent.labB.labelsBases)
        // The shipped loopback example announces its analyser angles by markers.
        let loopback = try ResolvedLink(LinkConfiguration.load(from: exampleConfigPath))
        #expect(loopback.labA.bases == .markers([0: "0", 1: "45"]))
        #expect(loopback.labB.bases == .markers([10: "22.5", 11: "67.5"]))
    }

    @Test("herald windows: single click and Barrett–Kok, default and configured station channels and separation")
    func heraldWindows() throws {
        let single = try ResolvedLink(LinkConfiguration.parse(link(model: heraldedModel("{ kind: single_click, alpha: 0.1 }", rateHz: "1_000_000"))))
        #expect(single.heraldWindows == HeraldWindows(attemptPeriodPs: 1_000_000, stationChannels: [7, 8], stationLab: 0,
                                                      first: HeraldWindow(startPs: 0, endPs: 20_000), second: nil))
        let kok = try ResolvedLink(LinkConfiguration.parse(link(model: heraldedModel("{ kind: double_click }", rateHz: "400_000"),
                                                                "simulation: { station: { channels: [20, 21] } }")))
        #expect(kok.heraldWindows == HeraldWindows(attemptPeriodPs: 2_500_000, stationChannels: [20, 21], stationLab: 0,
                                                   first: HeraldWindow(startPs: 0, endPs: 20_000),
                                                   second: HeraldWindow(startPs: 1_250_000, endPs: 1_270_000)))
        // After a rate change the default separation follows the period.
        #expect(kok.heraldWindows(attemptRateHz: 1e6)?.second == HeraldWindow(startPs: 500_000, endPs: 520_000))
        // The simulator's lab A records the station: bob when the simulation lists bob first.
        let bobFirst = try ResolvedLink(LinkConfiguration.parse(link(model: heraldedModel("{ kind: double_click }", rateHz: "400_000"),
                                                                     "simulation: { labs: [{ lab: bob }, { lab: alice }] }")))
        #expect(bobFirst.heraldWindows?.stationLab == 1)
        let separated = try ResolvedLink(LinkConfiguration.parse(link(model: heraldedModel("{ kind: double_click }", rateHz: "400_000"),
                                                                      "simulation: { station: { round_separation_ps: 10_000 } }")))
        #expect(separated.heraldWindows?.first == HeraldWindow(startPs: 0, endPs: 10_000))
        #expect(separated.heraldWindows?.second == HeraldWindow(startPs: 10_000, endPs: 20_000))
    }

    @Test("resolution errors name the file, the key and what to change")
    func validationErrors() throws {
        func error(_ text: String) -> ConfigurationError? {
            do {
                _ = try ResolvedLink(LinkConfiguration.parse(text, file: "link.yaml"))
                return nil
            } catch {
                return error
            }
        }
        // A 600 ns detection window plus the default separation of half the 1 µs period does not fit in it.
        let rounds = error(link(model: heraldedModel("{ kind: double_click }", rateHz: "1_000_000", windowPs: 600_000)))
        #expect(rounds?.keyPath == "model.clock.repetition_rate_hz")
        #expect(rounds?.description.hasPrefix("link.yaml: model.clock.repetition_rate_hz:") == true)
        #expect(rounds?.message.contains("do not fit in the attempt period (1000000 ps") == true)
        let tooFast = error(link(model: heraldedModel("{ kind: single_click, alpha: 0.1 }", rateHz: "1_000"),
                                 "simulation: { repetition_rate_hz: 100_000_000 }"))
        #expect(tooFast?.keyPath == "simulation.repetition_rate_hz")
        let twice = error(link("correlation: { bases: [{ lab: bob, basis: Z }, { lab: bob, basis: X }] }"))
        #expect(twice?.keyPath == "correlation.bases[1].lab")
        let marker = error(link("correlation: { bases: [{ lab: alice, markers: [{ marker: 3, basis: Z }, { marker: 3, basis: X }] }] }"))
        #expect(marker?.keyPath == "correlation.bases[0].markers")
        #expect(marker?.message.contains("marker 3 announces both 'Z' and 'X'") == true)
        #expect(marker?.file == "link.yaml")
    }

    @Test("every shipped link configuration resolves")
    func shippedConfigurations() throws {
        let directory = projectRoot.appendingPathComponent("configs")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        var resolvedCount = 0
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            guard text.hasPrefix("labs:") || text.contains("\nlabs:") else { continue }   // plan files have no labs
            let resolved = try ResolvedLink(LinkConfiguration.load(from: directory.appendingPathComponent(file).path))
            #expect(resolved.labA.labelsBases && resolved.labB.labelsBases, "\(file)")
            resolvedCount += 1
        }
        #expect(resolvedCount >= 3)
    }

    @Test("detector names imply outcome and passive basis: H/V → Z, D/A → X, R/L → Y, ± without a basis, others none")
    func detectorNameRoles() {
        let cases: [(String, DetectorOutcome, String?)] = [("H", .plus, "Z"), ("v", .minus, "Z"), ("D", .plus, "X"), ("A", .minus, "X"),
                                                          ("R", .plus, "Y"), ("L", .minus, "Y"), ("plus", .plus, nil), ("−", .minus, nil)]
        for (name, outcome, basis) in cases {
            let role = ResolvedDetector.role(named: name)
            #expect(role?.outcome == outcome && role?.passiveBasis == basis, "\(name)")
        }
        #expect(ResolvedDetector.role(named: "herald") == nil)
    }
}

