/// One arm of a link: the ordered chain of stages a photon passes through.
///
/// For heralding at a midpoint station the chain runs from the node's emitter to the station input;
/// for a pair source in the middle it runs from the source to the node's memory.
public struct Arm: Decodable, Sendable, Equatable {
    /// The arm's name (usually the lab).
    public var name: String
    /// The stages in the order the photon meets them.
    public var stages: [Stage]

    public init(name: String, stages: [Stage]) {
        self.name = name
        self.stages = stages
    }

    enum CodingKeys: String, CodingKey {
        case name, stages
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        stages = try container.decode([Stage].self, forKey: .stages)
        guard !stages.isEmpty else {
            throw container.invalid(.stages, "an arm needs at least one stage")
        }
        var seen = Set<String>()
        for stage in stages where !seen.insert(stage.name).inserted {
            throw container.invalid(.stages, "stage name '\(stage.name)' appears twice in arm '\(name)'; give the stages distinct `name:` keys")
        }
    }

    /// Product of the stage transmissions: the probability that an attempt's photon leaves the arm.
    public var transmission: Double {
        stages.reduce(1) { $0 * $1.transmission }
    }

    /// Total loss of the arm in dB.
    public var lossDb: Double { stages.reduce(0) { $0 + $1.lossDb } }

    /// Noise photons per attempt arriving at the end of the arm at repetition rate `repetitionRateHz`:
    /// each stage's n₀ + k·f, attenuated by the stages after it.
    public func noisePhotonsAtEnd(repetitionRateHz: Double) -> Double {
        var total = 0.0
        for stage in stages {
            total = total * stage.transmission + stage.noisePhotons(repetitionRateHz: repetitionRateHz)
        }
        return total
    }

    /// One-way travel time of light along the arm, in picoseconds.
    public var groupDelayPs: Int64 { stages.reduce(0) { $0 + $1.groupDelayPs } }

    /// Fibre length of the arm in km.
    public var lengthKm: Double {
        stages.reduce(0) { sum, stage in
            if case .fibre(let fibre) = stage.kind { return sum + fibre.lengthKm }
            return sum
        }
    }

    /// The longest minimum attempt period of any stage, in picoseconds.
    public var minPeriodPs: Int64 { stages.map(\.minPeriodPs).max() ?? 0 }

    /// The first memory stage, if any.
    public var memory: Memory? { stages.lazy.compactMap(\.memory).first }

    /// The detector stages of the arm (heralding detectors at a node).
    public var detectors: [Detectors] { stages.compactMap(\.detectors) }

    /// The summed costs of every stage of the arm.
    public var costTotals: CostTotals {
        stages.reduce(CostTotals()) { $0 + CostTotals($1.cost) }
    }
}
