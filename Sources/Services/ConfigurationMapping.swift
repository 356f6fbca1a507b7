import Correlation
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
        settings.analysis = analysisLayout(configuration)
        settings.heralds = heralds
        return settings
    }

    /// The live analysis of the configuration's first two labs, or nil when no basis is known for a lab.
    ///
    /// Outcome detectors: a simulated lab's two channels (`simulation.labs[].channels`, default its first two
    /// detectors) as outcomes +1/−1; otherwise the detectors named H/V/D/A/R/L (or +/−). Basis of each lab, in
    /// order of precedence: its `correlation.bases` entry (basis, segments or markers); the simulated lab's
    /// `bases` schedule (one setting: fixed; several with markers: marker `marker_base + i` → setting `i`,
    /// `z`/`x`/`y` as Z/X/Y); the detector names. Target state: `correlation.target_state` if given, else the
    /// simulated pair source's `simulation.state` when there is a model, else Ψ⁻. A heralded `model:` makes the
    /// analysis heralded: readouts are correlated per herald, each herald type against its own state.
    public static func analysisLayout(_ configuration: LinkConfiguration) -> AnalysisLayout? {
        guard configuration.labs.count >= 2 else { return nil }
        let simulation = configuration.model == nil ? nil : configuration.simulation ?? SimulationSettings()
        var roles: [DetectorRole] = []
        var sources: [BasisSource] = []
        for (lab, side) in [(configuration.labs[0], LabSide.a), (configuration.labs[1], .b)] {
            let simulated = simulation.flatMap { settings in
                settings.labs.isEmpty ? SimulatedLab(lab: lab.name) : settings.labs.first { $0.lab == lab.name }
            }
            if let simulated {
                let channels = simulated.channels ?? Array(lab.detectors.prefix(2).map(\.channel))
                guard channels.count == 2 else { return nil }
                roles.append(DetectorRole(channel: channels[0], side: side, outcome: .plus))
                roles.append(DetectorRole(channel: channels[1], side: side, outcome: .minus))
            } else {
                roles += lab.detectors.compactMap { DetectorRole.fromName($0.name, channel: $0.channel, side: side) }
            }
            if let entry = configuration.correlation?.bases.first(where: { $0.lab == lab.name }) {
                if let basis = entry.basis {
                    sources.append(.fixed(basis))
                } else if !entry.segments.isEmpty {
                    sources.append(.segments(entry.segments.map { BasisSegment(startPs: $0.startPs, basis: $0.basis) }))
                } else {
                    sources.append(.markers(Dictionary(entry.markers.map { ($0.marker, $0.basis) }, uniquingKeysWith: { first, _ in first })))
                }
            } else if let simulated {
                let labels = simulated.bases.settings.map(basisLabel)
                if labels.count == 1 {
                    sources.append(.fixed(labels[0]))
                } else if simulated.bases.markers {
                    var map: [Int32: String] = [:]
                    for (index, label) in labels.enumerated() { map[simulated.bases.markerBase + Int32(index)] = label }
                    sources.append(.markers(map))
                } else {
                    return nil
                }
            } else {
                sources.append(.detectors)
            }
        }
        let sideRoles = [roles.filter { $0.side == .a }, roles.filter { $0.side == .b }]
        for side in 0..<2 {
            if case .detectors = sources[side], !sideRoles[side].contains(where: { $0.basis != nil }) { return nil }
            if sideRoles[side].isEmpty { return nil }
        }
        var layout = AnalysisLayout(roles: roles, sourceA: sources[0], sourceB: sources[1])
        layout.heralded = configuration.model?.protocol.heraldsAtMidpoint ?? false
        if let state = bellState(configuration.correlation?.targetState ?? (simulation != nil ? simulation?.state : nil)) {
            layout.target = state
        }
        return layout
    }

    /// The analysis label of a simulated basis setting: `z`, `x`, `y` → Z, X, Y; angles as written.
    static func basisLabel(_ setting: String) -> String {
        switch setting.lowercased() {
        case "z": "Z"
        case "x": "X"
        case "y": "Y"
        default: setting
        }
    }

    /// A Bell state from its configuration spelling (`phi_plus`, …).
    static func bellState(_ name: String?) -> BellState? {
        switch name?.lowercased().replacingOccurrences(of: "-", with: "_") {
        case "phi_plus": .phiPlus
        case "phi_minus": .phiMinus
        case "psi_plus": .psiPlus
        case "psi_minus": .psiMinus
        default: nil
        }
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
}
