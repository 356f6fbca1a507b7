import TimeTags

/// The clock relation inside ``LinkAnalysis``: which lab B events can be mapped onto lab A's axis, and how.
/// With an independent clock, ``ClockRecoveryStream`` is fed each lab's events on the pairs' channels (after
/// their delays); lab B events are mapped through its track once it is final for their time.
struct LinkClock: Sendable {
    let reference: LinkClockReference
    private var recovery: ClockRecoveryStream?
    /// The pairs' channels of each lab, whose events the recovery is fed.
    private let trackedA: ChannelTable
    private let trackedB: ChannelTable
    /// Events not yet taken by the caller, and every event as a readable line.
    private var events: [ClockEvent] = []
    private var eventLines: [String] = []
    private var lastEstimate: ClockEstimate?
    private var measurements = 0
    private var residualPs: Double?
    /// The latest offset estimate, ps: the starting point of each lab B event's mapping.
    private var latestOffsetPs: Double?
    /// The latest lab B time handed out on lab A's axis (independent clocks): the mapping never goes back before it.
    private var lastMappedPs: Int64 = .min

    init(_ configuration: LinkAnalysisConfiguration) throws(CorrelationError) {
        reference = configuration.clock
        trackedA = ChannelTable(configuration.pairs.map(\.first))
        trackedB = ChannelTable(configuration.pairs.map(\.second))
        if case .independent(let settings) = configuration.clock, configuration.twoLabs {
            recovery = try ClockRecoveryStream(settings: settings)
        }
    }

    /// Adds a lab's processed events (lab B on its own clock) to the recovery.
    mutating func add(lab: Int, _ batch: TagBatch) throws(CorrelationError) {
        guard recovery != nil, !batch.isEmpty else { return }
        let tracked = lab == 0 ? trackedA : trackedB
        let times = tracked.times(of: batch)
        if lab == 0 { try recovery?.appendA(times) } else { try recovery?.appendB(times) }
        collect()
    }

    /// End of both streams.
    mutating func finish() throws(CorrelationError) {
        try recovery?.finish()
        collect()
    }

    /// Takes the recovery's new events and estimate: the residual of each new measurement against the previous
    /// one's prediction, and the step of a re-acquisition.
    private mutating func collect() {
        guard var recovery else { return }
        let new = recovery.takeEvents()
        let estimate = recovery.estimate
        self.recovery = recovery
        latestOffsetPs = estimate?.offsetPs.value
        for event in new {
            events.append(event)
            eventLines.append(event.text)
            if case .reacquired(_, _, _, let stepPs) = event { residualPs = stepPs; lastEstimate = nil }
        }
        guard let estimate, estimate.atPs != lastEstimate?.atPs else { return }
        if let previous = lastEstimate, estimate.pairs > 0 {
            let predicted = previous.offsetPs.value + previous.driftPpm.value * 1e-6 * Double(estimate.atPs - previous.atPs)
            residualPs = estimate.offsetPs.value - predicted
        }
        if estimate.pairs > 0 { measurements += 1 }
        lastEstimate = estimate
    }

    /// Events since the last call, oldest first.
    mutating func takeEvents() -> [ClockEvent] {
        defer { events.removeAll() }
        return events
    }

    /// Whether lock was lost and the recovery is searching again (events past the old track wait for it).
    var isReacquiring: Bool {
        if case .lost = recovery?.state { return true }
        return false
    }

    /// Events the recovery holds (acquisition buffers and the tracker's block).
    var bufferedEvents: Int { recovery?.bufferedEvents ?? 0 }

    /// Lab A time through which the mapping is final (nil: no lock yet).
    var finalThroughPs: Int64? {
        switch reference {
        case .shared: .max
        case .independent: recovery?.finalThroughPs
        }
    }

    /// Lab A time of lab B's time `bPs`, or nil where no lock covers it.
    func mapToA(_ bPs: Int64) -> Int64? {
        switch reference {
        case .shared(let offsetPs):
            return bPs &- offsetPs
        case .independent:
            guard let start = latestOffsetPs else { return nil }
            return mapThroughTrack(bPs, startOffsetPs: start)
        }
    }

    /// t_B = t_A + offset(t_A) solved for t_A by fixed-point iterations from `startOffsetPs`; nil where no lock
    /// covers it. Each step shrinks the error
    /// by the drift (≤ 1e-3), so once a step moves the offset by less than 16 ps the result is within 0.016 ps of
    /// the solution: from a neighbouring event's offset that is the first step.
    private func mapThroughTrack(_ bPs: Int64, startOffsetPs: Double) -> Int64? {
        guard let recovery else { return nil }
        var offset = startOffsetPs
        for _ in 0..<3 {
            guard let next = recovery.offsetPs(atAPs: nearestInt64(Double(bPs) - offset)) else { return nil }
            let settled = abs(next - offset) < 16
            offset = next
            if settled { break }
        }
        return nearestInt64(Double(bPs) - offset)
    }

    /// Takes from the front of `pending` (lab B's processed events on its own clock) the events whose lab A time
    /// is at most `throughPs`, mapped onto lab A's axis and sorted (in chunks: with a shared clock the held chunks
    /// themselves, shifted in place); events before that time that no lock covers
    /// (a gap between a loss and the re-acquisition) are dropped and counted.
    ///
    /// Lab B's events leave in time order on lab A's axis, across calls too (the cross-lab scan and the merger
    /// rely on it). The track is continuous, but its pieces are solved in closed form on each side of a
    /// boundary and rounded to the ps, so two events a ps apart on either side can map a ps out of order; an
    /// event that would map before the previous one is given the previous one's time (it moves by that rounding,
    /// a picosecond: the pieces meet at the track's samples and epochs do not overlap on lab A's axis).
    mutating func takeMapped(_ pending: inout HeldChunks, throughPs: Int64) -> (mapped: [TagBatch], unmapped: Int64) {
        switch reference {
        case .shared(let offsetPs):
            // t_A = t_B − offset ≤ throughPs ⇔ t_B ≤ throughPs + offset (saturating).
            let (limit, overflow) = throughPs.addingReportingOverflow(offsetPs)
            if overflow && offsetPs < 0 { return ([], 0) }
            var mapped = pending.take(through: overflow ? .max : limit)
            if offsetPs != 0 {
                for index in mapped.indices {
                    mapped[index].timesPs.withUnsafeMutableBufferPointer { times in
                        for index in times.indices { times[index] &-= offsetPs }
                    }
                }
            }
            return (mapped, 0)
        case .independent:
            guard let start = latestOffsetPs, let recovery else { return ([], 0) }
            let count = pending.count
            var times = [Int64](), channels = [TagChannel]()
            times.reserveCapacity(count); channels.reserveCapacity(count)
            var unmapped: Int64 = 0
            // Whole chunks taken, then the events taken of the next one.
            var wholeChunks = 0, cut = 0
            // Whether the previous event was mapped: its offset (`lastB − lastA`) is then the starting point of the
            // next one's lookup.
            var chained = false
            var lastB: Int64 = 0, lastA: Int64 = 0
            // The linear piece of the track the previous event was mapped on: the next one is solved on it in
            // closed form while its solution stays inside; past the piece's end (or in a gap) the fixed-point
            // lookup finds the next piece.
            var piece = OffsetPiece(lowerPs: 1, upperPs: 0, originPs: 0, offsetPs: 0, slope: 0)
            // The latest time handed out: no event maps before it.
            var previous = lastMappedPs
            chunks: for chunk in pending.chunks {
                var stopped = false
                cut = 0
                chunk.timesPs.withUnsafeBufferPointer { pendingTimes in
                    chunk.channels.withUnsafeBufferPointer { pendingChannels in
                        for index in 0..<min(pendingTimes.count, pendingChannels.count) {
                            let bPs = pendingTimes[index]
                            var found: Int64? = piece.aPs(ofB: bPs)
                            if let aPs = found, aPs < piece.lowerPs || aPs > piece.upperPs {
                                found = mapThroughTrack(bPs, startOffsetPs: chained ? Double(lastB &- lastA) : start)
                                if let found { piece = recovery.offsetPiece(containing: found) ?? piece }
                            }
                            if let found, found <= throughPs {
                                previous = max(found, previous)
                                times.append(previous)
                                channels.append(pendingChannels[index])
                                chained = true
                                lastB = bPs; lastA = found
                            } else if found == nil && approximateA(bPs) <= throughPs {
                                unmapped += 1  // no lock covers this event (a gap between loss and re-acquisition)
                                chained = false
                            } else {
                                stopped = true
                                break
                            }
                            cut = index + 1
                        }
                    }
                }
                if stopped { break chunks }
                wholeChunks += 1
                cut = 0
            }
            pending.drop(chunks: wholeChunks, thenEvents: cut)
            lastMappedPs = previous
            return (times.isEmpty ? [] : [TagBatch(timesPs: times, channels: channels)], unmapped)
        }
    }

    /// Lab B's time `bPs` on lab A's axis by the latest offset (for ordering and gaps), or its own time.
    func approximateA(_ bPs: Int64) -> Int64 {
        guard let offset = latestOffsetPs else { return mapToA(bPs) ?? bPs }
        return bPs &- Int64(offset.rounded())
    }

    /// How much of each lab's stream is held while there is no lock, ps (the longest acquisition span plus
    /// the largest offset: all the recovery can cover once it locks).
    var holdHorizonPs: Int64 {
        guard let settings = recovery?.settings else { return .max }
        return settings.maxAcquisitionSpanPs &+ settings.maxOffsetPs
    }

    /// The offset and drift ranges searched, e.g. "offsets ±10.0 ms, frequency errors ±50.0 ppm".
    var searchedRange: String {
        guard let settings = recovery?.settings else { return "nothing" }
        return "offsets ±\((Double(settings.maxOffsetPs) / 1e8).rounded() / 10) ms, frequency errors ±\((settings.maxDriftPpm * 10).rounded() / 10) ppm"
    }

    /// The latest acquisition attempt, for a message when lock never came.
    var lastAttempt: ClockAcquisitionAttempt? { recovery?.lastAttempt }

    /// The clock part of the snapshot.
    var status: LinkClockStatus {
        switch reference {
        case .shared(let offsetPs):
            var status = LinkClockStatus(lock: .shared)
            status.offsetPs = Estimate(Double(offsetPs), standardError: 0)
            status.driftPpm = Estimate(0, standardError: 0)
            return status
        case .independent:
            var status = LinkClockStatus(lock: .acquiring)
            switch recovery?.state {
            case .locked: status.lock = .locked
            case .lost(let since): status.lock = .lost; status.lostSincePs = since
            case .acquiring, nil: status.lock = .acquiring
            }
            if let estimate = recovery?.estimate {
                status.atPs = estimate.atPs
                // Tags resolve 1 ps. Readouts without jitter on an attempt grid are all rounded alike by lab B's
                // tagger (when ν·period is a whole number of ps), so the pairs cannot average the rounding out:
                // the offset is known no better than the rounding's spread, 1 ps/√12, added in quadrature.
                var offset = estimate.offsetPs
                offset.standardError = (offset.standardError * offset.standardError + 1.0 / 12).squareRoot()
                status.offsetPs = offset
                status.driftPpm = estimate.driftPpm
                status.residualRmsPs = estimate.residualRmsPs
            }
            status.residualPs = residualPs
            status.measurements = measurements
            status.events = eventLines
            return status
        }
    }
}

/// `x` rounded to the nearest integer, halves away from zero (without the libm call of `rounded()`).
@inline(__always) private func nearestInt64(_ x: Double) -> Int64 { Int64(x < 0 ? x - 0.5 : x + 0.5) }

extension ClockEvent {
    /// The event as one readable line (times as link seconds on lab A's axis).
    public var text: String {
        let s = { (ps: Int64) in String(Double(ps) * 1e-12) }
        switch self {
        case .acquired(let at, let offset, let drift, let significance):
            return "acquired at link time \(s(at)) s: offset \(Int64(offset.rounded())) ps, drift \(drift) ppm, \(Int(significance.rounded())) σ"
        case .lost(let at, let reason):
            return "lost at link time \(s(at)) s: \(reason)"
        case .reacquired(let at, let offset, let drift, let step):
            return "re-acquired at link time \(s(at)) s: offset \(Int64(offset.rounded())) ps (step \(Int64(step.rounded())) ps), drift \(drift) ppm"
        case .step(let at, let step):
            return "step of lab B's clock at link time \(s(at)) s: offset moved \(Int64(step.rounded())) ps, followed"
        }
    }

    /// Whether the user should be warned (lock lost, or found again after a step) rather than informed.
    public var isWarning: Bool {
        if case .acquired = self { return false }
        return true
    }
}
