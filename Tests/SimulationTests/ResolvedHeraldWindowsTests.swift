import Foundation
import LinkModel
import Testing
import TimeTags
@testable import Simulation

/// The herald windows the resolved link derives (LinkModel, no simulator) against the windows the simulator's
/// scenario realises for the same configuration: attempt period, station channels, detection window and
/// Barrett–Kok round separation.
@Suite("Resolved herald windows match the simulator")
struct ResolvedHeraldWindowsTests {
    /// The windows a heralded scenario realises: attempts every period from 0, clicks accepted in the station's
    /// detection window (capped at the period) from each attempt start; Barrett–Kok rounds a round separation
    /// apart, each window capped at the separation; the station's detectors recorded by the lab at `stationLab`.
    static func simulatorWindows(_ scenario: HeraldedLinkScenario, stationLab: Int) -> HeraldWindows {
        let periodPs = scenario.attemptPeriodPs
        let windowPs = max(1, min(scenario.station.detectionWindowPs, periodPs))
        let channels = [scenario.station.channels.plus, scenario.station.channels.minus]
        guard case .barrettKok(let separationPs) = scenario.heraldingProtocol else {
            return HeraldWindows(attemptPeriodPs: periodPs, stationChannels: channels, stationLab: stationLab,
                                 first: HeraldWindow(startPs: 0, endPs: windowPs), second: nil)
        }
        let endPs = max(1, min(windowPs, separationPs))
        return HeraldWindows(attemptPeriodPs: periodPs, stationChannels: channels, stationLab: stationLab,
                             first: HeraldWindow(startPs: 0, endPs: endPs),
                             second: HeraldWindow(startPs: separationPs, endPs: min(periodPs, separationPs + endPs)))
    }

    static func check(_ configuration: LinkConfiguration, _ label: String) throws {
        let resolved = try ResolvedLink(configuration)
        let simulation = try ConfiguredSimulation(configuration: configuration)
        #expect(simulation.repetitionRateHz == resolved.attempts?.rateHz, "\(label)")
        switch simulation.scenario {
        case .heraldedLink(let scenario):
            // The station stream goes with the simulator's lab A stream (its node sends it).
            let stationLab = try #require(configuration.labs.firstIndex { $0.name == simulation.stream(.labA)?.name })
            #expect(resolved.heraldWindows == Self.simulatorWindows(scenario, stationLab: stationLab), "\(label)")
            #expect(scenario.attemptRateHz == resolved.attempts?.rateHz, "\(label)")
        case .pairSource:
            #expect(resolved.heraldWindows == nil, "\(label)")
        }
    }

    @Test("every shipped link configuration")
    func shippedConfigurations() throws {
        let directory = simulationProjectRoot.appendingPathComponent("configs")
        var checked = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where file.hasSuffix(".yaml") {
            let path = directory.appendingPathComponent(file).path
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard text.hasPrefix("labs:") || text.contains("\nlabs:") else { continue }   // plan files
            try Self.check(try LinkConfiguration.load(from: path), file)
            checked += 1
        }
        #expect(checked >= 3)
    }

    @Test("a seeded family of generated single-click and Barrett–Kok links", arguments: 0..<24)
    func generated(seed: Int) throws {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 17
        }
        func uniform() -> Double { Double(next() % 1_000_000) / 1_000_000 }
        let doubleClick = seed % 2 == 1
        // Rates from 10 kHz to 20 MHz (log-uniform); awkward ones do not divide 1 s into whole ps.
        let rateHz = (pow(10, 4 + uniform() * 3.3) * 1_000).rounded() / 1_000 + (seed % 3 == 0 ? 0.37 : 0)
        let periodPs = AttemptClock.periodPs(rateHz: rateHz)
        let separationPs: Int64? = doubleClick && seed % 4 == 1 ? max(2, Int64(Double(periodPs) * (0.2 + 0.5 * uniform()))) : nil
        let roundsRoom = doubleClick ? periodPs - (separationPs ?? periodPs / 2) : periodPs
        let windowPs = max(1, Int64(Double(roundsRoom - 1) * (0.05 + 0.9 * uniform())))
        let rateInSimulation = seed % 3 == 1
        let protocolText = doubleClick ? "{ kind: double_click }" : "{ kind: single_click, alpha: 0.1 }"
        let model = """
        model:
          protocol: \(protocolText)
          clock: { repetition_rate_hz: \(rateInSimulation ? 123_456 : rateHz) }
          midpoint: { visibility: 0.9, detectors: { efficiency: 0.8, window_ps: \(windowPs) } }
          arms:
            - { name: alice, stages: [{ kind: emitter, collection_efficiency: 0.5 }, { kind: fibre, length_km: \(seed % 5), loss_db_per_km: 0.2 }] }
            - { name: bob, stages: [{ kind: emitter, collection_efficiency: 0.4 }] }
        """
        var station: [String] = []
        if seed % 5 == 2 { station.append("channels: [40, 41]") }
        if let separationPs { station.append("round_separation_ps: \(separationPs)") }
        var simulation = "simulation:\n  seed: \(seed)\n"
        if rateInSimulation { simulation += "  repetition_rate_hz: \(rateHz)\n" }
        if seed % 6 == 3 { simulation += "  labs: [{ lab: bob }, { lab: alice }]\n" }
        if !station.isEmpty { simulation += "  station: { \(station.joined(separator: ", ")) }\n" }
        let configuration = try LinkConfiguration.parse(linkYAML(model: model, simulation: simulation), file: "generated-\(seed).yaml")
        try Self.check(configuration, "seed \(seed): \(rateHz) Hz, window \(windowPs) ps, separation \(separationPs.map(String.init) ?? "default")")
        #expect(try ResolvedLink(configuration).attempts?.rateHz == rateHz)
    }
}
