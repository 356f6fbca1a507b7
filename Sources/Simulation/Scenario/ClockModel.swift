/// The clock of one time tagger relative to true (reference) time.
///
/// A detection at true time t is recorded at
/// `t + offsetPs + J(t) + round(t · frequencyErrorPpm · 10⁻⁶ + w(t) + jitter)`,
/// where `w` is a random walk with one Gaussian step of standard deviation ``wanderStepPs``
/// every ``wanderIntervalPs`` (w(0) = 0, linear between steps), `J(t)` the sum of the clock
/// jumps scheduled at or before t, `jitter` the detector's timing jitter (zero for markers) and
/// `round` rounds half away from zero.
public struct ClockModel: Sendable, Equatable, Codable {
    /// Constant offset of the tagger clock from true time, in ps.
    public var offsetPs: Int64
    /// Frequency error in parts per million (positive: the tagger clock runs fast).
    public var frequencyErrorPpm: Double
    /// Standard deviation of one random-walk wander step, in ps (0: no wander).
    public var wanderStepPs: Double
    /// Time between wander steps, in ps.
    public var wanderIntervalPs: Int64

    /// A clock model; by default a perfect clock.
    public init(offsetPs: Int64 = 0, frequencyErrorPpm: Double = 0, wanderStepPs: Double = 0,
                wanderIntervalPs: Int64 = 10_000_000_000) {
        self.offsetPs = offsetPs
        self.frequencyErrorPpm = frequencyErrorPpm
        self.wanderStepPs = wanderStepPs
        self.wanderIntervalPs = wanderIntervalPs
    }

    /// A clock that reads true time.
    public static let ideal = ClockModel()

    func validate(_ path: String) throws {
        try Check.time(offsetPs, path + ".offsetPs", allowNegative: true)
        guard frequencyErrorPpm.isFinite, abs(frequencyErrorPpm) <= 10_000 else {
            throw SimulationError(.invalidParameter, parameter: path + ".frequencyErrorPpm",
                                  message: "\(frequencyErrorPpm) ppm is out of range", hint: "use a value within ±10000 ppm")
        }
        try Check.nonNegative(wanderStepPs, path + ".wanderStepPs")
        try Check.positive(wanderIntervalPs, path + ".wanderIntervalPs")
        // Steps are clipped at ±10σ; keep the clock monotonic: slope of w stays above −0.5.
        guard 20 * wanderStepPs < Double(wanderIntervalPs) else {
            throw SimulationError(.inconsistentParameters, parameter: path + ".wanderStepPs",
                                  message: "wander step \(wanderStepPs) ps is too large for interval \(wanderIntervalPs) ps",
                                  hint: "keep wanderStepPs below 1/20 of wanderIntervalPs so the clock never runs backwards")
        }
    }
}
