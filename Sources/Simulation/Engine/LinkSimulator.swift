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

    /// The ground truth (complete once the last step has been taken).
    public func groundTruth() -> GroundTruth {
        switch engine {
        case .pair(let simulator): return simulator.groundTruth()
        case .heralded(let simulator): return simulator.groundTruth()
        case .moving: preconditionFailure("simulator is being advanced")
        }
    }
}
