import Foundation
import LinkModel
import TimeTags

/// Builds service settings from a link configuration.
public enum ConfigurationMapping {
    /// The detector channels of `lab` named H, V, D and A, in that order, if it has all four.
    public static func basisChannels(_ lab: LabConfiguration) -> [TagChannel]? {
        let byName = Dictionary(lab.detectors.map { ($0.name.uppercased(), $0.channel) }, uniquingKeysWith: { first, _ in first })
        let channels = ["H", "V", "D", "A"].compactMap { byName[$0] }
        return channels.count == 4 ? channels : nil
    }

    /// Coordinator settings: endpoints, journal in the data directory, labs in configuration order, the
    /// Z/X analysis when both labs have H, V, D and A detectors.
    public static func coordinator(_ configuration: LinkConfiguration, heralds: HeraldSettings?) -> CoordinatorSettings {
        let coordinator = configuration.coordinator
        var settings = CoordinatorSettings(controlEndpoint: coordinator.controlEndpoint.description,
                                           publishEndpoint: coordinator.publishEndpoint.description,
                                           journalPath: URL(fileURLWithPath: coordinator.dataDirectory).appendingPathComponent("journal.sqlite").path,
                                           labs: configuration.labs.map(\.name))
        if configuration.labs.count >= 2, let a = basisChannels(configuration.labs[0]), let b = basisChannels(configuration.labs[1]) {
            settings.analysis = AnalysisLayout(channelsA: a, channelsB: b)
        }
        settings.heralds = heralds
        return settings
    }

    /// Node settings for `lab`: spool in `dataDirectory`.
    public static func node(_ configuration: LinkConfiguration, lab: String, dataDirectory: String, source: TagSourceSpec) throws -> NodeSettings {
        guard let labConfiguration = configuration.lab(named: lab) else {
            throw ServiceFailure(what: "node", detail: "no lab named '\(lab)' in the configuration (labs: \(configuration.labs.map(\.name).joined(separator: ", ")))")
        }
        return NodeSettings(node: labConfiguration.node, lab: lab,
                            controlEndpoint: configuration.coordinator.controlEndpoint.description,
                            publishEndpoint: configuration.coordinator.publishEndpoint.description,
                            spoolPath: URL(fileURLWithPath: dataDirectory).appendingPathComponent("\(lab)-spool.sqlite").path,
                            source: source)
    }

    /// The synthetic link whose channels match the configuration's labs (H, V, D, A each).
    public static func syntheticLink(_ configuration: LinkConfiguration, seed: UInt64) -> SyntheticLink.Parameters {
        var parameters = SyntheticLink.Parameters()
        parameters.seed = seed
        if configuration.labs.count >= 2, let a = basisChannels(configuration.labs[0]), let b = basisChannels(configuration.labs[1]) {
            parameters.channelsA = a
            parameters.channelsB = b
        }
        return parameters
    }

    /// Herald settings matching the synthetic link's station.
    public static func syntheticHeralds(_ parameters: SyntheticLink.Parameters) -> HeraldSettings {
        HeraldSettings(repetitionPeriodPs: parameters.repetitionPeriodPs,
                       windowStartPs: parameters.stationDelayPs - parameters.repetitionPeriodPs / 10,
                       windowEndPs: parameters.stationDelayPs + parameters.repetitionPeriodPs / 10,
                       stationChannels: parameters.stationChannels, stationLab: 0)
    }
}
