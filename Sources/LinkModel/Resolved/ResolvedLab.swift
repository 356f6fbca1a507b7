/// One of a detector's two outcomes.
public enum DetectorOutcome: Sendable, Equatable {
    case plus, minus
}

/// One detector channel of a resolved lab: its configuration and what it records.
public struct ResolvedDetector: Sendable, Equatable {
    /// Channel number as the lab's tagger reports it.
    public var channel: Int32
    /// The configured name (`H`, `V`, `plus`, `herald`, …).
    public var name: String
    /// Delay subtracted from every tag of the channel, in ps.
    public var delayPs: Int64
    /// The outcome the channel records, nil for channels that record none (heralds, monitors).
    public var outcome: DetectorOutcome?
    /// Passive basis choice: the basis the name implies (H/V → `Z`, D/A → `X`, R/L → `Y`); nil otherwise.
    public var passiveBasis: String?
    /// The configured detection efficiency (0…1, default 1).
    public var efficiency: Double

    public init(channel: Int32, name: String, delayPs: Int64 = 0, outcome: DetectorOutcome?, passiveBasis: String?,
                efficiency: Double = 1) {
        self.channel = channel
        self.name = name
        self.delayPs = delayPs
        self.outcome = outcome
        self.passiveBasis = passiveBasis
        self.efficiency = efficiency
    }

    /// The outcome and passive basis a detector name implies: H/V → Z ±, D/A → X ±, R/L → Y ±,
    /// `+`/`plus`/`0` and `-`/`minus`/`1` → ± with the basis set elsewhere; nil for other names.
    public static func role(named name: String) -> (outcome: DetectorOutcome, passiveBasis: String?)? {
        switch name.lowercased() {
        case "h": (.plus, "Z")
        case "v": (.minus, "Z")
        case "d": (.plus, "X")
        case "a": (.minus, "X")
        case "r": (.plus, "Y")
        case "l": (.minus, "Y")
        case "+", "plus", "0": (.plus, nil)
        case "-", "−", "minus", "1": (.minus, nil)
        default: nil
        }
    }
}

/// Where a lab's measurement basis comes from.
public enum LabBasisSource: Sendable, Equatable {
    /// Each outcome detector's passive basis (``ResolvedDetector/passiveBasis``).
    case detectors
    /// One basis for the whole run.
    case fixed(String)
    /// Bases by time segment on the lab's own clock, sorted by start.
    case segments([LabBases.Segment])
    /// Marker events announce the basis in force from then on: marker number → basis.
    case markers([Int32: String])
}

/// One lab of a resolved link: its node, every detector, the detectors that record outcomes and where its
/// basis comes from.
public struct ResolvedLab: Sendable, Equatable {
    /// Which section of the configuration the lab's bases come from.
    public enum BasesOrigin: String, Sendable, Equatable {
        /// The lab's `correlation.bases` entry.
        case correlation
        /// The simulated lab's `bases` schedule (`simulation.labs[].bases`, or the default fixed Z).
        case simulation
        /// The outcome detectors' names (H/V/D/A/R/L).
        case detectorNames
    }

    /// The lab's name.
    public var name: String
    /// The lab's node service.
    public var node: String
    /// Every detector of the lab, in configuration order.
    public var detectors: [ResolvedDetector]
    /// The detectors that record outcomes: a simulated lab's two channels (`simulation.labs[].channels`,
    /// default its first two detectors) as +1 and −1; otherwise the detectors whose names imply an outcome.
    /// Their passive basis is kept only when ``bases`` is ``LabBasisSource/detectors``.
    public var outcomeDetectors: [ResolvedDetector]
    /// Where the basis comes from; nil when no source says (a simulated schedule of several settings
    /// that announces them without markers).
    public var bases: LabBasisSource?
    /// The section ``bases`` was taken from.
    public var basesOrigin: BasesOrigin
    /// The lab's simulation settings when the link has a model the simulator rehearses.
    public var simulated: SimulatedLab?

    /// Resolves `lab`; `entry` is its `correlation.bases` entry, `simulated` its simulation settings (nil
    /// when the link is not simulated).
    init(_ lab: LabConfiguration, entry: LabBases?, simulated: SimulatedLab?) {
        name = lab.name
        node = lab.node
        let all = lab.detectors.map { detector in
            let role = ResolvedDetector.role(named: detector.name)
            return ResolvedDetector(channel: detector.channel, name: detector.name, delayPs: detector.delayPs,
                                    outcome: role?.outcome, passiveBasis: role?.passiveBasis, efficiency: detector.efficiency)
        }
        detectors = all
        self.simulated = simulated
        if let simulated {
            let channels = simulated.channels ?? all.prefix(2).map(\.channel)
            let chosen = channels.compactMap { channel in all.first { $0.channel == channel } }
            outcomeDetectors = chosen.count == 2
                ? zip(chosen, [DetectorOutcome.plus, .minus]).map { detector, outcome in
                    var detector = detector
                    detector.outcome = outcome
                    return detector
                }
                : []
        } else {
            outcomeDetectors = all.filter { $0.outcome != nil }
        }
        if let entry {
            basesOrigin = .correlation
            if let basis = entry.basis {
                bases = .fixed(basis)
            } else if !entry.segments.isEmpty {
                bases = .segments(entry.segments.sorted { $0.startPs < $1.startPs })
            } else {
                bases = .markers(Dictionary(entry.markers.map { ($0.marker, $0.basis) }, uniquingKeysWith: { first, _ in first }))
            }
        } else if let simulated {
            basesOrigin = .simulation
            let labels = simulated.bases.settings.map(Self.basisLabel)
            if labels.count == 1 {
                bases = .fixed(labels[0])
            } else if simulated.bases.markers {
                var map: [Int32: String] = [:]
                for (index, label) in labels.enumerated() { map[simulated.bases.markerBase + Int32(index)] = label }
                bases = .markers(map)
            } else {
                bases = nil
            }
        } else {
            basesOrigin = .detectorNames
            bases = .detectors
        }
        if bases != .detectors {
            // An active basis choice: the names' bases do not apply.
            outcomeDetectors = outcomeDetectors.map { detector in
                var detector = detector
                detector.passiveBasis = nil
                return detector
            }
        }
    }

    /// The analysis label of a simulated basis setting: `z`, `x`, `y` → `Z`, `X`, `Y`; angles as written.
    public static func basisLabel(_ setting: String) -> String {
        switch setting.lowercased() {
        case "z": "Z"
        case "x": "X"
        case "y": "Y"
        default: setting
        }
    }

    /// Whether every outcome can be given a basis: a basis source is known and, for passive choice, some
    /// outcome detector implies one.
    public var labelsBases: Bool {
        guard let bases, !outcomeDetectors.isEmpty else { return false }
        if case .detectors = bases { return outcomeDetectors.contains { $0.passiveBasis != nil } }
        return true
    }
}
