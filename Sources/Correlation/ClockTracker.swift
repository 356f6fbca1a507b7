/// Settings of the clock-tracking loop that follows a slowly varying offset between two labs' clocks.
///
/// The run is cut into blocks of lab A time. In each block the lags `t_B − t_A − predicted(t_A)` of events
/// within a search window around the predicted offset are collected; when the peak passes the lock test (its
/// pairs against the accidentals expected in its guard band, ``lockSigmas``) the peak's fit is a measurement
/// of the offset and of the frequency difference at the pairs' mean time, with variances from the pairs' count
/// and spread. A three-state Kalman filter (offset, frequency difference and its rate; the frequency and its rate
/// each a random walk, ``wanderPpmPerRootSecond`` and ``driftRateWanderPpmPerSecondPerRootSecond``) combines the
/// measurements, so a low pair rate is averaged over many blocks and a high one followed closely. A fixed-lag
/// Rauch–Tung–Striebel smoother (``smoothingLagPs``; 0: the causal filter alone) then revises each measurement
/// with the data after it before it becomes final. The search window follows the filter's own prediction
/// uncertainty. Blocks that fail the test are extended (up to ``maxBlockPs``); a measurement that still fails
/// there marks the lock as lost and tracking stops (``ClockRecoveryStream`` then acquires again).
public struct ClockTracker: Sendable, Codable {
    /// Length of each block, in picoseconds of lab A time.
    public var blockPs: Int64 = 1_000_000_000_000
    /// Longest span a measurement may gather pairs over before it is given up (0: eight blocks).
    public var maxBlockPs: Int64 = 0
    /// Window half-width at the start (covers the initial offset uncertainty).
    public var initialHalfWidthPs: Int64 = 1_000_000
    /// Smallest window half-width.
    public var finalHalfWidthPs: Int64 = 500
    /// Widest window the step search may open to, besides four times ``initialHalfWidthPs``: a lock that starts
    /// from a precise acquisition (a window of a few hundred ps) still follows a clock step of tens of ns in lock.
    public var stepCeilingHalfWidthPs: Int64 = 400_000
    /// Fewest pairs a measurement may have (the fit needs a few); the lock test below decides.
    public var minimumPairs: Int = 10
    /// Lock test: the pairs in the peak's guard band must stand this many standard deviations above the
    /// accidentals expected there (Anscombe score `2·(√(n + 3/8) − √(μ + 3/8))`, conservative for small counts);
    /// blocks that fail are extended, and when a measurement spanning ``maxBlockPs`` fails, lock is lost.
    public var lockSigmas: Double = 5
    /// Uncertainty of the initial frequency difference, in parts per million.
    public var initialDriftUncertaintyPpm: Double = 0.5
    /// Uncertainty of the initial rate of change of the frequency difference, in ppm per second.
    public var initialDriftRateUncertaintyPpmPerSecond: Double = 0.01
    /// Random-walk wander of the frequency difference, in ppm per √second (the filter's process noise).
    public var wanderPpmPerRootSecond: Double = 0.000_01
    /// Random-walk wander of the frequency difference's rate of change (temperature, ageing), in ppm per second
    /// per √second (the filter's process noise).
    public var driftRateWanderPpmPerSecondPerRootSecond: Double = 0.000_01
    /// Longest lag of the smoother, ps of lab A time: a measurement becomes final once the track has gone
    /// three filter time constants past it (the time over which a pair rate's measurements average, from the
    /// pairs' rate and spread and the wander), at most this long; 0: the causal filter alone (live use).
    public var smoothingLagPs: Int64 = 10_000_000_000_000
    /// The search window is this many standard deviations of the predicted offset (plus the pair spread).
    public var searchSigmas: Double = 8
    /// While blocks fail the lock test the search window also widens as if the frequency wandered this much,
    /// in ppm per √second (`searchSigmas·√(q·Δ³/3)` after Δ without a measurement): a step of lab B's clock
    /// of a few ns is found again and followed (``ClockEvent/step(atPs:stepPs:)``), while the filter itself
    /// assumes the much smaller ``wanderPpmPerRootSecond``.
    public var stepSearchPpmPerRootSecond: Double = 0.002

    public init() {}

    /// Tracks the offset of sorted times `b` (lab B) against `a` (lab A), starting from `initialOffsetPs`
    /// at the first A event and `initialDriftPpm`.
    public func track(a: [Int64], b: [Int64], initialOffsetPs: Int64, initialDriftPpm: Double = 0) throws(CorrelationError) -> ClockTrack {
        var stream = try ClockTrackingStream(settings: self, initialOffsetPs: initialOffsetPs, initialDriftPpm: initialDriftPpm)
        try stream.appendA(a)
        try stream.appendB(b)
        return try stream.finish()
    }

    var effectiveMaxBlockPs: Int64 { maxBlockPs > 0 ? max(maxBlockPs, blockPs) : 8 * blockPs }
}

/// The clock-tracking loop fed in chunks: lab A and lab B times arrive separately (each sorted), and blocks
/// are processed as soon as both streams have passed them. Memory is the events of one block plus the
/// search window, the filter records within the smoothing lag, and one ``OffsetSample`` per measurement.
public struct ClockTrackingStream: Sendable {
    /// One measurement's filter record, kept until the smoother has made it final.
    private struct Record: Sendable {
        var timePs: Int64
        var prior: (state: SIMD3<Double>, covariance: Matrix3)
        var posterior: (state: SIMD3<Double>, covariance: Matrix3)
        var pairs: Int
        var spreadPs: Double
        var measuredOffsetPs: Double
    }

    public let settings: ClockTracker
    private var filter: OffsetFilter
    private var a: [Int64] = []
    private var b: [Int64] = []
    private var aStart = 0, bStart = 0
    private var lastA: Int64 = .min, lastB: Int64 = .min
    private var blockStart: Int64?
    /// Lags and A times gathered for the current measurement.
    private var lags: [Double] = []
    private var lagTimes: [Int64] = []
    private var gatheredSincePs: Int64 = 0
    /// Final (smoothed) measurements, and those still within the smoothing lag.
    private var samples: [OffsetSample] = []
    private var pending: [Record] = []
    private var firstMeasurementPs: Int64?
    private var pooledSquares = 0.0, pooledCount = 0
    /// A events gathered and B events passed for the current measurement (the accidental rate).
    private var gatheredA = 0, passedB = 0
    /// Lab A time from which the lock test failed over a whole measurement span (tracking stops).
    private(set) var lostSincePs: Int64?
    /// Steps of the offset followed without losing lock: a measurement, once locked, found the peak farther from
    /// the prediction than the locked window and than half the search window (lab A time, size in ps).
    private(set) var steps: [(atPs: Int64, stepPs: Double)] = []
    private var allSquares = 0.0, allCount = 0

    /// A tracker starting from `initialOffsetPs` (at the first A event) and `initialDriftPpm`.
    public init(settings: ClockTracker, initialOffsetPs: Int64, initialDriftPpm: Double = 0) throws(CorrelationError) {
        guard settings.blockPs > 0, settings.initialHalfWidthPs > 0, settings.finalHalfWidthPs > 0, settings.minimumPairs > 0,
              settings.lockSigmas >= 0, settings.smoothingLagPs >= 0, settings.wanderPpmPerRootSecond >= 0,
              settings.driftRateWanderPpmPerSecondPerRootSecond >= 0, settings.initialDriftRateUncertaintyPpmPerSecond >= 0,
              settings.stepSearchPpmPerRootSecond >= 0 else {
            throw CorrelationError(.invalidParameter, "block length, window widths and minimum pairs must be positive, lag and wanders not negative",
                                   context: "clock tracking")
        }
        self.settings = settings
        filter = OffsetFilter(offsetPs: Double(initialOffsetPs), drift: initialDriftPpm * 1e-6,
                              offsetSigmaPs: Double(settings.initialHalfWidthPs) / settings.searchSigmas,
                              driftSigma: settings.initialDriftUncertaintyPpm * 1e-6,
                              driftRateSigmaPerS: settings.initialDriftRateUncertaintyPpmPerSecond * 1e-6,
                              wanderPerRootS: settings.wanderPpmPerRootSecond * 1e-6,
                              driftRateWanderPerSPerRootS: settings.driftRateWanderPpmPerSecondPerRootSecond * 1e-6)
    }

    /// Events held in the block buffers (bounded by one block of both streams plus the search window).
    public var bufferedEvents: Int { (a.count - aStart) + (b.count - bStart) }

    /// Lab A time through which blocks have been processed.
    var processedThroughPs: Int64? { blockStart }
    /// Events not yet used (lab A and lab B), for a new acquisition after a loss of lock.
    var unusedEvents: (a: [Int64], b: [Int64]) { (Array(a[aStart...]), Array(b[bStart...])) }

    /// The final measurements so far (smoothed over the lag after each).
    var measurements: [OffsetSample] { samples }
    /// The first measurement's own offset (before filtering) and its time, final or not; nil before it.
    var firstMeasurement: (timePs: Int64, measuredOffsetPs: Double)? {
        if let first = samples.first { return (first.timePs, first.measuredOffsetPs) }
        return pending.first.map { ($0.timePs, $0.measuredOffsetPs) }
    }
    /// Pairs of the latest measurement (final or not), nil before the first.
    var latestPairs: Int? { pending.last?.pairs ?? samples.last?.pairs }
    /// The filter's current state (offset and drift at its reference time, with covariance): the causal estimate.
    var filterState: OffsetFilter { filter }
    /// Pooled RMS of the pairs' lags around the track so far (nil before a measurement).
    var residualRmsPs: Double? {
        let count = pooledCount > 0 ? pooledCount : allCount
        guard count > 0 else { return nil }
        return ((pooledCount > 0 ? pooledSquares : allSquares) / Double(count)).squareRoot()
    }

    /// Adds sorted lab A times (continuing the previous ones).
    public mutating func appendA(_ times: [Int64]) throws(CorrelationError) {
        guard let first = times.first, let last = times.last else { return }
        guard first >= lastA, times.withUnsafeBufferPointer({ firstUnsortedIndex($0, notBeforePs: first) }) == nil else {
            throw CorrelationError(.unsortedInput, "lab A times go backwards", context: "clock tracking")
        }
        if blockStart == nil { blockStart = first; filter.reference = first; gatheredSincePs = first }
        a.append(contentsOf: times)
        lastA = last
        try run(final: false)
    }

    /// Adds sorted lab B times (continuing the previous ones).
    public mutating func appendB(_ times: [Int64]) throws(CorrelationError) {
        guard let first = times.first, let last = times.last else { return }
        guard first >= lastB, times.withUnsafeBufferPointer({ firstUnsortedIndex($0, notBeforePs: first) }) == nil else {
            throw CorrelationError(.unsortedInput, "lab B times go backwards", context: "clock tracking")
        }
        b.append(contentsOf: times)
        lastB = last
        try run(final: false)
    }

    /// Processes the remaining blocks, smooths the measurements still within the lag and returns the track
    /// (residual jitter: pooled RMS of the pairs' lags around the prediction in blocks measured while locked,
    /// i.e. with a peak narrower than the final window).
    public mutating func finish() throws(CorrelationError) -> ClockTrack {
        try run(final: true)
        release(all: true)
        guard samples.count >= 2, let first = samples.first, let last = samples.last else {
            throw CorrelationError(.noPeakFound, "too few blocks with a coincidence peak to track the clock",
                                   context: "\(samples.count) measurements locked",
                                   hint: "use longer blocks, a wider initial window or check the initial offset and channels")
        }
        let meanDrift = (last.offsetPs - first.offsetPs) / Double(max(1, last.timePs - first.timePs)) * 1e6
        let jitter = pooledCount > 0 ? pooledSquares / Double(pooledCount) : allSquares / Double(max(1, allCount))
        return ClockTrack(samples: samples, meanDriftPpm: meanDrift, residualJitterPs: jitter.squareRoot())
    }

    /// Current search half-width at time `t`: the prediction uncertainty (or the step search's, when larger)
    /// times the sigma factor.
    private func halfWidth(at t: Int64) -> Double {
        let sinceS = Double(t - filter.reference) * 1e-12
        let search = settings.stepSearchPpmPerRootSecond * 1e6 * (max(0, sinceS * sinceS * sinceS) / 3).squareRoot()
        let sigma = max(filter.predictedSigmaPs(at: t), search)
        return min(Double(max(settings.initialHalfWidthPs * 4, settings.stepCeilingHalfWidthPs)),
                   max(Double(settings.finalHalfWidthPs), settings.searchSigmas * sigma))
    }

    private mutating func run(final: Bool) throws(CorrelationError) {
        while var start = blockStart, lostSincePs == nil {
            let end = start &+ settings.blockPs
            let width = halfWidth(at: end)
            let predictedEnd = filter.predictedOffsetPs(at: end)
            let complete = lastA >= end && Double(lastB) >= Double(end) + predictedEnd + width
            if !complete && !final { return }
            if aStart >= a.count && final { return }
            gather(blockEnd: end, halfWidth: width)
            start = end
            blockStart = start
            measureIfReady(blockEnd: end, halfWidth: width, final: final && aStart >= a.count)
            compact()
        }
    }

    /// Collects the lags of the A events in the block against B events within the search window.
    private mutating func gather(blockEnd: Int64, halfWidth: Double) {
        var j = bStart
        var i = aStart
        while i < a.count, a[i] < blockEnd {
            let t = a[i]
            let predicted = filter.predictedOffsetPs(at: t)
            let low = Double(t) + predicted - halfWidth
            while j < b.count, Double(b[j]) < low { j += 1 }
            var k = j
            while k < b.count {
                let lag = Double(b[k] - t) - predicted
                if lag > halfWidth { break }
                lags.append(lag)
                lagTimes.append(t)
                k += 1
            }
            i += 1
        }
        gatheredA += i - aStart
        passedB += j - bStart
        aStart = i
        bStart = j
    }

    /// Whether `peak` passes the lock test against the accidentals expected in its guard band over `spanPs`.
    private func passesLockTest(_ peak: ClockPeak.Peak, spanPs: Int64) -> Bool {
        guard peak.count >= settings.minimumPairs else { return false }
        let rateB = Double(passedB) / Double(max(1, spanPs))
        let expected = Double(gatheredA) * rateB * 2 * peak.guardPs
        return anscombeScore(Double(peak.count), expected: expected) >= settings.lockSigmas
    }

    private mutating func measureIfReady(blockEnd: Int64, halfWidth: Double, final: Bool) {
        let peak = ClockPeak.locate(lags, times: lagTimes, halfWidth: halfWidth, finalHalfWidth: Double(settings.finalHalfWidthPs))
        let span = blockEnd - gatheredSincePs
        let enough = peak.map { passesLockTest($0, spanPs: span) } ?? false
        guard enough || span >= settings.effectiveMaxBlockPs || final else { return }
        defer {
            lags.removeAll(keepingCapacity: true); lagTimes.removeAll(keepingCapacity: true)
            gatheredSincePs = blockEnd; gatheredA = 0; passedB = 0
        }
        guard let peak, enough else {
            if !final {
                lostSincePs = gatheredSincePs
                release(all: true)
            }
            return
        }
        let time = peak.meanTimePs
        let measured = filter.predictedOffsetPs(at: time) + peak.center
        // A peak far from the prediction is a step of the offset: the filter is told the offset may have jumped
        // by that much, so it follows at once and the smoother does not average across it.
        let stepped = pooledCount > 0
            && abs(peak.center) > max(Double(settings.finalHalfWidthPs), settings.searchSigmas / 2 * filter.predictedSigmaPs(at: time))
        if stepped { steps.append((gatheredSincePs, peak.center)) }
        let spreadSquared = max(peak.spread * peak.spread, 1)
        let variance = peak.centerVariancePs2
        // The slope of the lags across the block measures the frequency error directly.
        let slopeVariance = peak.timeVariancePs2 > 0 ? spreadSquared / (Double(peak.count) * peak.timeVariancePs2) : .infinity
        // Pool the jitter of locked blocks (peak narrower than the final window), so the first blocks, smeared
        // by the initial frequency error, do not count as jitter; without any locked block all are pooled.
        let locked = peak.spread < Double(settings.finalHalfWidthPs)
        allSquares += peak.spread * peak.spread * Double(peak.count)
        allCount += peak.count
        let prior = filter.update(atPs: time, measuredOffsetPs: measured, variancePs2: variance,
                                  measuredDrift: filter.predictedDrift(at: time) + peak.slope, driftVariance: slopeVariance,
                                  jumpVariancePs2: stepped ? peak.center * peak.center : 0)
        if locked {
            pooledSquares += peak.spread * peak.spread * Double(peak.count)
            pooledCount += peak.count
        }
        if firstMeasurementPs == nil { firstMeasurementPs = time }
        pending.append(Record(timePs: time, prior: prior, posterior: (filter.state, filter.covariance),
                              pairs: peak.count, spreadPs: peak.spread, measuredOffsetPs: measured))
        release(all: false)
    }

    /// The lag after which a measurement is final: three time constants of the filter, `(r/q)^(1/6)` with `r`
    /// the pairs' measurement noise density (spread² over pair rate, ps²·s) and `q` the frequency rate's wander
    /// (`(r/q)^(1/4)` with the frequency's wander alone), at least one block and at most ``ClockTracker/smoothingLagPs``.
    private var lagPs: Int64 {
        let longest = settings.smoothingLagPs
        guard longest > 0, allCount > 1, let first = firstMeasurementPs, let last = pending.last?.timePs, last > first else { return longest }
        let pairRateHz = Double(allCount - 1) / (Double(last - first) * 1e-12)
        let density = allSquares / Double(allCount) / pairRateHz
        let timeConstantS: Double
        if filter.qRate > 0 {
            timeConstantS = libmExp(libmLog(density / filter.qRate) / 6)
        } else if filter.qNu > 0 {
            timeConstantS = libmExp(libmLog(density / filter.qNu) / 4)
        } else {
            return longest
        }
        guard timeConstantS.isFinite else { return longest }
        return min(longest, max(settings.blockPs, Int64(min(3 * timeConstantS, 1e6) * 1e12)))
    }

    /// Smooths the measurements within the lag backwards from the newest (Rauch–Tung–Striebel) and makes final
    /// those the lag has passed (all of them at the end or at a loss of lock). Run when the pending span exceeds
    /// the lag by a quarter, so each measurement is smoothed a few times at most.
    private mutating func release(all: Bool) {
        guard let newest = pending.last else { return }
        let lag = all ? 0 : lagPs
        guard all || newest.timePs - pending[0].timePs >= lag + lag / 4 else { return }
        var smoothed = newest.posterior
        var results: [(state: SIMD3<Double>, covariance: Matrix3)] = [smoothed]
        for index in stride(from: pending.count - 2, through: 0, by: -1) {
            let record = pending[index], next = pending[index + 1]
            let transition = OffsetFilter.transition(Double(next.timePs - record.timePs) * 1e-12)
            guard let priorInverse = next.prior.covariance.inverse else {
                results.append(record.posterior); smoothed = record.posterior; continue
            }
            let gain = record.posterior.covariance * transition.transposed * priorInverse
            let state = record.posterior.state + gain * (smoothed.state - next.prior.state)
            let covariance = (record.posterior.covariance + gain * (smoothed.covariance - next.prior.covariance) * gain.transposed).symmetrized
            smoothed = (state, covariance)
            results.append(smoothed)
        }
        results.reverse()
        let through = all ? Int64.max : newest.timePs - lag
        var count = 0
        while count < pending.count, pending[count].timePs <= through {
            let record = pending[count], (state, covariance) = results[count]
            samples.append(OffsetSample(timePs: record.timePs, offsetPs: state.x, driftPpm: state.y * 1e-6,
                                        pairs: record.pairs, spreadPs: record.spreadPs, measuredOffsetPs: record.measuredOffsetPs,
                                        offsetSigmaPs: max(0, covariance.r0.x).squareRoot(),
                                        driftSigmaPpm: max(0, covariance.r1.y).squareRoot() * 1e-6))
            count += 1
        }
        pending.removeFirst(count)
    }

    /// Drops events no future block can use.
    private mutating func compact() {
        if aStart > 1 << 16, aStart * 2 > a.count { a.removeFirst(aStart); aStart = 0 }
        if bStart > 1 << 16, bStart * 2 > b.count { b.removeFirst(bStart); bStart = 0 }
    }
}

/// A 3×3 matrix as three rows (the clock filter's covariances and transitions).
struct Matrix3: Sendable {
    var r0: SIMD3<Double>, r1: SIMD3<Double>, r2: SIMD3<Double>

    static func diagonal(_ d: SIMD3<Double>) -> Matrix3 {
        Matrix3(r0: SIMD3(d.x, 0, 0), r1: SIMD3(0, d.y, 0), r2: SIMD3(0, 0, d.z))
    }
    var transposed: Matrix3 {
        Matrix3(r0: SIMD3(r0.x, r1.x, r2.x), r1: SIMD3(r0.y, r1.y, r2.y), r2: SIMD3(r0.z, r1.z, r2.z))
    }
    /// The symmetric part (keeps covariances symmetric against rounding).
    var symmetrized: Matrix3 { (self + transposed).scaled(0.5) }
    func scaled(_ k: Double) -> Matrix3 { Matrix3(r0: r0 * k, r1: r1 * k, r2: r2 * k) }
    static func + (a: Matrix3, b: Matrix3) -> Matrix3 { Matrix3(r0: a.r0 + b.r0, r1: a.r1 + b.r1, r2: a.r2 + b.r2) }
    static func - (a: Matrix3, b: Matrix3) -> Matrix3 { Matrix3(r0: a.r0 - b.r0, r1: a.r1 - b.r1, r2: a.r2 - b.r2) }
    static func * (a: Matrix3, v: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3((a.r0 * v).sum(), (a.r1 * v).sum(), (a.r2 * v).sum())
    }
    static func * (a: Matrix3, b: Matrix3) -> Matrix3 {
        func row(_ r: SIMD3<Double>) -> SIMD3<Double> { r.x * b.r0 + r.y * b.r1 + r.z * b.r2 }
        return Matrix3(r0: row(a.r0), r1: row(a.r1), r2: row(a.r2))
    }
    /// The inverse (nil when singular): the columns of M⁻¹ are the rows' cross products over the determinant.
    var inverse: Matrix3? {
        func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
            SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
        }
        let c0 = cross(r1, r2), c1 = cross(r2, r0), c2 = cross(r0, r1)
        let det = (r0 * c0).sum()
        guard det.isFinite, det != 0 else { return nil }
        return Matrix3(r0: c0 / det, r1: c1 / det, r2: c2 / det).transposed
    }
}

/// Kalman filter of the clock relation: state offset `θ` (ps), frequency difference `ν` (ps/s) and its rate
/// `α` (ps/s²) at ``reference`` (lab A time), with `ν` a random walk (density `qNu`, (ps/s)²/s) and `α` a random
/// walk (density `qRate`, (ps/s²)²/s). Time steps are in seconds inside, so the covariance stays well scaled.
struct OffsetFilter: Sendable {
    var state: SIMD3<Double>
    var covariance: Matrix3
    var reference: Int64 = 0
    let qNu: Double
    let qRate: Double

    /// A filter at offset `offsetPs` and fractional frequency difference `drift`, with standard deviations
    /// `offsetSigmaPs`, `driftSigma` (fraction) and `driftRateSigmaPerS` (fraction per second).
    init(offsetPs: Double, drift: Double, offsetSigmaPs: Double, driftSigma: Double, driftRateSigmaPerS: Double,
         wanderPerRootS: Double, driftRateWanderPerSPerRootS: Double) {
        state = SIMD3(offsetPs, drift * 1e12, 0)
        let sigmas = SIMD3(offsetSigmaPs, driftSigma * 1e12, driftRateSigmaPerS * 1e12)
        covariance = .diagonal(sigmas * sigmas)
        qNu = pow2(wanderPerRootS * 1e12)
        qRate = pow2(driftRateWanderPerSPerRootS * 1e12)
    }

    var offsetPs: Double { state.x }
    /// Fractional frequency difference of B against A.
    var drift: Double { state.y * 1e-12 }
    var offsetSigmaPs: Double { max(0, covariance.r0.x).squareRoot() }
    var driftSigma: Double { max(0, covariance.r1.y).squareRoot() * 1e-12 }

    static func transition(_ dt: Double) -> Matrix3 {
        Matrix3(r0: SIMD3(1, dt, dt * dt / 2), r1: SIMD3(0, 1, dt), r2: SIMD3(0, 0, 1))
    }

    private func processNoise(_ dt: Double) -> Matrix3 {
        let h = abs(dt), h2 = h * h, h3 = h2 * h
        let rate = Matrix3(r0: SIMD3(h3 * h2 / 20, h2 * h2 / 8, h3 / 6), r1: SIMD3(h2 * h2 / 8, h3 / 3, h2 / 2),
                           r2: SIMD3(h3 / 6, h2 / 2, h)).scaled(qRate)
        let nu = Matrix3(r0: SIMD3(h3 / 3, h2 / 2, 0), r1: SIMD3(h2 / 2, h, 0), r2: SIMD3(0, 0, 0)).scaled(qNu)
        return rate + nu
    }

    /// State and covariance predicted at lab A time `t`.
    func predicted(at t: Int64) -> (state: SIMD3<Double>, covariance: Matrix3) {
        let dt = Double(t - reference) * 1e-12
        let f = Self.transition(dt)
        return (f * state, (f * covariance * f.transposed + processNoise(dt)).symmetrized)
    }

    func predictedOffsetPs(at t: Int64) -> Double {
        let dt = Double(t - reference) * 1e-12
        return state.x + state.y * dt + state.z * dt * dt / 2
    }

    /// Predicted frequency difference at `t`, as a fraction.
    func predictedDrift(at t: Int64) -> Double {
        (state.y + state.z * Double(t - reference) * 1e-12) * 1e-12
    }

    func predictedSigmaPs(at t: Int64) -> Double {
        max(0, predicted(at: t).covariance.r0.x).squareRoot()
    }

    /// Kalman update at `t` with a measured offset (variance `r`, ps²) and, when finite, a measured fractional
    /// frequency difference (variance `rNu`); `jumpVariancePs2` is added to the predicted offset's variance first
    /// (a step of the offset). Returns the prior (predicted state and covariance at `t`), which the smoother needs.
    @discardableResult
    mutating func update(atPs t: Int64, measuredOffsetPs z: Double, variancePs2 r: Double,
                         measuredDrift zNu: Double, driftVariance rNu: Double,
                         jumpVariancePs2: Double = 0) -> (state: SIMD3<Double>, covariance: Matrix3) {
        var (x, p) = predicted(at: t)
        p.r0.x += jumpVariancePs2
        reference = t
        let prior = (x, p)
        let innovation = z - x.x
        guard rNu.isFinite, rNu > 0 else {
            let s = p.r0.x + r
            let gain = SIMD3(p.r0.x, p.r1.x, p.r2.x) / s
            x += gain * innovation
            p = p - Matrix3(r0: gain.x * p.r0, r1: gain.y * p.r0, r2: gain.z * p.r0)
            state = x; covariance = p.symmetrized
            return prior
        }
        // Offset and frequency measured: S = H·P·Hᵀ + R (2×2), K = P·Hᵀ·S⁻¹, P' = P − K·H·P.
        let nuScale = 1e12
        let rNuScaled = rNu * nuScale * nuScale
        let innovationNu = zNu * nuScale - x.y
        let s00 = p.r0.x + r, s01 = p.r0.y, s11 = p.r1.y + rNuScaled
        let det = s00 * s11 - s01 * s01
        guard det > 0 else { return prior }
        let i00 = s11 / det, i01 = -s01 / det, i11 = s00 / det
        // Columns of P·Hᵀ: P's first two columns.
        let c0 = SIMD3(p.r0.x, p.r1.x, p.r2.x), c1 = SIMD3(p.r0.y, p.r1.y, p.r2.y)
        let k0 = c0 * i00 + c1 * i01, k1 = c0 * i01 + c1 * i11
        x += k0 * innovation + k1 * innovationNu
        // K·H·P: rows of H·P are P's first two rows.
        let khp = Matrix3(r0: k0.x * p.r0 + k1.x * p.r1, r1: k0.y * p.r0 + k1.y * p.r1, r2: k0.z * p.r0 + k1.z * p.r1)
        p = p - khp
        state = x; covariance = p.symmetrized
        return prior
    }
}

/// Locates a coincidence peak among lags: histogram mode, then a fit of lag against time (constant, line,
/// then parabola; offset and slope at the pairs' mean time) in a guard band that narrows around the curve.
enum ClockPeak {
    struct Peak {
        var center: Double
        var slope: Double
        var spread: Double
        var count: Int
        var meanTimePs: Int64
        /// Variance of the pairs' A times about their mean, in ps².
        var timeVariancePs2: Double
        /// Variance of `center` as a measurement, in ps².
        var centerVariancePs2: Double
        /// Half-width of the guard band the pairs were counted in, in ps.
        var guardPs: Double
    }

    static func locate(_ lags: [Double], times: [Int64], halfWidth: Double, finalHalfWidth: Double) -> Peak? {
        guard !lags.isEmpty, lags.count == times.count else { return nil }
        let bins = 64
        let width = 2 * halfWidth / Double(bins)
        var histogram = [Int](repeating: 0, count: bins)
        for lag in lags {
            let bin = Int(((lag + halfWidth) / width).rounded(.down))
            if bin >= 0, bin < bins { histogram[bin] += 1 }
        }
        var best = 0
        for bin in 1..<bins where histogram[bin] > histogram[best] { best = bin }
        // Model lag(u) = c0 + c1·u + c2·u², u = time − reference in seconds (scaled for conditioning).
        var c0 = -halfWidth + (Double(best) + 0.5) * width, c1 = 0.0, c2 = 0.0
        var reference = 0.0                      // ps after `origin`
        var guardWidth = max(2 * width, finalHalfWidth)
        let origin = Double(times[0])
        var result: Peak?
        var selected: [Int] = []
        for iteration in 0..<6 {
            selected.removeAll(keepingCapacity: true)
            var sumT = 0.0
            for index in lags.indices {
                let t = Double(times[index]) - origin
                let u = (t - reference) * 1e-12
                guard abs(lags[index] - c0 - c1 * u - c2 * u * u) <= guardWidth else { continue }
                selected.append(index)
                sumT += t
            }
            let n = Double(selected.count)
            guard n > 0 else { return result }
            reference = sumT / n
            var su2 = 0.0, su3 = 0.0, su4 = 0.0, sl = 0.0, sul = 0.0, su2l = 0.0
            for index in selected {
                let u = (Double(times[index]) - origin - reference) * 1e-12
                let l = lags[index]
                su2 += u * u; su3 += u * u * u; su4 += u * u * u * u
                sl += l; sul += u * l; su2l += u * u * l
            }
            // Σu = 0 about the mean time. Fit a constant first, then a line, then (once the band is narrow and
            // holds enough pairs) a parabola: its value at the mean time is unbiased by the offset's curvature
            // within the block, which a straight line would average in.
            var quadratic = false
            c0 = sl / n; c1 = 0; c2 = 0
            if iteration >= 1, n >= 8, su2 > 0 { c1 = sul / su2 }
            if iteration >= 2, n >= 16, su2 > 0 {
                let det = n * (su2 * su4 - su3 * su3) - su2 * su2 * su2
                if abs(det) > 1e-12 * n * su2 * su4 {
                    c0 = (sl * (su2 * su4 - su3 * su3) - sul * (-su2 * su3) + su2l * (-su2 * su2)) / det
                    c1 = (n * (sul * su4 - su3 * su2l) - sl * (-su2 * su3) + su2 * (-su2 * sul)) / det
                    c2 = (n * (su2 * su2l - su3 * sul) + su2 * (-su2 * sl)) / det
                    quadratic = true
                }
            }
            var squares = 0.0
            for index in selected {
                let u = (Double(times[index]) - origin - reference) * 1e-12
                let r = lags[index] - c0 - c1 * u - c2 * u * u
                squares += r * r
            }
            let residual = (squares / n).squareRoot()
            let timeVariance = su2 / n * 1e24
            result = Peak(center: c0, slope: c1 * 1e-12, spread: residual, count: selected.count,
                          meanTimePs: times[0] &+ Int64(reference.rounded()), timeVariancePs2: timeVariance,
                          centerVariancePs2: max(residual * residual, 1) / n * (quadratic ? 2.25 : 1), guardPs: guardWidth)
            guardWidth = max(finalHalfWidth, min(guardWidth, 4 * residual))
        }
        return result
    }
}

/// Significance of `count` events where `expected` are expected by chance: `2·(√(n + 3/8) − √(μ + 3/8))`
/// (Anscombe's variance-stabilised Poisson score; below the Gaussian score, so conservative, for small counts).
func anscombeScore(_ count: Double, expected: Double) -> Double {
    2 * ((count + 0.375).squareRoot() - (max(0, expected) + 0.375).squareRoot())
}
