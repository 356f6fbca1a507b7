/// Settings of the clock-tracking loop that follows a slowly varying offset between two labs' clocks.
///
/// The run is cut into blocks of lab A time. In each block the lags `t_B − t_A − predicted(t_A)` of events
/// within a search window around the predicted offset are collected; when the peak passes the lock test (its
/// pairs against the accidentals expected in its guard band, ``lockSigmas``) the peak's centroid is a
/// measurement of the offset at the pairs' mean time. A two-state Kalman filter
/// (offset and frequency difference, with the frequency allowed to wander as a random walk) combines the
/// measurements. The search window follows the filter's own prediction uncertainty: wide at the start,
/// narrow once locked, and widening again when blocks without a peak make the prediction less certain.
/// Blocks that fail the test are extended (up to ``maxBlockPs``); a measurement that still fails there marks
/// the lock as lost and tracking stops (``ClockRecoveryStream`` then acquires again).
public struct ClockTracker: Sendable, Codable {
    /// Length of each block, in picoseconds of lab A time.
    public var blockPs: Int64 = 1_000_000_000_000
    /// Longest span a measurement may gather pairs over before it is given up (0: eight blocks).
    public var maxBlockPs: Int64 = 0
    /// Window half-width at the start (covers the initial offset uncertainty).
    public var initialHalfWidthPs: Int64 = 1_000_000
    /// Smallest window half-width.
    public var finalHalfWidthPs: Int64 = 500
    /// Fewest pairs a measurement may have (the fit needs a few); the lock test below decides.
    public var minimumPairs: Int = 10
    /// Lock test: the pairs in the peak's guard band must stand this many standard deviations above the
    /// accidentals expected there (Anscombe score `2·(√(n + 3/8) − √(μ + 3/8))`, conservative for small counts);
    /// blocks that fail are extended, and when a measurement spanning ``maxBlockPs`` fails, lock is lost.
    public var lockSigmas: Double = 5
    /// Uncertainty of the initial frequency difference, in parts per million.
    public var initialDriftUncertaintyPpm: Double = 0.5
    /// Random-walk wander of the frequency difference, in ppm per √second (the filter's process noise).
    public var wanderPpmPerRootSecond: Double = 0.002
    /// The search window is this many standard deviations of the predicted offset (plus the pair spread).
    public var searchSigmas: Double = 8

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
/// search window, and one ``OffsetSample`` per measurement.
public struct ClockTrackingStream: Sendable {
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
    private var samples: [OffsetSample] = []
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
              settings.lockSigmas >= 0 else {
            throw CorrelationError(.invalidParameter, "block length, window widths and minimum pairs must be positive",
                                   context: "clock tracking")
        }
        self.settings = settings
        filter = OffsetFilter(offsetPs: Double(initialOffsetPs), drift: initialDriftPpm * 1e-6,
                              offsetSigmaPs: Double(settings.initialHalfWidthPs) / settings.searchSigmas,
                              driftSigma: settings.initialDriftUncertaintyPpm * 1e-6,
                              wanderPerRootPs: settings.wanderPpmPerRootSecond * 1e-6 / 1e6)
    }

    /// Events held in the block buffers (bounded by one block of both streams plus the search window).
    public var bufferedEvents: Int { (a.count - aStart) + (b.count - bStart) }

    /// Lab A time through which blocks have been processed.
    var processedThroughPs: Int64? { blockStart }
    /// Events not yet used (lab A and lab B), for a new acquisition after a loss of lock.
    var unusedEvents: (a: [Int64], b: [Int64]) { (Array(a[aStart...]), Array(b[bStart...])) }

    /// The measurements so far.
    var measurements: [OffsetSample] { samples }
    /// The filter's current state (offset and drift at its reference time, with covariance).
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

    /// Processes the remaining blocks and returns the track (residual jitter: pooled RMS of the pairs' lags
    /// around the prediction in blocks measured while locked, i.e. with a peak narrower than the final window).
    public mutating func finish() throws(CorrelationError) -> ClockTrack {
        try run(final: true)
        guard samples.count >= 2, let first = samples.first, let last = samples.last else {
            throw CorrelationError(.noPeakFound, "too few blocks with a coincidence peak to track the clock",
                                   context: "\(samples.count) measurements locked",
                                   hint: "use longer blocks, a wider initial window or check the initial offset and channels")
        }
        let meanDrift = (last.offsetPs - first.offsetPs) / Double(max(1, last.timePs - first.timePs)) * 1e6
        let jitter = pooledCount > 0 ? pooledSquares / Double(pooledCount) : allSquares / Double(max(1, allCount))
        return ClockTrack(samples: samples, meanDriftPpm: meanDrift, residualJitterPs: jitter.squareRoot())
    }

    /// Current search half-width at time `t`: the prediction uncertainty times the sigma factor.
    private func halfWidth(at t: Int64) -> Double {
        let sigma = filter.predictedSigmaPs(at: t)
        return min(Double(settings.initialHalfWidthPs) * 4,
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
            if !final { lostSincePs = gatheredSincePs }
            return
        }
        let time = peak.meanTimePs
        let measured = filter.predictedOffsetPs(at: time) + peak.center
        if pooledCount > 0, abs(peak.center) > max(Double(settings.finalHalfWidthPs), settings.searchSigmas / 2 * filter.predictedSigmaPs(at: time)) {
            steps.append((gatheredSincePs, peak.center))
        }
        let spreadSquared = max(peak.spread * peak.spread, 1)
        let variance = peak.centerVariancePs2
        // The slope of the lags across the block measures the frequency error directly.
        let slopeVariance = peak.timeVariancePs2 > 0 ? spreadSquared / (Double(peak.count) * peak.timeVariancePs2) : .infinity
        // Pool the jitter of locked blocks (peak narrower than the final window), so the first blocks, smeared
        // by the initial frequency error, do not count as jitter; without any locked block all are pooled.
        let locked = peak.spread < Double(settings.finalHalfWidthPs)
        allSquares += peak.spread * peak.spread * Double(peak.count)
        allCount += peak.count
        filter.update(atPs: time, measuredOffsetPs: measured, variancePs2: variance,
                      measuredDrift: filter.drift + peak.slope, driftVariance: slopeVariance)
        if locked {
            pooledSquares += peak.spread * peak.spread * Double(peak.count)
            pooledCount += peak.count
        }
        samples.append(OffsetSample(timePs: time, offsetPs: filter.offsetPs, driftPpm: filter.drift * 1e6,
                                    pairs: peak.count, spreadPs: peak.spread, measuredOffsetPs: measured))
    }

    /// Drops events no future block can use.
    private mutating func compact() {
        if aStart > 1 << 16, aStart * 2 > a.count { a.removeFirst(aStart); aStart = 0 }
        if bStart > 1 << 16, bStart * 2 > b.count { b.removeFirst(bStart); bStart = 0 }
    }
}

/// Two-state Kalman filter for the offset `θ` (ps) and fractional frequency difference `ν`, with `ν`
/// following a random walk of spectral density `q` per picosecond.
struct OffsetFilter: Sendable {
    var offsetPs: Double
    var drift: Double
    var reference: Int64 = 0
    /// Covariance [[pθθ, pθν], [pθν, pνν]].
    var pThetaTheta: Double, pThetaNu: Double, pNuNu: Double
    let q: Double

    init(offsetPs: Double, drift: Double, offsetSigmaPs: Double, driftSigma: Double, wanderPerRootPs: Double) {
        self.offsetPs = offsetPs
        self.drift = drift
        pThetaTheta = offsetSigmaPs * offsetSigmaPs
        pThetaNu = 0
        pNuNu = driftSigma * driftSigma
        q = wanderPerRootPs * wanderPerRootPs
    }

    func predictedOffsetPs(at t: Int64) -> Double { offsetPs + drift * Double(t - reference) }

    private func predictedCovariance(_ dt: Double) -> (tt: Double, tn: Double, nn: Double) {
        let tt = pThetaTheta + 2 * dt * pThetaNu + dt * dt * pNuNu + q * abs(dt * dt * dt) / 3
        let tn = pThetaNu + dt * pNuNu + q * dt * abs(dt) / 2
        let nn = pNuNu + q * abs(dt)
        return (tt, tn, nn)
    }

    func predictedSigmaPs(at t: Int64) -> Double {
        max(0, predictedCovariance(Double(t - reference)).tt).squareRoot()
    }

    /// Kalman update at `t` with a measured offset (variance `r`) and, when finite, a measured frequency
    /// difference (variance `rNu`).
    mutating func update(atPs t: Int64, measuredOffsetPs z: Double, variancePs2 r: Double,
                         measuredDrift zNu: Double, driftVariance rNu: Double) {
        let dt = Double(t - reference)
        let predicted = offsetPs + drift * dt
        let p = predictedCovariance(dt)
        let innovation = z - predicted
        reference = t
        guard rNu.isFinite, rNu > 0 else {
            let s = p.tt + r
            let gainTheta = p.tt / s, gainNu = p.tn / s
            offsetPs = predicted + gainTheta * innovation
            drift += gainNu * innovation
            pThetaTheta = (1 - gainTheta) * p.tt
            pThetaNu = (1 - gainTheta) * p.tn
            pNuNu = p.nn - gainNu * p.tn
            return
        }
        // Both states measured: K = P·(P + R)⁻¹, P' = (I − K)·P.
        let a = p.tt, b = p.tn, c = p.nn
        let det = (a + r) * (c + rNu) - b * b
        guard det > 0 else { return }
        let k11 = (a * (c + rNu) - b * b) / det, k12 = b * r / det
        let k21 = b * rNu / det, k22 = (c * (a + r) - b * b) / det
        let innovationNu = zNu - drift
        offsetPs = predicted + k11 * innovation + k12 * innovationNu
        drift += k21 * innovation + k22 * innovationNu
        pThetaTheta = (1 - k11) * a - k12 * b
        pThetaNu = (1 - k11) * b - k12 * c
        pNuNu = -k21 * b + (1 - k22) * c
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
