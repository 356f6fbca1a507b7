/// A 2→1 entanglement distillation protocol (`plan.distillation.scheme`, `simulation.distillation.scheme`).
///
/// The planner's closed forms (`Planner`'s `DistillationScheme.distil`) and the simulator's distillation
/// stage both read this one description.
public enum DistillationScheme: String, Sendable, Equatable, Codable, CaseIterable {
    /// Deutsch, Ekert, Jozsa, Macchiavello, Popescu and Sanpera, PRL 77, 2818 (1996): local rotations, a
    /// bilateral CNOT and a Z measurement of the target pair; works on any Bell-diagonal state.
    case dejmps
    /// Bennett, Brassard, Popescu, Schumacher, Smolin and Wootters, PRL 76, 722 (1996): both inputs and
    /// the output are twirled to Werner states.
    case bbpssw
}

/// The `distillation` section (`plan.distillation` of a plan file, `simulation.distillation` of a link
/// configuration): keep a heralded pair in memory and distil it with fresh ones, with a memory cut-off.
///
/// ```yaml
/// distillation:
///   scheme: dejmps            # or bbpssw
///   rounds: 1                 # 1: two pairs make one; n > 1: entanglement pumping, n fresh pairs into the kept one
///   cutoff_ps: 20_000_000     # optional: discard a stored pair after this long (default: never)
///   storage: { coherence_time_ps: …, decay: exponential, dephasing_per_attempt: … }   # optional
/// ```
public struct DistillationSettings: Codable, Sendable, Equatable {
    /// The protocol.
    public var scheme: DistillationScheme
    /// Fresh pairs merged into the kept pair: 1 for 2→1, more for pumping.
    public var rounds: Int
    /// The memory cut-off in picoseconds, nil for none.
    public var cutoffPs: Int64?
    /// The memory that stores the kept pair in each lab, when it is not the arm's memory stage (such as a
    /// nuclear spin beside an NV electron spin).
    public var storage: Memory?

    public init(scheme: DistillationScheme = .dejmps, rounds: Int = 1, cutoffPs: Int64? = nil, storage: Memory? = nil) {
        self.scheme = scheme
        self.rounds = rounds
        self.cutoffPs = cutoffPs
        self.storage = storage
    }

    enum CodingKeys: String, CodingKey {
        case scheme, rounds, cutoffPs, storage
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decodeIfPresent(String.self, forKey: .scheme) ?? DistillationScheme.dejmps.rawValue
        guard let scheme = DistillationScheme(rawValue: name) else {
            throw container.invalid(.scheme, "'\(name)' is not a distillation scheme; expected "
                + DistillationScheme.allCases.map(\.rawValue).joined(separator: " or "))
        }
        self.scheme = scheme
        rounds = try container.decode(Int.self, forKey: .rounds, in: 1...20, default: 1,
                                      what: "a number of distillation rounds (1 for 2→1, more for pumping)")
        cutoffPs = try container.decodeIfPresent(Int64.self, forKey: .cutoffPs)
        if let cutoff = cutoffPs, cutoff < 1 {
            throw container.invalid(.cutoffPs, "\(cutoff) is out of range; expected a cut-off of at least 1 ps (omit the key for none)")
        }
        storage = try container.decodeIfPresent(Memory.self, forKey: .storage)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scheme, forKey: .scheme)
        try container.encode(rounds, forKey: .rounds)
        try container.encodeIfPresent(cutoffPs, forKey: .cutoffPs)
        try container.encodeIfPresent(storage, forKey: .storage)
    }
}

/// A distillation section resolved on a link: the memory that holds the kept pair in each lab and the time
/// the labs take to exchange their measurement outcomes. The planner's `DistillationModel` and the
/// simulator's distillation stage are both built from it.
public struct ResolvedDistillation: Codable, Sendable, Equatable {
    /// The section.
    public var settings: DistillationSettings
    /// The memories that hold the kept pair, lab A's (arm 0) first.
    public var memories: [Memory]
    /// Time for the labs to exchange their measurement outcomes, in picoseconds: the lab-to-lab light round
    /// trip 2·(τ_A + τ_B) plus the link's classical latency.
    public var classicalTimePs: Int64

    public init(settings: DistillationSettings, memories: [Memory], classicalTimePs: Int64) {
        self.settings = settings
        self.memories = memories
        self.classicalTimePs = classicalTimePs
    }

    /// `settings` on `description`: the storage memory of the settings, or each arm's memory stage.
    /// - Returns: nil when an arm has no memory to hold the kept pair and the settings name none.
    public init?(settings: DistillationSettings, description: LinkDescription) {
        var memories: [Memory] = []
        for arm in description.arms {
            guard let memory = settings.storage ?? arm.memory else { return nil }
            memories.append(memory)
        }
        let oneWay = description.arms[0].groupDelayPs + description.arms[1].groupDelayPs
        self.init(settings: settings, memories: memories, classicalTimePs: 2 * oneWay + description.clock.classicalLatencyPs)
    }
}
