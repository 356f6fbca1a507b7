import LinkModel

/// Which part of a link a sensitivity or an adjustment refers to.
public enum StageTarget: Hashable, Sendable {
    /// Stage `stage` of arm `arm` (indices into ``LinkDescription/arms`` and ``Arm/stages``).
    case armStage(arm: Int, stage: Int)
    /// The station's detectors (efficiency; dark counts as their noise).
    case stationDetectors
    /// Stray light entering the station (noise only).
    case stationNoise
}

/// A change to one part of a link: its transmission multiplied by `transmissionFactor` and its added
/// noise (n₀, k and dark counts) multiplied by `noiseFactor`.
public struct StageAdjustment: Hashable, Sendable {
    public var target: StageTarget
    public var transmissionFactor: Double
    public var noiseFactor: Double

    public init(target: StageTarget, transmissionFactor: Double = 1, noiseFactor: Double = 1) {
        self.target = target
        self.transmissionFactor = transmissionFactor
        self.noiseFactor = noiseFactor
    }
}

/// A link description reduced to the numbers the closed forms need, so that evaluating an operating
/// point costs a few dozen floating-point operations.
public struct LinkProfile: Sendable {
    /// What one arm contributes.
    public struct ArmProfile: Sendable, Equatable {
        /// Probability that an emitted photon reaches the end of the arm (station input or memory).
        public var transmission: Double
        /// Noise photons per attempt at the end of the arm that do not depend on the rate (Σ n₀ attenuated, plus dark counts of arm detectors).
        public var noiseConstant: Double
        /// Noise photons per attempt per Hz of repetition rate at the end of the arm (Σ k attenuated).
        public var noisePerHz: Double
        /// The arm's memory, if any.
        public var memory: Memory?
        /// How long the arm's qubit waits for the herald, in picoseconds.
        public var heraldWaitPs: Double

        /// Noise photons per attempt at the end of the arm at repetition rate `rateHz`.
        @inline(__always)
        public func noisePhotons(rateHz: Double) -> Double { noiseConstant + noisePerHz * rateHz }
    }

    /// The description the profile was built from.
    public let description: LinkDescription
    /// The two arms.
    public let armA: ArmProfile, armB: ArmProfile
    /// Station detector efficiency (1 for a pair source).
    public let detectorEfficiency: Double
    /// Dark counts per detector per window at the station.
    public let darkCountsPerWindow: Double
    /// Station detector dead time in seconds.
    public let deadTimeS: Double
    /// Two-photon interference visibility.
    public let visibility: Double
    /// Stray noise photons per attempt entering the station.
    public let stationNoisePhotons: Double
    /// Fidelity of one pair from the source.
    public let pairFidelity: Double
    /// The highest attempt rate allowed, in Hz.
    public let maxRepetitionRateHz: Double
    /// True when more than one mode is in flight, so attempts continue while a qubit waits.
    public let multiplexed: Bool
    /// Amortised capital and operating cost per second.
    public let fixedCostPerSecond: Double
    /// Cost per attempt including energy.
    public let costPerAttempt: Double
    /// Electrical power drawn continuously by every part of the link, in watts (priced into ``fixedCostPerSecond``).
    public let powerW: Double
    /// Energy of one attempt summed over the link, in joules.
    public let energyPerAttemptJ: Double
    /// How the key rates in ``Performance/key`` are computed (basis choice, f, finite-key block).
    public var keySettings = KeySettings()

    /// Builds the profile of `description`, optionally with one part adjusted.
    public init(_ description: LinkDescription, adjustment: StageAdjustment? = nil) {
        self.description = description
        func arm(_ index: Int) -> ArmProfile {
            let arm = description.arms[index]
            var transmission = 1.0, constant = 0.0, perHz = 0.0
            for (stageIndex, stage) in arm.stages.enumerated() {
                var t = stage.transmission
                var n0 = stage.noisePhotonsPerAttempt
                var k = stage.noisePhotonsPerAttemptPerHz
                var dark = stage.detectors?.darkCountsPerWindow ?? 0
                if let adjustment, adjustment.target == .armStage(arm: index, stage: stageIndex) {
                    t *= adjustment.transmissionFactor
                    n0 *= adjustment.noiseFactor
                    k *= adjustment.noiseFactor
                    dark *= adjustment.noiseFactor
                }
                transmission *= t
                constant = constant * t + n0 + dark
                perHz = perHz * t + k
            }
            return ArmProfile(transmission: transmission, noiseConstant: constant, noisePerHz: perHz,
                              memory: arm.memory, heraldWaitPs: Double(description.heraldWaitPs(arm: index)))
        }
        armA = arm(0)
        armB = arm(1)
        let detectors = description.midpoint.detectors
        var efficiency = detectors?.efficiency ?? 1
        var dark = detectors?.darkCountsPerWindow ?? 0
        var stray = description.midpoint.noisePhotonsPerAttempt
        if let adjustment {
            switch adjustment.target {
            case .stationDetectors:
                efficiency *= adjustment.transmissionFactor
                dark *= adjustment.noiseFactor
            case .stationNoise:
                stray *= adjustment.noiseFactor
            case .armStage:
                break
            }
        }
        detectorEfficiency = efficiency
        darkCountsPerWindow = dark
        stationNoisePhotons = stray
        deadTimeS = Double(detectors?.deadTimePs ?? 0) * 1e-12
        visibility = description.midpoint.visibility
        pairFidelity = description.midpoint.source?.pairFidelity ?? 1
        maxRepetitionRateHz = description.maxRepetitionRateHz
        multiplexed = description.clock.multiplexingModes > 1
        let costs = description.costTotals
        fixedCostPerSecond = costs.fixedPerSecond + costs.powerCostPerSecond(energyPricePerKwh: description.costs.energyPricePerKwh)
        costPerAttempt = costs.costPerAttempt(energyPricePerKwh: description.costs.energyPricePerKwh)
        powerW = costs.powerW
        energyPerAttemptJ = costs.energyPerAttemptJ
    }
}
