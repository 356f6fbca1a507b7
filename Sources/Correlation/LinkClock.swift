import TimeTags

/// The clock relation inside ``LinkAnalysis``: which lab B events can be mapped onto lab A's axis, and how.
struct LinkClock: Sendable {
    let reference: LinkClockReference

    init(_ configuration: LinkAnalysisConfiguration) throws(CorrelationError) {
        reference = configuration.clock
    }

    /// Adds a lab's processed events (lab B on its own clock) to the recovery.
    mutating func add(lab: Int, _ batch: TagBatch) throws(CorrelationError) {}

    /// End of both streams.
    mutating func finish() throws(CorrelationError) {}

    /// Lab A time through which the mapping is final (nil: no lock yet).
    var finalThroughPs: Int64? {
        switch reference {
        case .shared: .max
        }
    }

    /// Lab A time of lab B's time `bPs`, or nil where no lock covers it.
    func mapToA(_ bPs: Int64) -> Int64? {
        switch reference {
        case .shared(let offsetPs): bPs &- offsetPs
        }
    }

    /// How much of each lab's stream is held while there is no lock, ps.
    var holdHorizonPs: Int64 { .max }

    /// The clock part of the snapshot.
    var status: LinkClockStatus {
        switch reference {
        case .shared(let offsetPs):
            var status = LinkClockStatus(lock: .shared)
            status.offsetPs = Estimate(Double(offsetPs), standardError: 0)
            status.driftPpm = Estimate(0, standardError: 0)
            return status
        }
    }
}
