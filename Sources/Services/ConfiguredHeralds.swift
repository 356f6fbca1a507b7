import LinkModel
import Simulation
import TimeTags

extension ConfigurationMapping {
    /// Herald settings for the configured link (`model:` and `simulation:` sections), as the simulator
    /// realises it: for a heralded link, attempts every `1/attempt rate`, the station's two detectors
    /// (ψ⁺, ψ⁻) recorded by lab A's tagger, clicks accepted in the station's detection window from each
    /// attempt start (Barrett–Kok: a second window one round separation later). Nil for a pair-source link
    /// (nothing to herald) or a configuration without a model.
    /// - Throws: the simulator's error when the `model:`/`simulation:` sections do not resolve.
    public static func heralds(_ configuration: LinkConfiguration) throws -> HeraldSettings? {
        guard configuration.model != nil else { return nil }
        let simulation = try ConfiguredSimulation(configuration: configuration)
        guard case .heraldedLink(let scenario) = simulation.scenario else { return nil }
        let periodPs = scenario.attemptPeriodPs
        let windowPs = max(1, min(scenario.station.detectionWindowPs, periodPs))
        var settings = HeraldSettings(repetitionPeriodPs: periodPs, windowStartPs: 0, windowEndPs: windowPs,
                                      stationChannels: [scenario.station.channels.plus, scenario.station.channels.minus], stationLab: 0)
        if case .barrettKok(let separationPs) = scenario.heraldingProtocol {
            settings.windowEndPs = max(1, min(windowPs, separationPs))
            settings.heraldProtocol = .barrettKok(secondWindowStartPs: separationPs, secondWindowEndPs: min(periodPs, separationPs + settings.windowEndPs))
        }
        return settings
    }
}
