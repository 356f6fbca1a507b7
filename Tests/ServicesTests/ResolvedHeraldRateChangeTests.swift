import Foundation
import LinkModel
import Services
import Simulation
import Testing
import TimeTags

/// After a change of the attempt rate, the coordinator's herald windows are the resolved link's windows at the
/// new rate — the windows the simulator realises — also for a Barrett–Kok link with a configured round separation.
@Suite("Herald windows across a rate change follow the resolved link")
struct ResolvedHeraldRateChangeTests {
    static let model = """
    model:
      protocol: { kind: double_click }
      clock: { repetition_rate_hz: 1_000_000 }
      midpoint:
        visibility: 0.9
        detectors: { efficiency: 0.8, dark_count_rate_hz: 0, window_ps: 20_000, dead_time_ps: 0 }
      arms:
        - { name: alice, stages: [{ kind: emitter, collection_efficiency: 0.5 }, { kind: fibre, length_km: 1, loss_db_per_km: 0.5 }] }
        - { name: bob, stages: [{ kind: emitter, collection_efficiency: 0.5 }, { kind: fibre, length_km: 1, loss_db_per_km: 0.5 }] }
    simulation:
      seed: 11
      station: { round_separation_ps: 100_000 }
    """

    @Test func barrettKokWithAConfiguredSeparation() throws {
        let text = try String(contentsOfFile: SimulatedLiveAnalysisTests.demoPath, encoding: .utf8)
        let labs = text.range(of: "\nmodel:").map { String(text[..<$0.lowerBound]) } ?? text
        let configuration = try LinkConfiguration.parse(labs + "\n" + Self.model)
        let link = try ResolvedLink(configuration)
        let settings = try #require(ConfigurationMapping.heralds(link))
        #expect(settings.heraldProtocol == .barrettKok(secondWindowStartPs: 100_000, secondWindowEndPs: 120_000))
        let newRateHz = 2e6, changePs: Int64 = 20_000_000_000
        let windows = try #require(link.heraldWindows(attemptRateHz: newRateHz))
        #expect(windows.attemptPeriodPs == 500_000 && windows.second == HeraldWindow(startPs: 100_000, endPs: 120_000))

        func decider() -> HeraldDecider {
            HeraldDecider(repetitionPeriodPs: settings.repetitionPeriodPs, windowStartPs: settings.windowStartPs,
                          windowEndPs: settings.windowEndPs, stationChannels: settings.stationChannels,
                          heraldProtocol: settings.heraldProtocol)
        }
        // As the coordinator does: the resolved windows at the new rate; and the old rule (scaled with the period).
        var resolved = decider(), scaled = decider()
        resolved.changeRepetitionPeriod(to: windows.attemptPeriodPs, fromPs: changePs,
                                        heraldProtocol: ConfigurationMapping.heraldProtocol(windows))
        scaled.changeRepetitionPeriod(to: windows.attemptPeriodPs, fromPs: changePs)

        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: 2 * changePs)
        var simulator = try simulation.makeSimulator(rateChanges: [RepetitionRateChange(fromPs: changePs, rateHz: newRateHz)])
        var truth = 0, byResolved = 0, byScaled = 0
        while let step = simulator.next() {
            guard let station = step.chunk(.station)?.batch else { continue }
            truth += station.markers.filter { $0.marker == 1 || $0.marker == 2 }.count
            byResolved += resolved.process(station).filter { $0.outcome != .failure }.count
            byScaled += scaled.process(station).filter { $0.outcome != .failure }.count
        }
        #expect(truth > 1_000, "simulated heralds \(truth)")
        // Without dark counts or jitter every click lies in a window the simulator opened.
        #expect(byResolved == truth, "decided \(byResolved), simulated \(truth)")
        #expect(resolved.clicksOutsideWindow == 0)
        // Scaling the second window with the period (50 ns after the change) misses the second round.
        #expect(scaled.clicksOutsideWindow > 0 && byScaled < truth)
    }
}
