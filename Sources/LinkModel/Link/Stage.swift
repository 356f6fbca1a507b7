/// One element of an arm: something a photon passes through (or is emitted or stored by), with its
/// efficiency, the noise it adds, how fast it can be driven and what it costs.
///
/// YAML: a mapping with `kind:` (`emitter`, `transducer`, `frequency_converter`, `fibre`, `optics`,
/// `detectors` or `memory`), the keys of that kind, and the common keys below.
public struct Stage: Decodable, Sendable, Equatable {
    /// What the stage is, with the parameters of its kind.
    public enum Kind: Sendable, Equatable {
        /// A single-photon emitter.
        case emitter(Emitter)
        /// A microwave-to-optical transducer with conversion efficiency.
        case transducer(efficiency: Double)
        /// An optical frequency converter (e.g. 637 nm → 1588 nm) with conversion efficiency.
        case frequencyConverter(efficiency: Double)
        /// A fibre span.
        case fibre(Fibre)
        /// Any passive optics (filters, circulators, switches) with a transmission.
        case optics(efficiency: Double)
        /// Single-photon detectors.
        case detectors(Detectors)
        /// A quantum memory.
        case memory(Memory)

        /// The YAML spelling of the kind.
        public var name: String {
            switch self {
            case .emitter: "emitter"
            case .transducer: "transducer"
            case .frequencyConverter: "frequency_converter"
            case .fibre: "fibre"
            case .optics: "optics"
            case .detectors: "detectors"
            case .memory: "memory"
            }
        }

        /// Every kind's YAML spelling, for error messages.
        public static let names = ["emitter", "transducer", "frequency_converter", "fibre", "optics", "detectors", "memory"]
    }

    /// A short label for reports (defaults to the kind).
    public var name: String
    /// The kind and its parameters.
    public var kind: Kind
    /// Noise photons the stage adds per attempt into the arm's mode, independent of repetition rate (n₀).
    public var noisePhotonsPerAttempt: Double
    /// Growth of the added noise with repetition rate (k in n_add(f) = n₀ + k·f), photons per attempt per Hz.
    public var noisePhotonsPerAttemptPerHz: Double
    /// Shortest time between attempts the stage allows (cycle time, bandwidth limit), in picoseconds.
    public var minPeriodPs: Int64
    /// What the stage costs.
    public var cost: CostModel

    public init(name: String? = nil, kind: Kind, noisePhotonsPerAttempt: Double = 0, noisePhotonsPerAttemptPerHz: Double = 0,
                minPeriodPs: Int64 = 0, cost: CostModel = .free) {
        self.name = name ?? kind.name
        self.kind = kind
        self.noisePhotonsPerAttempt = noisePhotonsPerAttempt
        self.noisePhotonsPerAttemptPerHz = noisePhotonsPerAttemptPerHz
        self.minPeriodPs = minPeriodPs
        self.cost = cost
    }

    enum CodingKeys: String, CodingKey {
        case kind, name, efficiency, noisePhotonsPerAttempt, noisePhotonsPerAttemptPerHz, minPeriodPs, cost
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kindName = try container.decode(String.self, forKey: .kind)
        func efficiency() throws -> Double {
            try container.decode(Double.self, forKey: .efficiency, in: 0...1, what: "an efficiency")
        }
        switch kindName {
        case "emitter": kind = .emitter(try Emitter(from: decoder))
        case "transducer": kind = .transducer(efficiency: try efficiency())
        case "frequency_converter": kind = .frequencyConverter(efficiency: try efficiency())
        case "fibre", "fiber": kind = .fibre(try Fibre(from: decoder))
        case "optics": kind = .optics(efficiency: try efficiency())
        case "detectors": kind = .detectors(try Detectors(from: decoder))
        case "memory": kind = .memory(try Memory(from: decoder))
        default:
            throw container.invalid(.kind, "'\(kindName)' is not a stage kind; expected one of \(Kind.names.joined(separator: ", "))")
        }
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? kind.name
        noisePhotonsPerAttempt = try container.decode(Double.self, forKey: .noisePhotonsPerAttempt, in: 0...1e3, default: 0,
                                                      what: "a number of noise photons per attempt")
        noisePhotonsPerAttemptPerHz = try container.decode(Double.self, forKey: .noisePhotonsPerAttemptPerHz, in: 0...1,
                                                           default: 0, what: "a noise growth per Hz of repetition rate")
        minPeriodPs = try container.decode(Int64.self, forKey: .minPeriodPs, in: 0...1_000_000_000_000_000, default: 0,
                                           what: "a minimum attempt period in picoseconds")
        cost = try container.decodeIfPresent(CostModel.self, forKey: .cost) ?? .free
    }

    /// Probability that a photon entering the stage (or, for an emitter, an attempt) leaves it in the arm's mode.
    public var transmission: Double {
        switch kind {
        case .emitter(let emitter): emitter.transmission
        case .transducer(let efficiency), .frequencyConverter(let efficiency), .optics(let efficiency): efficiency
        case .fibre(let fibre): fibre.transmission
        case .detectors(let detectors): detectors.transmission
        case .memory(let memory): memory.transmission
        }
    }

    /// Loss of the stage in dB (∞ for a stage that transmits nothing).
    public var lossDb: Double { -10 * log10(transmission) }

    /// Noise photons the stage adds per attempt at repetition rate `repetitionRateHz`: n₀ + k·f.
    public func noisePhotons(repetitionRateHz: Double) -> Double {
        noisePhotonsPerAttempt + noisePhotonsPerAttemptPerHz * repetitionRateHz
    }

    /// One-way travel time of light through the stage in picoseconds (fibre only; other stages count as zero).
    public var groupDelayPs: Int64 {
        if case .fibre(let fibre) = kind { return fibre.groupDelayPs }
        return 0
    }

    /// The detectors of this stage, if it is a detector stage.
    public var detectors: Detectors? {
        if case .detectors(let detectors) = kind { return detectors }
        return nil
    }

    /// The memory of this stage, if it is a memory stage.
    public var memory: Memory? {
        if case .memory(let memory) = kind { return memory }
        return nil
    }
}

import Foundation
