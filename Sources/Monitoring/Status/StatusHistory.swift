import Correlation

/// What the dashboard plots, one point per observation, kept for hours so a page opened late shows the run so far.
public struct HistoryPoint: Sendable, Codable, Equatable {
    /// End of the observation's window, on the coordinator's time axis, in ps.
    public var timePs: Int64
    /// Count rate per arm, Hz.
    public var armRatesHz: [String: Double]
    public var coincidenceRateHz: Double?
    public var car: Double?
    public var fidelity: Double?
    public var fidelityError: Double?
    /// True when ``fidelity`` is the Z/X lower bound.
    public var fidelityIsLowerBound: Bool
    public var clockOffsetPs: Double?
    public var heraldRateHz: Double?
    /// Visibility per basis.
    public var visibility: [String: Double]

    /// The point of `observation`.
    public init(_ observation: LinkObservation) {
        timePs = observation.timePs
        armRatesHz = observation.armRatesHz
        coincidenceRateHz = observation.coincidenceRateHz?.value
        car = observation.car?.value
        fidelity = observation.fidelity?.value
        fidelityError = observation.fidelity?.standardError
        fidelityIsLowerBound = observation.fidelityIsLowerBound
        clockOffsetPs = observation.clockOffsetPs
        heraldRateHz = observation.heraldRateHz?.value
        visibility = observation.visibility.mapValues(\.value)
    }
}

/// The recent past of a link: a ring buffer of ``HistoryPoint``s (one a second for `capacity` seconds) and the
/// latest alert transitions, served as `GET /history`.
public struct StatusHistory: Sendable {
    /// Points kept (six hours at one a second by default).
    public let capacity: Int
    /// Alert transitions kept.
    public let transitionCapacity: Int
    private var points: [HistoryPoint] = []
    private var head = 0
    private(set) var transitions: [AlertTransition] = []

    public init(capacity: Int = 6 * 3600, transitionCapacity: Int = 100) {
        self.capacity = max(1, capacity)
        self.transitionCapacity = max(1, transitionCapacity)
    }

    /// Adds a point, dropping the oldest when full.
    public mutating func append(_ point: HistoryPoint) {
        if points.count < capacity {
            points.append(point)
        } else {
            points[head] = point
            head = (head + 1) % capacity
        }
    }

    /// Adds alert transitions, keeping the newest.
    public mutating func append(_ new: [AlertTransition]) {
        transitions += new
        if transitions.count > transitionCapacity { transitions.removeFirst(transitions.count - transitionCapacity) }
    }

    /// The points of the last `seconds` of link time, oldest first, thinned evenly to at most `maxPoints` (the
    /// newest always kept).
    public func reply(seconds: Double, maxPoints: Int = 2_000) -> StatusHistoryReply {
        let ordered = Array(points[head...] + points[..<head])
        guard let last = ordered.last else { return StatusHistoryReply(points: [], alertTransitions: transitions) }
        let from = last.timePs - Int64(max(0, min(seconds, 1e6)) * 1e12)
        let recent = ordered.drop { $0.timePs < from }
        let count = recent.count, limit = max(2, maxPoints)
        let kept = count <= limit ? Array(recent)
            : (0..<limit).map { recent[recent.startIndex + $0 * (count - 1) / (limit - 1)] }
        return StatusHistoryReply(points: kept, alertTransitions: transitions)
    }
}

/// The body of `GET /history`.
public struct StatusHistoryReply: Sendable, Codable, Equatable {
    /// Points, oldest first.
    public var points: [HistoryPoint]
    /// The latest alert transitions, oldest first.
    public var alertTransitions: [AlertTransition]
}
