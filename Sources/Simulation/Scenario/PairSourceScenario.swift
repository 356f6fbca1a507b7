import LinkModel

/// One lab receiving one photon of each pair.
public struct PairSourceLab: Sendable, Equatable, Codable {
    /// Transmission from the source to the lab's detectors (fibre, optics), 0…1; the detector
    /// efficiency comes on top.
    public var armTransmission: Double
    /// Propagation delay from the source to the detectors (fibre length × group delay), in ps.
    public var fibreDelayPs: Int64
    /// The lab's two detectors (one per outcome).
    public var detector: DetectorModel
    /// Tagger channels of the two outcomes.
    public var channels: OutcomeChannels
    /// Measurement settings over time.
    public var bases: BasisSchedule
    /// The lab tagger's clock.
    public var clock: ClockModel

    /// A lab; defaults: perfect arm and detector, Z basis, ideal clock.
    public init(armTransmission: Double = 1, fibreDelayPs: Int64 = 0, detector: DetectorModel = .ideal,
                channels: OutcomeChannels = OutcomeChannels(plus: 1, minus: 2),
                bases: BasisSchedule = .fixed(.z), clock: ClockModel = .ideal) {
        self.armTransmission = armTransmission
        self.fibreDelayPs = fibreDelayPs
        self.detector = detector
        self.channels = channels
        self.bases = bases
        self.clock = clock
    }

    /// Probability that a photon of a pair is detected in this lab (before faults).
    public var totalEfficiency: Double { armTransmission * detector.efficiency }

    func validate(_ path: String) throws {
        try Check.probability(armTransmission, path + ".armTransmission")
        try Check.time(fibreDelayPs, path + ".fibreDelayPs")
        try detector.validate(path + ".detector")
        try channels.validate(path + ".channels")
        try bases.validate(path + ".bases")
        try clock.validate(path + ".clock")
    }
}

/// A source of polarisation-entangled photon pairs (e.g. SPDC) sending one photon to each lab.
///
/// Pairs are emitted as a Poisson process of rate ``pairRateHz`` in the state
/// ρ = V|Ψ⟩⟨Ψ| + (1 − V) I/4 (``state`` = Ψ, ``visibility`` = V), changed by ``preparation`` (a phase,
/// a general initial state, a rotation, damping: ``emittedState(visibility:)``). Each photon reaches its lab's
/// detectors with probability armTransmission × detector efficiency (× loss-step faults),
/// independently of the other; the lab measures it in the basis its schedule sets at the
/// photon's arrival time and the joint outcome follows the Born rule for ρ.
public struct PairSourceScenario: Sendable, Equatable, Codable {
    /// Pair emission rate, in Hz.
    public var pairRateHz: Double
    /// Target Bell state.
    public var state: BellState
    /// Weight V of the Bell state against white noise, 0…1.
    public var visibility: Double
    /// Lab A.
    public var labA: PairSourceLab
    /// Lab B.
    public var labB: PairSourceLab
    /// Faults during the run.
    public var faults: FaultSchedule
    /// How the emitted state departs from the Werner state of ``state`` (default: it does not).
    public var preparation: StatePreparation

    /// A scenario.
    public init(pairRateHz: Double, state: BellState = .phiPlus, visibility: Double = 1,
                labA: PairSourceLab = PairSourceLab(), labB: PairSourceLab = PairSourceLab(),
                faults: FaultSchedule = .none, preparation: StatePreparation = .none) {
        self.pairRateHz = pairRateHz
        self.state = state
        self.visibility = visibility
        self.labA = labA
        self.labB = labB
        self.faults = faults
        self.preparation = preparation
    }

    /// The emitted two-qubit state at visibility V (the scenario's, or a `visibility_change` fault's).
    public func emittedState(visibility: Double) -> ComplexMatrix4 {
        preparation.state(target: state, visibility: visibility)
    }

    /// Throws a ``SimulationError`` for parameters outside their range.
    public func validate() throws {
        try Check.nonNegative(pairRateHz, "pairRateHz")
        guard pairRateHz <= 1e11 else {
            throw SimulationError(.invalidParameter, parameter: "pairRateHz", message: "\(pairRateHz) Hz",
                                  hint: "use a pair rate up to 100 GHz")
        }
        try Check.probability(visibility, "visibility")
        try labA.validate("labA")
        try labB.validate("labB")
        try faults.validate("faults", hasStation: false)
        try preparation.validate("preparation")
        guard labA.detector.darkCountRateHz <= 1e10, labB.detector.darkCountRateHz <= 1e10 else {
            throw SimulationError(.invalidParameter, parameter: "detector.darkCountRateHz",
                                  message: "dark-count rate above 10 GHz", hint: "use a realistic dark-count rate")
        }
    }
}
