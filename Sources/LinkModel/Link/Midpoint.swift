/// What sits between the two arms: a beam-splitter station with detectors (heralded protocols)
/// or an entangled-pair source.
public struct Midpoint: Decodable, Sendable, Equatable {
    /// Two-photon (Hong–Ou–Mandel) interference visibility of photons from the two arms, 0…1.
    public var visibility: Double
    /// The station's detectors behind the beam splitter (heralded protocols).
    public var detectors: Detectors?
    /// The pair source (pair-source protocol).
    public var source: PairSource?
    /// Noise photons per attempt entering the station from outside the arms (stray light).
    public var noisePhotonsPerAttempt: Double
    /// Classical processing time at the station before the herald is sent, in picoseconds.
    public var processingPs: Int64
    /// What the station costs.
    public var cost: CostModel

    public init(visibility: Double = 1, detectors: Detectors? = nil, source: PairSource? = nil,
                noisePhotonsPerAttempt: Double = 0, processingPs: Int64 = 0, cost: CostModel = .free) {
        self.visibility = visibility
        self.detectors = detectors
        self.source = source
        self.noisePhotonsPerAttempt = noisePhotonsPerAttempt
        self.processingPs = processingPs
        self.cost = cost
    }

    enum CodingKeys: String, CodingKey {
        case visibility, detectors, source, noisePhotonsPerAttempt, processingPs, cost
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        visibility = try container.decode(Double.self, forKey: .visibility, in: 0...1, default: 1,
                                          what: "a two-photon interference visibility")
        detectors = try container.decodeIfPresent(Detectors.self, forKey: .detectors)
        source = try container.decodeIfPresent(PairSource.self, forKey: .source)
        noisePhotonsPerAttempt = try container.decode(Double.self, forKey: .noisePhotonsPerAttempt, in: 0...1e3, default: 0,
                                                      what: "a number of noise photons per attempt")
        processingPs = try container.decode(Int64.self, forKey: .processingPs, in: 0...1_000_000_000_000, default: 0,
                                            what: "a processing time in picoseconds")
        cost = try container.decodeIfPresent(CostModel.self, forKey: .cost) ?? .free
    }

    /// The summed costs of the station, its detectors' owner and the source.
    public var costTotals: CostTotals {
        CostTotals(cost) + CostTotals(source?.cost ?? .free)
    }
}

/// An entangled photon-pair source (e.g. SPDC) at the midpoint.
public struct PairSource: Decodable, Sendable, Equatable {
    /// Fidelity of a single emitted pair to the target Bell state (Werner form), 0.25…1.
    public var pairFidelity: Double
    /// Shortest time between pump pulses in picoseconds.
    public var minPeriodPs: Int64
    /// What the source costs.
    public var cost: CostModel

    public init(pairFidelity: Double = 1, minPeriodPs: Int64 = 0, cost: CostModel = .free) {
        self.pairFidelity = pairFidelity
        self.minPeriodPs = minPeriodPs
        self.cost = cost
    }

    enum CodingKeys: String, CodingKey {
        case pairFidelity, minPeriodPs, cost
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        pairFidelity = try container.decode(Double.self, forKey: .pairFidelity, in: 0.25...1, default: 1,
                                            what: "a pair fidelity")
        minPeriodPs = try container.decode(Int64.self, forKey: .minPeriodPs, in: 0...1_000_000_000_000_000, default: 0,
                                           what: "a minimum pump period in picoseconds")
        cost = try container.decodeIfPresent(CostModel.self, forKey: .cost) ?? .free
    }
}
