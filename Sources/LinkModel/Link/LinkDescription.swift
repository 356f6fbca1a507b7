/// The physical description of a link, shared by the planner, the simulator and the coordinator:
/// two arms, what sits between them, the protocol, the clock and the costs.
///
/// In YAML this is the `model:` section of a link configuration or a plan file
/// (see `docs/configuration.md`).
public struct LinkDescription: Decodable, Sendable, Equatable {
    /// The two arms, each an ordered chain of stages.
    public var arms: [Arm]
    /// The midpoint station or pair source.
    public var midpoint: Midpoint
    /// The entanglement protocol.
    public var `protocol`: EntanglementProtocol
    /// The attempt clock.
    public var clock: LinkClock
    /// Link-wide costs.
    public var costs: LinkCosts

    public init(arms: [Arm], midpoint: Midpoint, protocol: EntanglementProtocol, clock: LinkClock = LinkClock(),
                costs: LinkCosts = LinkCosts()) {
        self.arms = arms
        self.midpoint = midpoint
        self.protocol = `protocol`
        self.clock = clock
        self.costs = costs
    }

    enum CodingKeys: String, CodingKey {
        case arms, midpoint, `protocol`, clock, costs
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        arms = try container.decode([Arm].self, forKey: .arms)
        midpoint = try container.decode(Midpoint.self, forKey: .midpoint)
        `protocol` = try container.decode(EntanglementProtocol.self, forKey: .protocol)
        clock = try container.decodeIfPresent(LinkClock.self, forKey: .clock) ?? LinkClock()
        costs = try container.decodeIfPresent(LinkCosts.self, forKey: .costs) ?? LinkCosts()
        if let problem = validationProblem() {
            throw container.invalid(problem.key, problem.message)
        }
    }

    /// The first inconsistency between the protocol and the hardware, if any.
    private func validationProblem() -> (key: CodingKeys, message: String)? {
        guard arms.count == 2 else {
            return (.arms, "a link has exactly two arms, found \(arms.count)")
        }
        guard arms[0].name != arms[1].name else {
            return (.arms, "both arms are called '\(arms[0].name)'; arm names must differ")
        }
        if `protocol`.heraldsAtMidpoint {
            guard let detectors = midpoint.detectors else {
                return (.midpoint, "the \(`protocol`.kindName) protocol heralds at the midpoint; add midpoint.detectors")
            }
            guard detectors.count == 2 else {
                return (.midpoint, "the beam-splitter station has two detectors (midpoint.detectors.count: 2), found \(detectors.count)")
            }
            guard midpoint.source == nil else {
                return (.midpoint, "midpoint.source is only used by the pair_source protocol; remove it or change the protocol")
            }
            for arm in arms {
                let emitters = arm.stages.filter { if case .emitter = $0.kind { true } else { false } }
                guard emitters.count == 1, case .emitter = arm.stages[0].kind else {
                    return (.arms, "arm '\(arm.name)': with the \(`protocol`.kindName) protocol an arm starts with its one emitter stage")
                }
                guard arm.detectors.isEmpty else {
                    return (.arms, "arm '\(arm.name)': the station's detectors belong in midpoint.detectors, not in an arm")
                }
            }
        } else {
            guard midpoint.source != nil else {
                return (.midpoint, "the pair_source protocol needs midpoint.source")
            }
            for arm in arms {
                if arm.stages.contains(where: { if case .emitter = $0.kind { true } else { false } }) {
                    return (.arms, "arm '\(arm.name)': with a pair source the arms hold no emitter; list the stages from the source to the memory")
                }
                guard arm.memory != nil || !arm.detectors.isEmpty else {
                    return (.arms, "arm '\(arm.name)': with a pair source each arm ends in a memory stage that stores the photon or in the lab's detectors")
                }
            }
        }
        return nil
    }

    /// Shortest attempt period any stage, the station or the source allows, in picoseconds.
    /// Double-click attempts hold two emission rounds, so the emitters' period counts twice.
    public var hardwareMinPeriodPs: Int64 {
        let rounds: Int64 = `protocol` == .doubleClick ? 2 : 1
        var period = arms.map(\.minPeriodPs).max() ?? 0
        if let source = midpoint.source { period = max(period, source.minPeriodPs) }
        return period * rounds
    }

    /// How long lab `arm`'s qubit waits for the news that the attempt succeeded, in picoseconds:
    /// light to the station and the herald back (midpoint protocols), or light to the other lab's
    /// memory and its message across the link (pair source), plus processing and latency.
    public func heraldWaitPs(arm index: Int) -> Int64 {
        let own = arms[index].groupDelayPs
        let other = arms[1 - index].groupDelayPs
        let latency = midpoint.processingPs + clock.classicalLatencyPs
        if `protocol`.heraldsAtMidpoint {
            return 2 * own + latency
        }
        return 2 * other + latency
    }

    /// The round trip that limits the attempt rate without multiplexing, in picoseconds: the longest wait of a
    /// qubit that must be held for its herald. Midpoint protocols hold both labs' emitter qubits; a pair source
    /// holds only what arrives in a memory — a pair source whose photons go straight to detectors waits for
    /// nothing, so its rate is limited by the hardware alone.
    public var travelLimitPs: Int64 {
        let waiting = `protocol`.heraldsAtMidpoint ? Array(arms.indices) : arms.indices.filter { arms[$0].memory != nil }
        return waiting.map { heraldWaitPs(arm: $0) }.max() ?? 0
    }

    /// The highest attempt rate in Hz: the hardware limit, and the herald round trip divided among the
    /// multiplexed modes.
    public var maxRepetitionRateHz: Double {
        var period = Double(hardwareMinPeriodPs)
        period = max(period, Double(travelLimitPs) / Double(clock.multiplexingModes))
        return period > 0 ? 1e12 / period : .infinity
    }

    /// Costs of every stage, the midpoint and the overhead.
    public var costTotals: CostTotals {
        arms.reduce(midpoint.costTotals + CostTotals(costs.overhead)) { $0 + $1.costTotals }
    }
}
