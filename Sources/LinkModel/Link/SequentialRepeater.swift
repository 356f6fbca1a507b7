/// The `plan.sequential_repeater` section of a plan file: plan the link as each of the two segments of the single
/// sequential repeater of Rozpędek et al., Quantum Sci. Technol. 3, 034002 (2018) (`docs/planner.md`, "The single
/// sequential repeater"). The node is lab A (arm 0) of both segments; it keeps its qubit of the first segment's pair
/// while the second segment attempts, under the memory cut-off the planner optimises.
///
/// ```yaml
/// sequential_repeater:
///   storage: { dephasing_per_attempt: 2.0e-4 }   # optional: the node's memory (default: arm 0's memory stage)
/// ```
public struct SequentialRepeaterSettings: Codable, Sendable, Equatable {
    /// The memory that holds the node's qubit while the second segment attempts, when it is not arm 0's memory stage
    /// (such as a nuclear spin beside an NV electron spin).
    public var storage: Memory?

    public init(storage: Memory? = nil) {
        self.storage = storage
    }
}

/// A sequential-repeater section resolved on a link: the memory that holds the node's qubit.
public struct ResolvedSequentialRepeater: Codable, Sendable, Equatable {
    /// The section.
    public var settings: SequentialRepeaterSettings
    /// The node's memory: the section's `storage`, else arm 0's memory stage.
    public var memory: Memory

    public init(settings: SequentialRepeaterSettings, memory: Memory) {
        self.settings = settings
        self.memory = memory
    }

    /// `settings` on `description`.
    /// - Returns: nil when arm 0 has no memory stage and the settings name no storage.
    public init?(settings: SequentialRepeaterSettings, description: LinkDescription) {
        guard let memory = settings.storage ?? description.arms.first?.memory else { return nil }
        self.init(settings: settings, memory: memory)
    }
}
