/// The attempt clock of a resolved link: the rate attempts (pump pulses of a pair source, heralding
/// attempts of a heralded link) start at, where that rate came from, and the later changes to it.
///
/// This is the one place where the configuration's two rate keys are weighed:
/// `simulation.repetition_rate_hz`, when given, overrides `model.clock.repetition_rate_hz` (the simulation
/// rehearses the link at another rate than its nominal one; the monitor, the coordinator and the simulator
/// then all use the simulated rate).
public struct AttemptClock: Sendable, Equatable {
    /// Which configuration key the initial rate came from.
    public enum Source: String, Sendable, Equatable {
        /// `simulation.repetition_rate_hz`.
        case simulation = "simulation.repetition_rate_hz"
        /// `model.clock.repetition_rate_hz`.
        case model = "model.clock.repetition_rate_hz"
    }

    /// The key the initial rate came from (its YAML spelling is the raw value).
    public let source: Source
    /// The rate in force from link time 0 and every later change.
    public private(set) var schedule: RateSchedule

    /// A clock starting at `rateHz` (from `source`).
    public init(rateHz: Double, source: Source) {
        self.source = source
        schedule = RateSchedule(initialRateHz: rateHz)
    }

    /// The rate `simulation` and `model` resolve to, or nil when neither sets one (the planner chooses it).
    public init?(simulation: SimulationSettings?, model: LinkDescription?) {
        if let rate = simulation?.repetitionRateHz {
            self.init(rateHz: rate, source: .simulation)
        } else if let rate = model?.clock.repetitionRateHz {
            self.init(rateHz: rate, source: .model)
        } else {
            return nil
        }
    }

    /// The initial attempt rate, in Hz.
    public var rateHz: Double { schedule.initialRateHz }
    /// The initial attempt period, in ps (rounded to the nearest ps).
    public var periodPs: Int64 { Self.periodPs(rateHz: rateHz) }

    /// The attempt period of `rateHz`, in ps, rounded to the nearest ps (the simulator's and the herald
    /// decider's attempt grid).
    public static func periodPs(rateHz: Double) -> Int64 { Int64((1e12 / rateHz).rounded()) }

    /// Records that the link runs at `change.rateHz` from `change.fromPs` on.
    /// - Throws: ``RateSchedule/InvalidChange`` when the change is out of order or the rate is not positive.
    public mutating func record(_ change: RateSchedule.Change) throws(RateSchedule.InvalidChange) {
        try schedule.append(change)
    }
}

/// An attempt rate over link time: the initial rate and the changes after it, in time order.
public struct RateSchedule: Sendable, Equatable {
    /// From link time `fromPs` on, attempts run at `rateHz`.
    public struct Change: Sendable, Equatable, Codable {
        /// Link time from which the rate applies, in ps.
        public var fromPs: Int64
        /// The rate, in Hz.
        public var rateHz: Double

        public init(fromPs: Int64, rateHz: Double) {
            self.fromPs = fromPs
            self.rateHz = rateHz
        }
    }

    /// A change that cannot be recorded, with what to do instead.
    public struct InvalidChange: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The rate from link time 0, in Hz.
    public let initialRateHz: Double
    /// Later changes, sorted by `fromPs`.
    public private(set) var changes: [Change] = []

    /// A schedule at `initialRateHz` from link time 0 on.
    public init(initialRateHz: Double) { self.initialRateHz = initialRateHz }

    /// Appends `change`; it must not start before the previous change.
    public mutating func append(_ change: Change) throws(InvalidChange) {
        guard change.rateHz.isFinite, change.rateHz > 0 else {
            throw InvalidChange(description: "rate \(change.rateHz) Hz at \(change.fromPs) ps is not a positive rate; use a rate above 0 Hz")
        }
        if let last = changes.last, change.fromPs < last.fromPs {
            throw InvalidChange(description: "a rate change at \(change.fromPs) ps comes before the previous one at \(last.fromPs) ps; record changes in time order")
        }
        changes.append(change)
    }

    /// The rate in force at link time `timePs`, in Hz.
    public func rateHz(atPs timePs: Int64) -> Double {
        changes.last { $0.fromPs <= timePs }?.rateHz ?? initialRateHz
    }
}
