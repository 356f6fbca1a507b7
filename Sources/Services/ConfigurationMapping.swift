import Correlation
import Foundation
import LinkModel
import TimeTags

/// Builds service settings from a link configuration.
public enum ConfigurationMapping {
    /// Coordinator settings: endpoints, journal in the data directory, labs in configuration order (each bound
    /// to its node's certificate name and its detector channels), the live analysis when both labs label bases.
    public static func coordinator(_ configuration: LinkConfiguration, heralds: HeraldSettings?) -> CoordinatorSettings {
        let coordinator = configuration.coordinator
        var settings = CoordinatorSettings(controlEndpoint: coordinator.controlEndpoint.description,
                                           publishEndpoint: coordinator.publishEndpoint.description,
                                           journalPath: URL(fileURLWithPath: coordinator.dataDirectory).appendingPathComponent("journal.sqlite").path,
                                           labs: configuration.labs.map { lab in
                                               LabMember(name: lab.name, node: lab.node, channels: Set(lab.detectors.map(\.channel)))
                                           })
        settings.analysis = analysisLayout(configuration)
        settings.heralds = heralds
        return settings
    }

    /// The live analysis of the configuration's first two labs, or nil when the configuration does not resolve
    /// (``ResolvedLink/init(_:)`` says why) or no basis is known for a lab.
    public static func analysisLayout(_ configuration: LinkConfiguration) -> AnalysisLayout? {
        (try? ResolvedLink(configuration)).flatMap { analysisLayout($0) }
    }

    /// The live analysis of a resolved link's labs A and B, or nil when no basis is known for a lab.
    ///
    /// Each lab's outcome detectors, basis source and the target state are the resolved link's
    /// (``ResolvedLab/outcomeDetectors``, ``ResolvedLab/bases``, ``ResolvedLink/targetState``), and so is the CHSH
    /// combination (``ResolvedLink/chsh``, `correlation.chsh`) when one is configured. A heralded
    /// `model:` makes the analysis heralded: readouts are correlated per herald, each herald type against its
    /// own state.
    public static func analysisLayout(_ link: ResolvedLink) -> AnalysisLayout? {
        guard link.labs.count >= 2, link.labA.labelsBases, link.labB.labelsBases,
              let sourceA = basisSource(link.labA), let sourceB = basisSource(link.labB) else { return nil }
        var layout = AnalysisLayout(roles: roles(link.labA, side: .a) + roles(link.labB, side: .b), sourceA: sourceA, sourceB: sourceB)
        layout.heralded = link.station != nil
        if let state = bellState(link.targetState) { layout.target = state }
        layout.chsh = link.chsh.map { CHSHSettings(a: $0.a, aPrime: $0.aPrime, b: $0.b, bPrime: $0.bPrime) }
        return layout
    }

    /// The detector roles of a resolved lab's outcome detectors on `side` (with their configured efficiencies),
    /// channels shifted by `channelOffset`.
    public static func roles(_ lab: ResolvedLab, side: LabSide, channelOffset: TagChannel = 0) -> [DetectorRole] {
        lab.outcomeDetectors.compactMap { detector in
            detector.outcome.map {
                DetectorRole(channel: detector.channel &+ channelOffset, side: side, outcome: Outcome($0),
                             basis: detector.passiveBasis, efficiency: detector.efficiency)
            }
        }
    }

    /// The correlation engine's basis source of a resolved lab (marker numbers shifted by `markerOffset`);
    /// nil when the lab's basis is unknown.
    public static func basisSource(_ lab: ResolvedLab, markerOffset: Int32 = 0) -> BasisSource? {
        switch lab.bases {
        case nil: nil
        case .detectors: .detectors
        case .fixed(let basis): .fixed(basis)
        case .segments(let segments): .segments(segments.map { BasisSegment(startPs: $0.startPs, basis: $0.basis) })
        case .markers(let map):
            .markers(Dictionary(map.map { ($0.key &+ markerOffset, $0.value) }, uniquingKeysWith: { first, _ in first }))
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

extension Outcome {
    /// The engine's outcome of a resolved detector's outcome.
    init(_ outcome: DetectorOutcome) { self = outcome == .plus ? .plus : .minus }
}
