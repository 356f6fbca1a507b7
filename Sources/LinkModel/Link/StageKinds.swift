import Foundation

/// A single-photon emitter: a spin (NV centre, ion, quantum dot…) that emits one photon when bright.
///
/// Its transmission is the probability that an attempt puts a photon into the first optical mode
/// of the arm: emission × zero-phonon fraction × collection.
public struct Emitter: Decodable, Sendable, Equatable {
    /// Probability that the excitation produces a photon at all.
    public var emissionProbability: Double
    /// Fraction of photons emitted into the zero-phonon line (the only ones that interfere).
    public var zeroPhononFraction: Double
    /// Probability that an emitted photon is collected into the fibre mode.
    public var collectionEfficiency: Double

    public init(emissionProbability: Double = 1, zeroPhononFraction: Double = 1, collectionEfficiency: Double = 1) {
        self.emissionProbability = emissionProbability
        self.zeroPhononFraction = zeroPhononFraction
        self.collectionEfficiency = collectionEfficiency
    }

    enum CodingKeys: String, CodingKey {
        case emissionProbability, zeroPhononFraction, collectionEfficiency
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        emissionProbability = try container.decode(Double.self, forKey: .emissionProbability, in: 0...1, default: 1,
                                                   what: "an emission probability")
        zeroPhononFraction = try container.decode(Double.self, forKey: .zeroPhononFraction, in: 0...1, default: 1,
                                                  what: "a zero-phonon fraction")
        collectionEfficiency = try container.decode(Double.self, forKey: .collectionEfficiency, in: 0...1, default: 1,
                                                    what: "a collection efficiency")
    }

    /// Probability per attempt that a bright emitter puts a photon into the arm.
    public var transmission: Double { emissionProbability * zeroPhononFraction * collectionEfficiency }
}

/// An optical fibre span.
public struct Fibre: Decodable, Sendable, Equatable {
    /// Length in km.
    public var lengthKm: Double
    /// Attenuation in dB/km at the wavelength carried.
    public var lossDbPerKm: Double
    /// Fixed extra loss in dB (connectors, splices).
    public var extraLossDb: Double
    /// Group index; sets the travel time (1.468 for standard telecom fibre).
    public var groupIndex: Double

    /// Speed of light in vacuum, m/s.
    public static let speedOfLightMPerS = 299_792_458.0

    public init(lengthKm: Double, lossDbPerKm: Double, extraLossDb: Double = 0, groupIndex: Double = 1.468) {
        self.lengthKm = lengthKm
        self.lossDbPerKm = lossDbPerKm
        self.extraLossDb = extraLossDb
        self.groupIndex = groupIndex
    }

    enum CodingKeys: String, CodingKey {
        case lengthKm, lossDbPerKm, extraLossDb, groupIndex
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        lengthKm = try container.decode(Double.self, forKey: .lengthKm, in: 0...40_000, what: "a fibre length in km")
        lossDbPerKm = try container.decode(Double.self, forKey: .lossDbPerKm, in: 0...1000, what: "a fibre loss in dB/km")
        extraLossDb = try container.decode(Double.self, forKey: .extraLossDb, in: 0...300, default: 0,
                                           what: "an extra loss in dB")
        groupIndex = try container.decode(Double.self, forKey: .groupIndex, in: 1...5, default: 1.468, what: "a group index")
    }

    /// Total loss in dB.
    public var lossDb: Double { lengthKm * lossDbPerKm + extraLossDb }
    /// Fraction of photons that come out of the far end.
    public var transmission: Double { pow(10, -lossDb / 10) }
    /// One-way travel time of light through the span, in picoseconds.
    public var groupDelayPs: Int64 {
        Int64((lengthKm * 1000 * groupIndex / Self.speedOfLightMPerS * 1e12).rounded())
    }
}

/// A bank of single-photon detectors (the station's detectors, or a node's heralding detectors).
public struct Detectors: Decodable, Sendable, Equatable {
    /// Detection efficiency of each detector.
    public var efficiency: Double
    /// Dark-count rate of each detector in Hz.
    public var darkCountRateHz: Double
    /// Detection window per attempt in picoseconds.
    public var windowPs: Int64
    /// Dead time after a click in picoseconds (non-paralysable).
    public var deadTimePs: Int64
    /// Number of detectors (2 behind a beam splitter).
    public var count: Int

    public init(efficiency: Double, darkCountRateHz: Double = 0, windowPs: Int64, deadTimePs: Int64 = 0, count: Int = 2) {
        self.efficiency = efficiency
        self.darkCountRateHz = darkCountRateHz
        self.windowPs = windowPs
        self.deadTimePs = deadTimePs
        self.count = count
    }

    enum CodingKeys: String, CodingKey {
        case efficiency, darkCountRateHz, windowPs, deadTimePs, count
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        efficiency = try container.decode(Double.self, forKey: .efficiency, in: 0...1, what: "a detection efficiency")
        darkCountRateHz = try container.decode(Double.self, forKey: .darkCountRateHz, in: 0...1e9, default: 0,
                                               what: "a dark-count rate in Hz")
        windowPs = try container.decode(Int64.self, forKey: .windowPs, in: 1...1_000_000_000_000,
                                        what: "a detection window in picoseconds")
        deadTimePs = try container.decode(Int64.self, forKey: .deadTimePs, in: 0...1_000_000_000_000, default: 0,
                                          what: "a dead time in picoseconds")
        count = try container.decode(Int.self, forKey: .count, in: 1...64, default: 2, what: "a number of detectors")
    }

    /// Probability that a detector clicks on a photon that reaches it.
    public var transmission: Double { efficiency }
    /// Mean dark counts of one detector inside one detection window.
    public var darkCountsPerWindow: Double { darkCountRateHz * Double(windowPs) * 1e-12 }
}

/// How a memory's coherence decays with storage time.
public enum CoherenceDecay: String, Codable, Sendable, Equatable {
    /// exp(−t/T).
    case exponential
    /// exp(−(t/T)²), typical of quasi-static noise (T₂*).
    case gaussian
}

/// A quantum memory that holds a qubit while the herald travels.
public struct Memory: Codable, Sendable, Equatable {
    /// Write-and-read efficiency (1 for a spin that is itself the emitter).
    public var efficiency: Double
    /// Coherence time in picoseconds; nil means no decay with time.
    public var coherenceTimePs: Int64?
    /// Shape of the decay with time.
    public var decay: CoherenceDecay
    /// Probability of a phase flip of the stored qubit per attempt made while it waits.
    public var dephasingPerAttempt: Double

    public init(efficiency: Double = 1, coherenceTimePs: Int64? = nil, decay: CoherenceDecay = .exponential,
                dephasingPerAttempt: Double = 0) {
        self.efficiency = efficiency
        self.coherenceTimePs = coherenceTimePs
        self.decay = decay
        self.dephasingPerAttempt = dephasingPerAttempt
    }

    enum CodingKeys: String, CodingKey {
        case efficiency, coherenceTimePs, decay, dephasingPerAttempt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        efficiency = try container.decode(Double.self, forKey: .efficiency, in: 0...1, default: 1, what: "a memory efficiency")
        coherenceTimePs = try container.decodeIfPresent(Int64.self, forKey: .coherenceTimePs)
        if let time = coherenceTimePs, time < 1 {
            throw container.invalid(.coherenceTimePs, "\(time) is out of range; expected a coherence time of at least 1 ps (omit the key for no decay)")
        }
        do {
            decay = try container.decodeIfPresent(CoherenceDecay.self, forKey: .decay) ?? .exponential
        } catch {
            throw container.invalid(.decay, "expected 'exponential' or 'gaussian'")
        }
        dephasingPerAttempt = try container.decode(Double.self, forKey: .dephasingPerAttempt, in: 0...0.5, default: 0,
                                                   what: "a phase-flip probability per attempt")
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(efficiency, forKey: .efficiency)
        try container.encodeIfPresent(coherenceTimePs, forKey: .coherenceTimePs)
        try container.encode(decay, forKey: .decay)
        try container.encode(dephasingPerAttempt, forKey: .dephasingPerAttempt)
    }

    /// Probability that a stored qubit is read out again.
    public var transmission: Double { efficiency }

    /// Factor by which the qubit's coherence (the off-diagonal element) shrinks after waiting `waitPs`
    /// while `attempts` further attempts run.
    public func coherenceFactor(waitPs: Double, attempts: Double) -> Double {
        var factor = 1.0
        if let coherenceTimePs {
            let x = waitPs / Double(coherenceTimePs)
            factor = decay == .exponential ? exp(-x) : exp(-x * x)
        }
        if dephasingPerAttempt > 0, attempts > 0 {
            factor *= pow(1 - 2 * dephasingPerAttempt, attempts)
        }
        return factor
    }
}
