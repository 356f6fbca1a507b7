/// How attempts are clocked.
public struct LinkClock: Decodable, Sendable, Equatable {
    /// The nominal attempt (repetition) rate in Hz the link runs at; nil when the planner should choose it.
    public var repetitionRateHz: Double?
    /// Number of attempts that may be in flight at once (time-bin, frequency or spatial modes).
    /// With one mode a new attempt waits for the previous herald; with more the travel-time limit
    /// on the attempt rate is multiplied by this number.
    public var multiplexingModes: Int
    /// Classical latency added to every herald (electronics, software), in picoseconds.
    public var classicalLatencyPs: Int64

    public init(repetitionRateHz: Double? = nil, multiplexingModes: Int = 1, classicalLatencyPs: Int64 = 0) {
        self.repetitionRateHz = repetitionRateHz
        self.multiplexingModes = multiplexingModes
        self.classicalLatencyPs = classicalLatencyPs
    }

    enum CodingKeys: String, CodingKey {
        case repetitionRateHz, multiplexingModes, classicalLatencyPs
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        repetitionRateHz = try container.decodeIfPresent(Double.self, forKey: .repetitionRateHz)
        if let rate = repetitionRateHz, !(rate > 0 && rate <= 1e12) {
            throw container.invalid(.repetitionRateHz, "\(rate) is out of range; expected a repetition rate between 0 and 1e12 Hz")
        }
        multiplexingModes = try container.decode(Int.self, forKey: .multiplexingModes, in: 1...1_000_000, default: 1,
                                                 what: "a number of multiplexed modes")
        classicalLatencyPs = try container.decode(Int64.self, forKey: .classicalLatencyPs, in: 0...1_000_000_000_000,
                                                  default: 0, what: "a latency in picoseconds")
    }
}
