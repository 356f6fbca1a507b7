import LinkModel

/// How a heralded link entangles the two nodes' qubits through the midpoint station.
public enum HeraldingProtocol: Sendable, Equatable, Codable {
    /// Single-click: each node prepares √(1−α)|0⟩ + √α|1⟩ and emits a photon from the bright
    /// state |1⟩; exactly one station click heralds |Ψ±⟩ (detector 0: Ψ+, detector 1: Ψ−).
    case singleClick(brightStatePopulation: Double)
    /// Barrett–Kok double-click: each node prepares (|0⟩+|1⟩)/√2, emits from |1⟩, both qubits
    /// are flipped and emit again `roundSeparationPs` later; exactly one click in each round
    /// heralds Ψ+ (same detector twice) or Ψ− (different detectors).
    case barrettKok(roundSeparationPs: Int64)
}

/// A quantum-network node (a matter qubit with a photonic interface) at the end of one arm.
public struct HeraldedNode: Sendable, Equatable, Codable {
    /// Probability that an emitted photon reaches the station's detectors, as the product of
    /// the chain's stages (emission into the mode, transducer, frequency converter, fibre, station
    /// optics), 0…1. The station detectors' efficiency comes on top.
    public var armEfficiency: Double
    /// Mean number of noise photons from this arm (e.g. added by a transducer or converter)
    /// reaching the station's beam splitter within one detection window, per attempt and round.
    public var noisePhotonsPerAttempt: Double
    /// Propagation delay node ↔ station, in ps (the photon travels it one way, the herald signal
    /// back).
    public var fibreDelayPs: Int64
    /// Time from the herald signal's arrival at the node to the readout event, in ps.
    public var readoutDelayPs: Int64
    /// Probability that a readout reports the qubit's outcome correctly (symmetric), 0.5…1.
    public var readoutFidelity: Double
    /// Tagger channels on which the node records readout outcomes +1 and −1.
    public var readoutChannels: OutcomeChannels
    /// Readout bases over time (by readout time).
    public var bases: BasisSchedule
    /// The node tagger's clock.
    public var clock: ClockModel
    /// Fraction of the qubit's coherence left when it is read out (memory decoherence while the
    /// herald travels), 0…1: the heralded state's |01⟩⟨10| coherence is multiplied by the product
    /// of both nodes' factors.
    public var coherenceRetained: Double

    /// A node; defaults: lossless arm, no noise, perfect readout in Z, ideal clock, no decoherence.
    public init(armEfficiency: Double = 1, noisePhotonsPerAttempt: Double = 0, fibreDelayPs: Int64 = 0,
                readoutDelayPs: Int64 = 0, readoutFidelity: Double = 1,
                readoutChannels: OutcomeChannels = OutcomeChannels(plus: 1, minus: 2),
                bases: BasisSchedule = .fixed(.z), clock: ClockModel = .ideal, coherenceRetained: Double = 1) {
        self.coherenceRetained = coherenceRetained
        self.armEfficiency = armEfficiency
        self.noisePhotonsPerAttempt = noisePhotonsPerAttempt
        self.fibreDelayPs = fibreDelayPs
        self.readoutDelayPs = readoutDelayPs
        self.readoutFidelity = readoutFidelity
        self.readoutChannels = readoutChannels
        self.bases = bases
        self.clock = clock
    }

    func validate(_ path: String) throws {
        try Check.probability(armEfficiency, path + ".armEfficiency")
        try Check.nonNegative(noisePhotonsPerAttempt, path + ".noisePhotonsPerAttempt")
        try Check.time(fibreDelayPs, path + ".fibreDelayPs")
        try Check.time(readoutDelayPs, path + ".readoutDelayPs")
        try Check.probability(readoutFidelity, path + ".readoutFidelity")
        try Check.probability(coherenceRetained, path + ".coherenceRetained")
        try readoutChannels.validate(path + ".readoutChannels")
        try bases.validate(path + ".bases")
        try clock.validate(path + ".clock")
    }
}

/// The midpoint station: a 50:50 beam splitter and two gated detectors.
public struct HeraldingStation: Sendable, Equatable, Codable {
    /// The two detectors (efficiency, jitter, dead time, afterpulsing; the dark-count rate
    /// gives the dark-click probability per gate).
    public var detector: DetectorModel
    /// Width of the detection gate per round, in ps.
    public var detectionWindowPs: Int64
    /// Tagger channels of detectors 0 and 1.
    public var channels: OutcomeChannels
    /// Whether each herald is recorded as a marker at the attempt time: marker
    /// `heraldMarkerBase + 1` for Ψ+, `heraldMarkerBase + 2` for Ψ−.
    public var heraldMarkers: Bool
    /// Offset of the herald marker numbers.
    public var heraldMarkerBase: Int32
    /// The station tagger's clock.
    public var clock: ClockModel

    /// A station; defaults: ideal detectors, 1 ns gate, channels 1 and 2, herald markers on.
    public init(detector: DetectorModel = .ideal, detectionWindowPs: Int64 = 1_000,
                channels: OutcomeChannels = OutcomeChannels(plus: 1, minus: 2), heraldMarkers: Bool = true,
                heraldMarkerBase: Int32 = 0, clock: ClockModel = .ideal) {
        self.detector = detector
        self.detectionWindowPs = detectionWindowPs
        self.channels = channels
        self.heraldMarkers = heraldMarkers
        self.heraldMarkerBase = heraldMarkerBase
        self.clock = clock
    }

    func validate(_ path: String) throws {
        try detector.validate(path + ".detector")
        try Check.positive(detectionWindowPs, path + ".detectionWindowPs")
        try channels.validate(path + ".channels")
        try clock.validate(path + ".clock")
    }
}

/// A heralded matter–matter link: two nodes send photons to a midpoint station on an attempt
/// clock; station clicks herald entanglement and the nodes read their qubits out.
///
/// Attempt k happens at true time k / ``attemptRateHz`` on the station's axis (nodes emit
/// `fibreDelayPs` earlier so that photons meet at the beam splitter). Each station click is
/// recorded at the round time; for each herald, node i records its readout at
/// attempt time + `fibreDelayPs` + `readoutDelayPs` on its own clock, with the outcome drawn
/// by the Born rule from the heralded two-qubit state and flipped with probability
/// 1 − readoutFidelity. ``preparation`` (phase, rotation, damping; never an initial state) acts on
/// the heralded states before readout.
public struct HeraldedLinkScenario: Sendable, Equatable, Codable {
    /// Attempt rate, in Hz.
    public var attemptRateHz: Double
    /// Single-click or Barrett–Kok.
    public var heraldingProtocol: HeraldingProtocol
    /// Two-photon interference visibility V = |⟨a|b⟩|² of the photons from the two nodes, 0…1.
    public var visibility: Double
    /// Node A.
    public var nodeA: HeraldedNode
    /// Node B.
    public var nodeB: HeraldedNode
    /// The midpoint station.
    public var station: HeraldingStation
    /// Faults during the run.
    public var faults: FaultSchedule
    /// Phase, rotation and damping applied to the heralded states (no ``StatePreparation/initial``).
    public var preparation: StatePreparation
    /// Memories and distillation (`simulation.distillation`): heralded pairs are stored, cut off and distilled,
    /// and the nodes read out only the distilled pairs (in the Φ⁺ frame); nil: each herald is read out at once.
    /// Its memories are lab A's then lab B's.
    public var distillation: ResolvedDistillation?

    /// A scenario.
    public init(attemptRateHz: Double, heraldingProtocol: HeraldingProtocol, visibility: Double = 1,
                nodeA: HeraldedNode = HeraldedNode(), nodeB: HeraldedNode = HeraldedNode(),
                station: HeraldingStation = HeraldingStation(), faults: FaultSchedule = .none,
                preparation: StatePreparation = .none, distillation: ResolvedDistillation? = nil) {
        self.preparation = preparation
        self.distillation = distillation
        self.attemptRateHz = attemptRateHz
        self.heraldingProtocol = heraldingProtocol
        self.visibility = visibility
        self.nodeA = nodeA
        self.nodeB = nodeB
        self.station = station
        self.faults = faults
    }

    /// Attempt period in ps (rounded to the nearest ps).
    public var attemptPeriodPs: Int64 { Int64((1e12 / attemptRateHz).rounded()) }

    /// Throws a ``SimulationError`` for parameters outside their range.
    public func validate() throws {
        guard attemptRateHz.isFinite, attemptRateHz >= 1e-3, attemptRateHz <= 1e10 else {
            throw SimulationError(.invalidParameter, parameter: "attemptRateHz", message: "\(attemptRateHz) Hz",
                                  hint: "use an attempt rate from 1 mHz to 10 GHz")
        }
        try Check.probability(visibility, "visibility")
        try nodeA.validate("nodeA")
        try nodeB.validate("nodeB")
        try station.validate("station")
        try faults.validate("faults", hasStation: true)
        try preparation.validate("preparation")
        guard preparation.initial == nil else {
            throw SimulationError(.invalidParameter, parameter: "preparation.initial",
                                  message: "a heralded link's state is set by its herald, not given",
                                  hint: "leave out the initial state; phase, rotation and damping apply to the heralded states")
        }
        if let distillation {
            guard distillation.memories.count == 2 else {
                throw SimulationError(.invalidParameter, parameter: "distillation.memories",
                                      message: "\(distillation.memories.count) memories", hint: "give one memory per lab")
            }
            guard (1...20).contains(distillation.settings.rounds) else {
                throw SimulationError(.invalidParameter, parameter: "distillation.settings.rounds",
                                      message: "\(distillation.settings.rounds)", hint: "use 1 to 20 rounds")
            }
            if let cutoff = distillation.settings.cutoffPs { try Check.positive(cutoff, "distillation.settings.cutoffPs") }
            try Check.time(distillation.classicalTimePs, "distillation.classicalTimePs")
            for (index, memory) in distillation.memories.enumerated() {
                guard memory.dephasingPerAttempt >= 0, memory.dephasingPerAttempt <= 0.5 else {
                    throw SimulationError(.invalidParameter, parameter: "distillation.memories[\(index)].dephasingPerAttempt",
                                          message: "\(memory.dephasingPerAttempt)", hint: "use a phase-flip probability from 0 to 0.5")
                }
            }
        }
        var roundsSpanPs = station.detectionWindowPs
        switch heraldingProtocol {
        case .singleClick(let alpha):
            try Check.probability(alpha, "heraldingProtocol.brightStatePopulation")
        case .barrettKok(let separation):
            try Check.positive(separation, "heraldingProtocol.roundSeparationPs")
            try Check.time(separation, "heraldingProtocol.roundSeparationPs")
            roundsSpanPs += separation
        }
        guard roundsSpanPs < attemptPeriodPs else {
            throw SimulationError(.inconsistentParameters, parameter: "attemptRateHz",
                                  message: "an attempt's rounds (\(roundsSpanPs) ps) do not fit in the attempt period (\(attemptPeriodPs) ps)",
                                  hint: "lower the attempt rate or shorten the round separation / detection window")
        }
    }
}
