/// Any simulated scenario: the input a command or a test hands to ``LinkSimulator``.
public enum SimulationScenario: Sendable, Equatable, Codable {
    /// Entangled photon pairs sent to two labs.
    case pairSource(PairSourceScenario)
    /// A heralded matter–matter link via a midpoint station.
    case heraldedLink(HeraldedLinkScenario)

    /// The streams this scenario produces, in step order.
    public var streams: [StreamRole] {
        switch self {
        case .pairSource: return [.labA, .labB]
        case .heraldedLink: return [.labA, .labB, .station]
        }
    }
}

/// One simulator for either kind of scenario: iterate it for ``SimulationStep``s, then ask for
/// the ``GroundTruth``.
public struct LinkSimulator: Sequence, IteratorProtocol, Sendable {
    private enum Engine: Sendable {
        case pair(PairSourceSimulator)
        case heralded(HeraldedLinkSimulator)
        case moving
    }

    private var engine: Engine

    /// A simulator; throws ``SimulationError`` for an invalid scenario or options.
    public init(scenario: SimulationScenario, options: SimulationOptions) throws {
        switch scenario {
        case .pairSource(let s): engine = .pair(try PairSourceSimulator(scenario: s, options: options))
        case .heraldedLink(let s): engine = .heralded(try HeraldedLinkSimulator(scenario: s, options: options))
        }
    }

    /// The next step, or `nil` after the final one.
    public mutating func next() -> SimulationStep? {
        switch engine {
        case .pair(var simulator):
            engine = .moving  // keep the simulator's buffers uniquely referenced
            let step = simulator.next()
            engine = .pair(simulator)
            return step
        case .heralded(var simulator):
            engine = .moving
            let step = simulator.next()
            engine = .heralded(simulator)
            return step
        case .moving:
            return nil
        }
    }

    /// End of the windows generated so far: a scenario change can take effect at this link time or later.
    public var generatedThroughPs: Int64 {
        switch engine {
        case .pair(let simulator): return simulator.generatedThroughPs
        case .heralded(let simulator): return simulator.generatedThroughPs
        case .moving: return Int64.max
        }
    }

    /// Runs the link at `scenario`'s operating point from link time `fromPs` on (see
    /// ``PairSourceSimulator/changeScenario(to:fromPs:)`` and ``HeraldedLinkSimulator/changeScenario(to:fromPs:)``).
    /// - Returns: the link time the change takes effect (for a heralded link the next attempt of the
    ///   current grid at or after `fromPs`).
    /// - Throws: ``SimulationError`` for a time already generated, a change out of order, another kind
    ///   of scenario, or a scenario that differs in more than its operating point.
    @discardableResult
    public mutating func changeScenario(to scenario: SimulationScenario, fromPs: Int64) throws -> Int64 {
        switch (engine, scenario) {
        case (.pair(var simulator), .pairSource(let new)):
            engine = .moving
            defer { engine = .pair(simulator) }
            try simulator.changeScenario(to: new, fromPs: fromPs)
            return fromPs
        case (.heralded(var simulator), .heraldedLink(let new)):
            engine = .moving
            defer { engine = .heralded(simulator) }
            return try simulator.changeScenario(to: new, fromPs: fromPs)
        default:
            throw SimulationError(.inconsistentParameters, parameter: "scenario",
                                  message: "the new scenario is of another kind than the running one",
                                  hint: "change a pair source into a pair source and a heralded link into a heralded link")
        }
    }

    /// The ground truth (complete once the last step has been taken).
    public func groundTruth() -> GroundTruth {
        switch engine {
        case .pair(let simulator): return simulator.groundTruth()
        case .heralded(let simulator): return simulator.groundTruth()
        case .moving: preconditionFailure("simulator is being advanced")
        }
    }
}
