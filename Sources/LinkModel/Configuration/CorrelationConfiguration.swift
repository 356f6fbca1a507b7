/// How `qlink correlate` and the coordinator correlate the labs' tag streams (the optional `correlation`
/// section of a link configuration). Lab A is `labs[0]`, lab B is `labs[1]`.
public struct CorrelationConfiguration: Decodable, Sendable, Equatable {
    /// How the two labs' clocks are related.
    public enum ClockReference: String, Decodable, Sendable, Equatable {
        /// Independent clocks: offset recovered from the data and drift tracked.
        case independent
        /// A shared reference (10 MHz + PPS, White Rabbit): only `shared_offset_ps` remains; no recovery.
        case shared
    }

    public var clockReference: ClockReference
    /// `t_B − t_A` for the same pair under a shared reference, in picoseconds.
    public var sharedOffsetPs: Int64
    /// Largest clock offset searched for independent clocks, in picoseconds (either sign).
    public var maxOffsetPs: Int64
    /// Half-width of the coincidence window, in picoseconds.
    public var windowPs: Int64
    /// The Bell state fidelities are computed against (`phi_plus`, `phi_minus`, `psi_plus`, `psi_minus`);
    /// nil when not given (``ResolvedLink/targetState`` then decides).
    public var targetState: String?
    /// Per-lab basis settings (active basis choice); absent labs use their detectors' names.
    public var bases: [LabBases]
    /// CHSH settings, if a CHSH test was run.
    public var chsh: CHSHConfiguration?
    /// Heralded mode, if heralds select the windows.
    public var heralds: HeraldConfiguration?

    enum CodingKeys: String, CodingKey {
        case clockReference, sharedOffsetPs, maxOffsetPs, windowPs, targetState, bases, chsh, heralds
    }

    /// The defaults: independent clocks, ±10 ms search, ±500 ps window, no target state, no bases.
    public init() {
        clockReference = .independent; sharedOffsetPs = 0; maxOffsetPs = 10_000_000_000; windowPs = 500
        targetState = nil; bases = []; chsh = nil; heralds = nil
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        clockReference = try container.decodeIfPresent(ClockReference.self, forKey: .clockReference) ?? .independent
        sharedOffsetPs = try container.decode(Int64.self, forKey: .sharedOffsetPs, in: -1_000_000_000_000...1_000_000_000_000,
                                              default: 0, what: "an offset in picoseconds (±1 s)")
        maxOffsetPs = try container.decode(Int64.self, forKey: .maxOffsetPs, in: 1_000...1_000_000_000_000,
                                           default: 10_000_000_000, what: "a search range in picoseconds")
        windowPs = try container.decode(Int64.self, forKey: .windowPs, in: 0...1_000_000_000, default: 500,
                                        what: "a window half-width in picoseconds")
        targetState = try container.decodeIfPresent(String.self, forKey: .targetState)
        if let targetState, !SimulationSettings.stateNames.contains(targetState) {
            throw container.invalid(.targetState, "'\(targetState)' is not a Bell state; use phi_plus, phi_minus, psi_plus or psi_minus")
        }
        bases = try container.decodeIfPresent([LabBases].self, forKey: .bases) ?? []
        chsh = try container.decodeIfPresent(CHSHConfiguration.self, forKey: .chsh)
        heralds = try container.decodeIfPresent(HeraldConfiguration.self, forKey: .heralds)
    }
}

/// One lab's basis settings: a basis for the whole file, bases by time segment, or marker numbers.
public struct LabBases: Decodable, Sendable, Equatable {
    /// The lab (a name from `labs`).
    public var lab: String
    public var basis: String?
    public var segments: [Segment]
    public var markers: [Marker]

    public struct Segment: Decodable, Sendable, Equatable {
        /// Start on the lab's own clock, in picoseconds.
        public var startPs: Int64
        public var basis: String
    }

    public struct Marker: Decodable, Sendable, Equatable {
        /// Marker number as the time tagger reports it.
        public var marker: Int32
        public var basis: String
    }

    enum CodingKeys: String, CodingKey { case lab, basis, segments, markers }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        lab = try container.decode(String.self, forKey: .lab)
        basis = try container.decodeIfPresent(String.self, forKey: .basis)
        segments = try container.decodeIfPresent([Segment].self, forKey: .segments) ?? []
        markers = try container.decodeIfPresent([Marker].self, forKey: .markers) ?? []
        let given = (basis != nil ? 1 : 0) + (segments.isEmpty ? 0 : 1) + (markers.isEmpty ? 0 : 1)
        guard given == 1 else {
            throw container.invalid(.basis, "give exactly one of basis, segments or markers for lab '\(lab)'")
        }
    }
}

/// CHSH settings: lab A's `a`, `a_prime` and lab B's `b`, `b_prime` (basis labels).
public struct CHSHConfiguration: Decodable, Sendable, Equatable {
    public var a: String
    public var aPrime: String
    public var b: String
    public var bPrime: String
}

/// Heralded mode: herald patterns on station channels and the labs' outcome windows after a herald.
public struct HeraldConfiguration: Decodable, Sendable, Equatable {
    public var patterns: [Pattern]
    /// Lab A's outcome window relative to the herald, in picoseconds.
    public var windowA: Window
    /// Lab B's outcome window relative to the herald, in picoseconds.
    public var windowB: Window

    public struct Window: Decodable, Sendable, Equatable {
        public var lowerPs: Int64
        public var upperPs: Int64
    }

    /// One herald type: the reference channel and further channels required in windows after it.
    public struct Pattern: Decodable, Sendable, Equatable {
        /// `psi_plus`, `psi_minus`, `phi_plus` or `phi_minus`.
        public var state: String
        public var channel: Int32
        public var requires: [Requirement]

        enum CodingKeys: String, CodingKey { case state, channel, requires }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            state = try container.decode(String.self, forKey: .state)
            guard ["phi_plus", "phi_minus", "psi_plus", "psi_minus"].contains(state) else {
                throw container.invalid(.state, "'\(state)' is not a Bell state; use psi_plus, psi_minus, phi_plus or phi_minus")
            }
            channel = try container.decode(Int32.self, forKey: .channel)
            requires = try container.decodeIfPresent([Requirement].self, forKey: .requires) ?? []
        }
    }

    public struct Requirement: Decodable, Sendable, Equatable {
        public var channel: Int32
        public var lowerPs: Int64
        public var upperPs: Int64
    }
}
