/// A single-photon detector and its time-tagger input: every detector of one stream shares it.
///
/// Order of effects for one detector: photon arrival (or dark count) in true time → detection
/// with probability ``efficiency`` → non-paralysable dead time → afterpulses → Gaussian timing
/// jitter (plus an optional exponential tail) → the stream's clock.
public struct DetectorModel: Sendable, Equatable, Codable {
    /// Probability that a photon reaching the detector is detected (0…1).
    public var efficiency: Double
    /// Free-running dark-count rate of each detector, in Hz (Poisson). For gated station
    /// detectors it sets the dark-click probability per gate (rate × gate width).
    public var darkCountRateHz: Double
    /// Standard deviation of the Gaussian timing jitter, in ps (clipped at ±10σ).
    public var jitterSigmaPs: Double
    /// Fraction of detections that get an extra exponential delay (the jitter tail), 0…1.
    public var jitterTailFraction: Double
    /// Mean of the exponential jitter tail, in ps (clipped at 40 means).
    public var jitterTailMeanPs: Double
    /// Non-paralysable dead time after each registered detection, in ps.
    public var deadTimePs: Int64
    /// Probability that a registered detection causes one afterpulse, 0…1 (afterpulses can
    /// themselves afterpulse).
    public var afterpulseProbability: Double
    /// Mean delay of an afterpulse after the end of the dead time, in ps (exponential).
    public var afterpulseDelayMeanPs: Double

    /// A detector model; every parameter has a neutral default.
    public init(efficiency: Double = 1, darkCountRateHz: Double = 0, jitterSigmaPs: Double = 0,
                jitterTailFraction: Double = 0, jitterTailMeanPs: Double = 0, deadTimePs: Int64 = 0,
                afterpulseProbability: Double = 0, afterpulseDelayMeanPs: Double = 0) {
        self.efficiency = efficiency
        self.darkCountRateHz = darkCountRateHz
        self.jitterSigmaPs = jitterSigmaPs
        self.jitterTailFraction = jitterTailFraction
        self.jitterTailMeanPs = jitterTailMeanPs
        self.deadTimePs = deadTimePs
        self.afterpulseProbability = afterpulseProbability
        self.afterpulseDelayMeanPs = afterpulseDelayMeanPs
    }

    /// A perfect detector: efficiency 1, no noise, no jitter, no dead time.
    public static let ideal = DetectorModel()

    func validate(_ path: String) throws {
        try Check.probability(efficiency, path + ".efficiency")
        try Check.nonNegative(darkCountRateHz, path + ".darkCountRateHz")
        try Check.nonNegative(jitterSigmaPs, path + ".jitterSigmaPs")
        try Check.probability(jitterTailFraction, path + ".jitterTailFraction")
        try Check.nonNegative(jitterTailMeanPs, path + ".jitterTailMeanPs")
        try Check.nonNegative(deadTimePs, path + ".deadTimePs")
        try Check.time(deadTimePs, path + ".deadTimePs")
        guard afterpulseProbability.isFinite, afterpulseProbability >= 0, afterpulseProbability < 0.5 else {
            throw SimulationError(.invalidParameter, parameter: path + ".afterpulseProbability",
                                  message: "\(afterpulseProbability) is outside 0…0.5",
                                  hint: "afterpulse probabilities above 0.5 make runaway cascades; use a smaller value")
        }
        try Check.nonNegative(afterpulseDelayMeanPs, path + ".afterpulseDelayMeanPs")
        guard jitterSigmaPs < 1e9, jitterTailMeanPs < 1e9, afterpulseDelayMeanPs < 1e12 else {
            throw SimulationError(.invalidParameter, parameter: path,
                                  message: "jitter or afterpulse delay is unphysically large",
                                  hint: "jitter must stay below 1 ms and afterpulse delays below 1 s")
        }
    }
}

/// The two tagger channels on which a lab records the two outcomes of its measurement
/// (outcome +1 and outcome −1, e.g. the two output ports of a polarising beam splitter).
public struct OutcomeChannels: Sendable, Equatable, Hashable, Codable {
    /// Channel of outcome +1 (outcome index 0).
    public var plus: Int32
    /// Channel of outcome −1 (outcome index 1).
    public var minus: Int32

    /// Two outcome channels.
    public init(plus: Int32, minus: Int32) {
        self.plus = plus
        self.minus = minus
    }

    func validate(_ path: String) throws {
        guard plus != minus else {
            throw SimulationError(.inconsistentParameters, parameter: path,
                                  message: "both outcomes use channel \(plus)", hint: "give the two outcomes different channels")
        }
    }
}
