import LinkModel

/// What one stream's tagger truly did: its delays and clock.
public struct StreamTruth: Sendable, Equatable, Codable {
    /// The stream.
    public var role: StreamRole
    /// Tagger channels of detector / outcome 0 (+1) and 1 (−1).
    public var channels: [Int32]
    /// True time from the generator's axis (pair emission or station attempt) to this stream's
    /// events: fibre delay (plus, for heralded nodes, the herald's way back and the readout
    /// delay), in ps.
    public var delayPs: Int64
    /// The clock's declared parameters.
    public var clock: ClockModel
    /// The clock jumps from faults.
    public var clockJumps: [ClockJump]
    /// The wander random walk at 0, interval, 2·interval, … (as far as generated), in ps.
    public var wanderKnotsPs: [Double]
    /// Measurement / readout bases, indexed by marker number − markerBase.
    public var bases: [MeasurementBasis]
}

/// The correlator the state gives for one pair of bases.
public struct BasisPairTruth: Sendable, Equatable, Codable {
    /// Index into lab A's bases.
    public var basisA: Int
    /// Index into lab B's bases.
    public var basisB: Int
    /// E(a, b) = P(equal outcomes) − P(different outcomes), from the Born rule.
    public var correlation: Double
    /// Born-rule probabilities of the joint outcomes (+,+), (+,−), (−,+), (−,−) (lab A's first; + is
    /// outcome index 0: H, D, R or the analyser's angle).
    public var probabilities: [Double]

    public init(basisA: Int, basisB: Int, correlation: Double, probabilities: [Double]) {
        self.basisA = basisA
        self.basisB = basisB
        self.correlation = correlation
        self.probabilities = probabilities
    }

    /// The truth of every pair of `basesA` × `basesB` for state `rho` (lab A's basis index varying slowest).
    public static func table(_ rho: ComplexMatrix4, basesA: [MeasurementBasis], basesB: [MeasurementBasis]) -> [BasisPairTruth] {
        var result: [BasisPairTruth] = []
        for (i, a) in basesA.enumerated() {
            for (j, b) in basesB.enumerated() {
                let p = rho.outcomeProbabilities(basisA: a, basisB: b)
                result.append(BasisPairTruth(basisA: i, basisB: j, correlation: p[0] + p[3] - p[1] - p[2], probabilities: p))
            }
        }
        return result
    }
}

/// Truth of a pair-source run over a span of constant parameters.
public struct PairSourceTruthSegment: Sendable, Equatable, Codable {
    /// Start and end of the span (emission time), in ps.
    public var startPs: Int64
    public var endPs: Int64
    /// Visibility V of the emitted state (its white-noise weight).
    public var visibility: Double
    /// The emitted state ρ (normalised; entries `re`/`im`, row-major, basis |00⟩, |01⟩, |10⟩, |11⟩ with
    /// lab A's qubit first): the Werner state of the target, or what `simulation.state` makes of it.
    @EntriesCoded public var state: ComplexMatrix4
    /// Fidelity ⟨Ψ|ρ|Ψ⟩ of the emitted state with the target Bell state ((1 + 3V)/4 for a Werner state).
    public var fidelity: Double
    /// CHSH S of the state for the labs' settings, when each lab has exactly two.
    public var chshS: Double?
    /// Born-rule correlators for every pair of settings.
    public var correlations: [BasisPairTruth]
    /// Probability that a pair's photon is detected in lab A / lab B (transmission × efficiency).
    public var detectionProbabilityA: Double
    public var detectionProbabilityB: Double
    /// Expected singles rate per lab before dead time and afterpulses: pair rate × detection
    /// probability + 2 × dark-count rate, in Hz.
    public var singlesRateAHz: Double
    public var singlesRateBHz: Double
    /// Expected rate of true coincidences (both photons of a pair detected), in Hz.
    public var coincidenceRateHz: Double
}

/// Truth of a heralded-link run over a span of constant parameters.
public struct HeraldedTruthSegment: Sendable, Equatable, Codable {
    /// Start and end of the span (attempt time), in ps.
    public var startPs: Int64
    public var endPs: Int64
    /// Photon indistinguishability V.
    public var visibility: Double
    /// Probability that a photon from node A / B is detected at the station.
    public var detectionProbabilityA: Double
    public var detectionProbabilityB: Double
    /// Probability per attempt of a click on each station detector from noise photons and dark
    /// counts alone (per round).
    public var noiseClickProbability: [Double]
    /// Probability per attempt of a Ψ+ herald / a Ψ− herald.
    public var psiPlusProbability: Double
    public var psiMinusProbability: Double
    /// Total herald probability per attempt and herald rate (Hz).
    public var heraldProbability: Double
    public var heraldRateHz: Double
    /// Fidelity of the heralded state with Ψ+ (after a Ψ+ herald) and with Ψ− (after a Ψ− herald).
    public var fidelityPsiPlus: Double
    public var fidelityPsiMinus: Double
    /// The heralded states (normalised).
    @EntriesCoded public var statePsiPlus: ComplexMatrix4
    @EntriesCoded public var statePsiMinus: ComplexMatrix4
    /// Correlators of the heralded states for every pair of readout bases, without readout
    /// errors (multiply by (2F_A − 1)(2F_B − 1) for the recorded outcomes).
    public var correlationsPsiPlus: [BasisPairTruth]
    public var correlationsPsiMinus: [BasisPairTruth]
}

/// The truth behind a simulated run: everything an estimator should recover.
public struct GroundTruth: Sendable, Equatable, Codable {
    /// `pairSource` or `heraldedLink`.
    public var kind: String
    /// The run's seed and duration (ps).
    public var seed: UInt64
    public var durationPs: Int64
    /// Per stream: delays, clock, bases.
    public var streams: [StreamTruth]
    /// The scheduled faults, sorted by time.
    public var faults: [ScheduledFault]
    /// Pair-source truth per span of constant parameters.
    public var pairSourceSegments: [PairSourceTruthSegment]?
    /// Heralded-link truth per span of constant parameters.
    public var heraldedSegments: [HeraldedTruthSegment]?
    /// Pair source: the target state. Heralded link: nil.
    public var targetState: BellState?
    /// Heralded link: attempt period (ps).
    public var attemptPeriodPs: Int64?
    /// Heralded link with `simulation.distillation`: what the memories and the distillation did.
    public var distillation: DistillationTruth? = nil

    /// Truth of stream `role`.
    public func stream(_ role: StreamRole) -> StreamTruth? { streams.first { $0.role == role } }
}
