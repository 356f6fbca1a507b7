import Correlation
import LinkModel
import Services
import TimeTags

/// What `qlink correlate` does, resolved from the configuration and the options: pairs and window, detector
/// roles, bases, delays, heralds and the clock relation. Channels are internal numbers (file B shifted by
/// ``bChannelOffset`` when there are two files).
struct CorrelationSetup {
    enum Clock { case shared(Int64), independent(maxOffsetPs: Int64) }

    let twoFiles: Bool
    let windowPs: Int64
    let clock: Clock
    let pairs: [ChannelPair]
    let roles: [DetectorRole]
    let sourceA: BasisSource
    let sourceB: BasisSource
    let delaysPs: [TagChannel: Int64]
    let heraldPatterns: [HeraldPattern]
    let heraldWindowA: CoincidenceWindow?
    let heraldWindowB: CoincidenceWindow?
    let target: BellState
    let chsh: CHSHSettings?
    let labNames: (String, String)
    /// Poisson-bootstrap replicates for the raw fidelity and CHSH S intervals (0: none).
    var bootstrapReplicates = 0

    /// The setup for `configuration` resolved as a ``ResolvedLink`` (outcome detectors, bases, delays, target,
    /// herald patterns, clock relation), or the defaults without one.
    init(configuration: LinkConfiguration?, twoFiles: Bool, pairsText: String?, windowPs: Int64?) throws {
        self.twoFiles = twoFiles
        let link = try configuration.map { configuration throws(ConfigurationError) in try ResolvedLink(configuration) }
        let defaults = CorrelationConfiguration()
        self.windowPs = windowPs ?? link?.coincidenceWindowPs ?? defaults.windowPs
        switch link?.clock ?? .independent(maxOffsetPs: defaults.maxOffsetPs) {
        case .shared(let offsetPs): clock = .shared(offsetPs)
        case .independent(let maxOffsetPs): clock = .independent(maxOffsetPs: maxOffsetPs)
        }
        let labs = link.map { Array($0.labs.prefix(2)) } ?? []
        labNames = labs.count == 2 ? (labs[0].name, labs[1].name) : ("A", "B")
        let shift: (LabSide, TagChannel) -> TagChannel = { side, channel in
            twoFiles && side == .b ? channel &+ bChannelOffset : channel
        }
        // Detector roles, delays and which lab each configured channel belongs to.
        var roles: [DetectorRole] = []
        var delays: [TagChannel: Int64] = [:]
        var sideOf: [TagChannel: LabSide] = [:]
        for (index, lab) in labs.enumerated() {
            let side: LabSide = index == 0 ? .a : .b
            for detector in lab.detectors {
                sideOf[detector.channel] = side
                if let delay = link?.delaysPs[detector.channel] { delays[shift(side, detector.channel)] = -delay }
            }
            roles += ConfigurationMapping.roles(lab, side: side, channelOffset: shift(side, 0))
        }
        self.roles = roles
        // Pairs: given, or every lab A × lab B outcome detector.
        if let pairsText {
            var parsed: [ChannelPair] = []
            for (a, b) in try CorrelateCommand.parsePairs(pairsText) {
                if configuration != nil {
                    if twoFiles {
                        guard sideOf[a] == .a else { throw CommandFailure("channel \(a) is not a detector of lab '\(labNames.0)' (file A) in the configuration") }
                        guard sideOf[b] == .b else { throw CommandFailure("channel \(b) is not a detector of lab '\(labNames.1)' (file B) in the configuration") }
                    } else {
                        for channel in [a, b] where sideOf[channel] == nil {
                            throw CommandFailure("channel \(channel) is not a detector in the configuration")
                        }
                    }
                }
                parsed.append(ChannelPair(a, shift(.b, b)))
            }
            pairs = parsed
        } else {
            let a = roles.filter { $0.side == .a }.map(\.channel), b = roles.filter { $0.side == .b }.map(\.channel)
            pairs = a.flatMap { first in b.map { ChannelPair(first, $0) } }
            guard !pairs.isEmpty else {
                throw CommandFailure("no channel pairs: give --pairs (e.g. --pairs 1:3,2:4) or a configuration whose labs have outcome detectors (H/V/D/A/R/L/+/-)")
            }
        }
        // Basis sources: the resolved labs' (correlation.bases, else the simulation's markers, else the names).
        sourceA = labs.count == 2 ? ConfigurationMapping.basisSource(labs[0]) ?? .detectors : .detectors
        sourceB = labs.count == 2 ? ConfigurationMapping.basisSource(labs[1], markerOffset: shift(.b, 0)) ?? .detectors : .detectors
        // Heralds: channels of lab B's detectors live in file B; others in file A.
        if let heralds = link?.heraldPatterns {
            func internalChannel(_ channel: Int32) -> TagChannel { shift(sideOf[channel] ?? .a, channel) }
            heraldPatterns = try heralds.patterns.map { pattern in
                HeraldPattern(state: try Self.state(pattern.state), reference: internalChannel(pattern.channel),
                              requirements: try pattern.requires.map {
                                  .init(channel: internalChannel($0.channel), window: try CoincidenceWindow(lowerPs: $0.lowerPs, upperPs: $0.upperPs))
                              })
            }
            heraldWindowA = try CoincidenceWindow(lowerPs: heralds.windowA.lowerPs, upperPs: heralds.windowA.upperPs)
            heraldWindowB = try CoincidenceWindow(lowerPs: heralds.windowB.lowerPs, upperPs: heralds.windowB.upperPs)
        } else {
            heraldPatterns = []; heraldWindowA = nil; heraldWindowB = nil
        }
        target = try Self.state(link?.targetState ?? "phi_plus")
        chsh = link?.chsh.map { CHSHSettings(a: $0.a, aPrime: $0.aPrime, b: $0.b, bPrime: $0.bPrime) }
            ?? (labs.count == 2 ? Self.simulatedCHSH(labs[0], labs[1]) : nil)
        delaysPs = delays
    }

    /// CHSH settings from the simulated basis schedules when neither lab has a `correlation.bases` entry and each
    /// announces exactly two settings by markers, and the labs' settings differ (a Bell test, not a Z/X
    /// tomography): a, a′ and b, b′ in marker order.
    static func simulatedCHSH(_ labA: ResolvedLab, _ labB: ResolvedLab) -> CHSHSettings? {
        func settings(_ lab: ResolvedLab) -> [String]? {
            guard lab.basesOrigin == .simulation, case .markers(let map) = lab.bases, map.count == 2 else { return nil }
            return map.keys.sorted().compactMap { map[$0] }
        }
        guard let a = settings(labA), let b = settings(labB), Set(a) != Set(b) else { return nil }
        return CHSHSettings(a: a[0], aPrime: a[1], b: b[0], bPrime: b[1])
    }

    static func state(_ name: String) throws -> BellState {
        switch name {
        case "phi_plus": .phiPlus
        case "phi_minus": .phiMinus
        case "psi_plus": .psiPlus
        case "psi_minus": .psiMinus
        default: throw CommandFailure("unknown Bell state '\(name)'")
        }
    }

    /// The original channel numbers of an internal channel, with its file when there are two.
    func display(_ pair: ChannelPair) -> String {
        twoFiles ? "A ch \(pair.first) → B ch \(pair.second &- bChannelOffset)" : "ch \(pair.first) → ch \(pair.second)"
    }

    func original(_ channel: TagChannel) -> (channel: TagChannel, lab: String?) {
        if twoFiles { return channel >= bChannelOffset ? (channel &- bChannelOffset, labNames.1) : (channel, labNames.0) }
        return (channel, nil)
    }
}
