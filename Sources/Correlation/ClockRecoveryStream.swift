/// Whether lab B's clock is locked to lab A's.
public enum ClockLockState: Sendable, Equatable {
    /// No lock yet: acquisition (offset and frequency search) is gathering data or searching.
    case acquiring
    /// Locked: B times can be mapped onto A's axis.
    case locked
    /// Lock was lost at lab A time `sincePs` (the lock test failed); re-acquiring.
    case lost(sincePs: Int64)
}

/// The clock relation at one link time (lab A's axis), each value with its standard error.
public struct ClockEstimate: Sendable, Equatable, Codable {
    /// Lab A time (ps) the estimate refers to.
    public var atPs: Int64
    /// Offset t_B − t_A at `atPs`, ps.
    public var offsetPs: Estimate
    /// Fractional frequency difference of B against A, ppm.
    public var driftPpm: Estimate
    /// RMS of the pairs' lags around the track (jitter of both labs plus tracking error), ps.
    public var residualRmsPs: Double?
    /// Pairs in the latest lock test / measurement.
    public var pairs: Int

    /// An estimate at lab A time `atPs`.
    public init(atPs: Int64, offsetPs: Estimate, driftPpm: Estimate, residualRmsPs: Double?, pairs: Int) {
        self.atPs = atPs; self.offsetPs = offsetPs; self.driftPpm = driftPpm
        self.residualRmsPs = residualRmsPs; self.pairs = pairs
    }
}

/// Something the recovery wants the user to know (the engine logs these and flags them in its snapshot).
public enum ClockEvent: Sendable, Equatable {
    /// First lock: offset t_B − t_A (ps) and drift (ppm) at lab A time `atPs`, and the acquisition peak's
    /// significance against its local background (standard deviations).
    case acquired(atPs: Int64, offsetPs: Double, driftPpm: Double, significance: Double)
    /// The lock test failed from lab A time `atPs` on.
    case lost(atPs: Int64, reason: String)
    /// Lock found again after a loss; `stepPs` is the new offset minus the old track's prediction at `atPs`.
    case reacquired(atPs: Int64, offsetPs: Double, driftPpm: Double, stepPs: Double)
    /// The offset stepped by `stepPs` in the measurement from lab A time `atPs` (the peak left the locked window
    /// and was found again as the window widened); followed without losing lock.
    case step(atPs: Int64, stepPs: Double)
}

/// Settings of ``ClockRecoveryStream``; the defaults lock on free-running taggers: |offset| ≤ 10 ms,
/// |frequency error| ≤ 50 ppm, ≥ 1 000 pairs/s, within 10 s of data.
public struct ClockRecoverySettings: Sendable, Codable, Equatable {
    /// Largest offset |t_B − t_A| searched, ps.
    public var maxOffsetPs: Int64 = 10_000_000_000
    /// Largest frequency difference |ν| searched, ppm.
    public var maxDriftPpm: Double = 50
    /// The first acquisition attempt uses this much lab A time; each later one twice the previous, ps.
    public var firstAcquisitionSpanPs: Int64 = 500_000_000_000
    /// Most lab A time one acquisition attempt uses; after a failed attempt at this span the window slides on
    /// by half of it, ps.
    public var maxAcquisitionSpanPs: Int64 = 10_000_000_000_000
    /// Pair rate (Hz) the acquisition bins are chosen for: the coarse bin is as wide as lets this rate stand 3σ
    /// above the candidate threshold over the accidentals (never finer than `maxSearchCells` allows).
    public var designPairRateHz: Double = 1_000
    /// Probability that one acquisition attempt on data without pairs reports a lock (sets the
    /// look-elsewhere-corrected threshold).
    public var falseLockProbability: Double = 1e-7
    /// Most cells (lag bins × frequency hypotheses) of the coarse search; bounds its time and memory
    /// (two float arrays of about this size).
    public var maxSearchCells: Int = 1 << 23
    /// Tracking block length (lab A time), ps; each block is one lock test and, when it passes, one measurement.
    public var blockPs: Int64 = 100_000_000_000
    /// While the lock test fails a measurement is extended block by block; when it spans this long and still
    /// fails, lock is lost, ps.
    public var maxMeasurementSpanPs: Int64 = 1_000_000_000_000
    /// Lock test threshold (σ, Anscombe score of the peak's pairs against the expected accidentals).
    public var lockSigmas: Double = 5
    /// Random-walk wander of the frequency difference assumed by the tracking filter, ppm per √s.
    public var wanderPpmPerRootSecond: Double = ClockTracker().wanderPpmPerRootSecond
    /// Random-walk wander of the frequency difference's rate assumed by the tracking filter, ppm/s per √s.
    public var driftRateWanderPpmPerSecondPerRootSecond: Double = ClockTracker().driftRateWanderPpmPerSecondPerRootSecond
    /// Longest lag of the tracking smoother, ps: each measurement becomes final (and lab B events near it are
    /// mapped) once the track is three filter time constants past it (about 2.4 s at 100 pairs/s, 0.5 s at
    /// 10⁶ pairs/s), at most this; 0: the causal filter alone, as the live coordinator runs it (``causal``).
    public var smoothingLagPs: Int64 = ClockTracker().smoothingLagPs
    /// Smallest tracking search half-width, ps.
    public var finalHalfWidthPs: Int64 = 500

    /// The default settings.
    public init() {}

    /// The defaults without smoothing: each measurement is final as soon as it is made (the live coordinator,
    /// which must not wait for later data).
    public static var causal: ClockRecoverySettings {
        var settings = ClockRecoverySettings()
        settings.smoothingLagPs = 0
        return settings
    }
}

/// Clock recovery fed in chunks: lab A and lab B event times (each stream sorted, any chunk sizes), acquisition,
/// then tracking with a lock test on every block, loss-of-lock detection and re-acquisition.
///
/// Offsets are `t_B − t_A` for the two detections of one pair, as a function of lab A time. Acquisition
/// (``ClockAcquisition``: stack-and-slide offset and frequency search, then refinement) runs on the buffered
/// start of the streams at spans doubling from ``ClockRecoverySettings/firstAcquisitionSpanPs``; tracking
/// (``ClockTrackingStream``) then follows from the start of that span, block by block, each block a lock test.
public struct ClockRecoveryStream: Sendable {
    /// One stretch of lock: from its acquisition to its loss (open while locked).
    struct Epoch: Sendable {
        var lock: ClockAcquisition.Lock
        var samples: [OffsetSample] = []
        var endPs: Int64?

        /// Offset at `t` from the measurements (from the acquisition before the first one).
        func offsetPs(at t: Int64) -> Double { piece(containing: t).offsetPs(at: t) }

        /// The linear piece of the offset that holds `t` (unbounded by the epoch's own span).
        func piece(containing t: Int64) -> OffsetPiece {
            guard !samples.isEmpty else {
                return OffsetPiece(lowerPs: .min, upperPs: .max, originPs: lock.startPs, offsetPs: lock.offsetPs, slope: lock.drift)
            }
            return ClockTrack.piece(of: samples, containing: t)
        }
    }

    /// Events of one lab buffered while the other has sent none, before the oldest are dropped.
    static let silentLabBufferLimit = 1 << 25
    /// The settings in use.
    public let settings: ClockRecoverySettings
    private let acquisition: ClockAcquisition
    private var pendingA: [Int64] = []
    private var pendingB: [Int64] = []
    private var lastA: Int64 = .min, lastB: Int64 = .min
    /// Span of the next acquisition attempt, and the A time it starts at (the first pending A event).
    private var nextSpanPs: Int64
    private var tracker: ClockTrackingStream?
    private var epochs: [Epoch] = []
    private var lastEstimate: ClockEstimate?
    private var events: [ClockEvent] = []
    /// Steps of the current tracker already turned into events.
    private var reportedSteps = 0
    private var finished = false
    /// Whether B's clock is locked to A's.
    public private(set) var state: ClockLockState = .acquiring
    /// The latest acquisition attempt (nil before the first).
    public private(set) var lastAttempt: ClockAcquisitionAttempt?

    /// A stream with `settings`.
    public init(settings: ClockRecoverySettings = .init()) throws(CorrelationError) {
        guard settings.maxOffsetPs > 0, settings.maxDriftPpm >= 0, settings.maxDriftPpm < 1_000, settings.blockPs > 0,
              settings.finalHalfWidthPs > 0, settings.wanderPpmPerRootSecond >= 0, settings.firstAcquisitionSpanPs > 0,
              settings.driftRateWanderPpmPerSecondPerRootSecond >= 0, settings.smoothingLagPs >= 0,
              settings.maxAcquisitionSpanPs >= settings.firstAcquisitionSpanPs, settings.designPairRateHz > 0,
              settings.falseLockProbability > 0, settings.falseLockProbability < 1, settings.maxSearchCells >= 1 << 10,
              settings.maxMeasurementSpanPs >= settings.blockPs, settings.lockSigmas >= 0 else {
            throw CorrelationError(.invalidParameter,
                                   "offset range, spans, block, window, pair rate and cells must be positive, wanders and lag not negative, drift range 0…1000 ppm, "
                                   + "false-lock probability in (0, 1), acquisition spans first ≤ max, measurement span ≥ block",
                                   context: "clock recovery settings")
        }
        self.settings = settings
        acquisition = ClockAcquisition(maxOffsetPs: settings.maxOffsetPs, maxDrift: settings.maxDriftPpm * 1e-6,
                                       maxCells: settings.maxSearchCells, designPairRateHz: settings.designPairRateHz,
                                       falseLockProbability: settings.falseLockProbability)
        nextSpanPs = settings.firstAcquisitionSpanPs
    }

    /// Adds sorted lab A times (continuing the previous ones).
    public mutating func appendA(_ timesPs: [Int64]) throws(CorrelationError) {
        try checkSorted(timesPs, after: lastA, lab: "A")
        guard let last = timesPs.last else { return }
        lastA = last
        if tracker != nil { try tracker?.appendA(timesPs) } else { pendingA += timesPs }
        try advance(final: false)
    }

    /// Adds sorted lab B times (on B's own clock).
    public mutating func appendB(_ timesPs: [Int64]) throws(CorrelationError) {
        try checkSorted(timesPs, after: lastB, lab: "B")
        guard let last = timesPs.last else { return }
        lastB = last
        if tracker != nil { try tracker?.appendB(timesPs) } else { pendingB += timesPs }
        try advance(final: false)
    }

    /// End of both streams: processes what remains (a last acquisition attempt on all buffered data if not locked).
    public mutating func finish() throws(CorrelationError) {
        try advance(final: true)
        if tracker != nil {
            _ = try? tracker?.finish()
            syncEpoch()
        }
        finished = true
    }

    /// Latest estimate (nil before the first lock).
    public var estimate: ClockEstimate? {
        guard let tracker, let epoch = epochs.last else { return lastEstimate }
        guard let pairs = tracker.latestPairs else {
            let lock = epoch.lock
            return ClockEstimate(atPs: lock.startPs, offsetPs: Estimate(lock.offsetPs, standardError: lock.offsetSigmaPs),
                                 driftPpm: Estimate(lock.drift * 1e6, standardError: lock.driftSigma * 1e6), residualRmsPs: nil, pairs: 0)
        }
        // The filter's state at its latest measurement: causal (the smoother revises only the track behind it; at
        // the newest measurement both agree).
        let filter = tracker.filterState
        return ClockEstimate(atPs: filter.reference, offsetPs: Estimate(filter.offsetPs, standardError: filter.offsetSigmaPs),
                             driftPpm: Estimate(filter.drift * 1e6, standardError: filter.driftSigma * 1e6),
                             residualRmsPs: tracker.residualRmsPs, pairs: pairs)
    }

    /// Events held: those buffered for acquisition (bounded by ``ClockRecoverySettings/maxAcquisitionSpanPs``
    /// of each lab plus the offset reach) and the tracker's current block.
    public var bufferedEvents: Int { pendingA.count + pendingB.count + (tracker?.bufferedEvents ?? 0) }

    /// Events since the last call (acquired, lost, reacquired), oldest first.
    public mutating func takeEvents() -> [ClockEvent] {
        defer { events.removeAll() }
        return events
    }

    /// Lab A time through which the track is final: B events whose A time is ≤ this can be mapped now and the
    /// mapping will not change (nil before lock; `Int64.max` after ``finish()``).
    public var finalThroughPs: Int64? {
        if finished { return epochs.isEmpty ? nil : .max }
        guard let epoch = epochs.last else { return nil }
        if let end = epoch.endPs { return end }
        return epoch.samples.last?.timePs
    }

    /// Offset t_B − t_A (ps) at lab A time `aPs` from the track: nil before the first lock and in the gaps
    /// between a loss of lock and the next acquisition's span. The acquisition span itself is covered (from
    /// the acquisition's result until the first measurement, then from the measurements), as is everything
    /// before the first acquisition span.
    public func offsetPs(atAPs aPs: Int64) -> Double? {
        guard let piece = offsetPiece(containing: aPs) else { return nil }
        return piece.offsetPs(at: aPs)
    }

    /// The linear piece of the track that holds lab A time `aPs`, bounded by its epoch's span (nil where
    /// ``offsetPs(atAPs:)`` is nil). Lab B's events are mapped piece by piece.
    func offsetPiece(containing aPs: Int64) -> OffsetPiece? {
        guard let index = epochIndex(at: aPs) else { return nil }
        let epoch = epochs[index]
        let lower = index == 0 ? Int64.min : epoch.lock.startPs
        var upper = index + 1 < epochs.count ? epochs[index + 1].lock.startPs &- 1 : .max
        if let end = epoch.endPs { upper = min(upper, end) }
        return epoch.piece(containing: aPs).clamped(lower, upper)
    }

    /// The whole track so far (one sample per measurement), for plots and the report. Mean drift and residual
    /// jitter are those of the latest lock.
    public var track: ClockTrack {
        let samples = epochs.flatMap(\.samples)
        let current = epochs.last?.samples ?? []
        let meanDrift = current.count > 1
            ? (current[current.count - 1].offsetPs - current[0].offsetPs) / Double(max(1, current[current.count - 1].timePs - current[0].timePs)) * 1e6
            : current.first?.driftPpm ?? epochs.last.map { $0.lock.drift * 1e6 } ?? 0
        return ClockTrack(samples: samples, meanDriftPpm: meanDrift, residualJitterPs: estimate?.residualRmsPs ?? 0)
    }

    private func epochIndex(at t: Int64) -> Int? {
        guard !epochs.isEmpty else { return nil }
        var index = epochs.count - 1
        while index > 0, t < epochs[index].lock.startPs { index -= 1 }
        if index > 0 || t >= epochs[0].lock.startPs, let end = epochs[index].endPs, t > end { return nil }
        return index
    }

    private func checkSorted(_ times: [Int64], after previous: Int64, lab: String) throws(CorrelationError) {
        guard let first = times.first else { return }
        guard first >= previous, times.withUnsafeBufferPointer({ firstUnsortedIndex($0, notBeforePs: first) }) == nil else {
            throw CorrelationError(.unsortedInput, "lab \(lab) times go backwards", context: "clock recovery",
                                   hint: "feed each lab's times in time order")
        }
    }

    /// Acquires when enough data is buffered; while tracking, copies new measurements and handles a loss.
    private mutating func advance(final: Bool) throws(CorrelationError) {
        if tracker != nil {
            syncEpoch()
            guard let since = tracker?.lostSincePs else { return }
            loseLock(since: since)
        }
        while tracker == nil, try attemptAcquisition(final: final) {}
    }

    /// One acquisition attempt when the data covers the next span (or at the end); true when another attempt
    /// may follow at once.
    private mutating func attemptAcquisition(final: Bool) throws(CorrelationError) -> Bool {
        guard let start = pendingA.first, !pendingB.isEmpty else {
            // One lab silent so far: past `silentLabBufferLimit` events, keep only the other's latest acquisition
            // span (plus the offset reach), so memory stays bounded.
            let keep = settings.maxAcquisitionSpanPs &+ acquisition.reachPs(spanPs: settings.maxAcquisitionSpanPs)
            if pendingB.isEmpty, pendingA.count > Self.silentLabBufferLimit, let last = pendingA.last {
                pendingA.removeFirst(firstIndex(in: pendingA, atOrAbove: last &- keep))
            }
            if pendingA.isEmpty, pendingB.count > Self.silentLabBufferLimit, let last = pendingB.last {
                pendingB.removeFirst(firstIndex(in: pendingB, atOrAbove: last &- keep))
            }
            return false
        }
        let span = nextSpanPs
        let covered = lastA >= start &+ span && lastB >= start &+ span &+ acquisition.reachPs(spanPs: span)
        if !covered {
            // At the end, one attempt on everything there is (unless the last attempt already saw it all).
            guard final, lastAttempt.map({ $0.startPs != start || $0.spanPs < lastA - start + 1 }) ?? true else { return false }
        }
        let used = covered ? span : lastA - start + 1
        let found = acquisition.search(a: pendingA, b: pendingB, startPs: start, spanPs: used)
        lastAttempt = found.attempt
        guard let lock = found.lock else {
            if span < settings.maxAcquisitionSpanPs {
                nextSpanPs = min(2 * span, settings.maxAcquisitionSpanPs)
            } else {
                // Slide on by half the span; B keeps what the next window can reach.
                let newStart = start &+ span / 2
                pendingA.removeFirst(firstIndex(in: pendingA, atOrAbove: newStart))
                pendingB.removeFirst(firstIndex(in: pendingB, atOrAbove: newStart &- acquisition.reachPs(spanPs: span)))
            }
            return covered
        }
        try startTracking(lock)
        return false
    }

    /// The tracker's settings for a lock with standard errors `offsetSigmaPs` and `driftSigma` (fraction): it starts
    /// from the acquisition's own errors (its window ``ClockTracker/searchSigmas`` of them, at least
    /// `finalHalfWidthPs`), which its fit to the pairs states with unit pulls over seeds (`ClockAcquisitionPullTests`).
    static func trackerSettings(_ settings: ClockRecoverySettings, offsetSigmaPs: Double, driftSigma: Double) -> ClockTracker {
        var trackerSettings = ClockTracker()
        trackerSettings.blockPs = settings.blockPs
        trackerSettings.maxBlockPs = settings.maxMeasurementSpanPs
        trackerSettings.initialHalfWidthPs = max(settings.finalHalfWidthPs,
                                                 Int64((trackerSettings.searchSigmas * offsetSigmaPs).rounded(.up)))
        trackerSettings.initialDriftUncertaintyPpm = driftSigma * 1e6
        trackerSettings.wanderPpmPerRootSecond = settings.wanderPpmPerRootSecond
        trackerSettings.driftRateWanderPpmPerSecondPerRootSecond = settings.driftRateWanderPpmPerSecondPerRootSecond
        trackerSettings.smoothingLagPs = settings.smoothingLagPs
        trackerSettings.finalHalfWidthPs = settings.finalHalfWidthPs
        trackerSettings.lockSigmas = settings.lockSigmas
        return trackerSettings
    }

    private mutating func startTracking(_ lock: ClockAcquisition.Lock) throws(CorrelationError) {
        let trackerSettings = Self.trackerSettings(settings, offsetSigmaPs: lock.offsetSigmaPs, driftSigma: lock.driftSigma)
        var stream = try ClockTrackingStream(settings: trackerSettings, initialOffsetPs: Int64(lock.offsetPs.rounded()),
                                             initialDriftPpm: lock.drift * 1e6)
        let previous = epochs.last
        let relocking: Bool
        if case .lost = state { relocking = true } else { relocking = false }
        epochs.append(Epoch(lock: lock))
        state = .locked
        nextSpanPs = settings.firstAcquisitionSpanPs
        try stream.appendA(pendingA)
        try stream.appendB(pendingB)
        pendingA = []; pendingB = []
        tracker = stream
        reportedSteps = 0
        syncEpoch()
        if relocking, let previous {
            // The step against the old track's prediction, from the first tracking measurement when there is one
            // (the acquisition's own offset refers to the start of its span).
            let first = stream.firstMeasurement
            let at = first?.timePs ?? lock.startPs
            let offset = first?.measuredOffsetPs ?? lock.offsetPs
            events.append(.reacquired(atPs: lock.startPs, offsetPs: lock.offsetPs, driftPpm: lock.drift * 1e6,
                                      stepPs: offset - previous.offsetPs(at: at)))
        } else {
            events.append(.acquired(atPs: lock.startPs, offsetPs: lock.offsetPs, driftPpm: lock.drift * 1e6, significance: lock.significance))
        }
        if let since = tracker?.lostSincePs { loseLock(since: since) }
    }

    /// Copies the tracker's measurements into the current epoch, and its steps into the events.
    private mutating func syncEpoch() {
        guard let tracker, !epochs.isEmpty else { return }
        let have = epochs[epochs.count - 1].samples.count
        let count = tracker.measurements.count
        if count > have { epochs[epochs.count - 1].samples.append(contentsOf: tracker.measurements[have..<count]) }
        for step in tracker.steps.dropFirst(reportedSteps) { events.append(.step(atPs: step.atPs, stepPs: step.stepPs)) }
        reportedSteps = tracker.steps.count
    }

    /// The lock test failed over a whole measurement span from `since`: close the epoch, keep the unused events
    /// for the next acquisition.
    private mutating func loseLock(since: Int64) {
        guard let stream = tracker else { return }
        syncEpoch()
        lastEstimate = estimate
        let unused = stream.unusedEvents
        tracker = nil
        epochs[epochs.count - 1].endPs = since
        pendingA = unused.a
        pendingB = unused.b
        state = .lost(sincePs: since)
        let spanMs = Double(settings.maxMeasurementSpanPs) / 1e9
        events.append(.lost(atPs: since, reason: "no coincidence peak above the accidentals within the tracking window for \(spanMs) ms "
                            + "(lock test \(settings.lockSigmas) σ); searching offset and frequency again"))
    }
}
