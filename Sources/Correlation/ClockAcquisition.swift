/// Acquisition of the clock relation between two labs from their event times alone: a joint search over the
/// offset `θ` (t_B − t_A) and the frequency difference `ν`, then hierarchical refinement of the best candidates.
///
/// Coarse stage (stack and slide): the span is cut into segments short enough that the largest drift moves the
/// lag by at most half a bin within one; each segment's cross-correlation over all lags is computed by FFT
/// (``SegmentCorrelator``: transforms a few times the segment's length, the lags in blocks); the segments'
/// correlations are summed along straight lines `lag = θ + ν·(t − start)` for every frequency
/// hypothesis (two-level sum: groups of √J segments first, then the groups). Each cell is a count of A–B pairs
/// with that lag; a 3-bin box is compared with the local background of its row (bins 4 to 128 away on both
/// sides, the peak excluded), so slow variations of the background (a recording-start ramp) do not matter.
/// The best few distinct cells above the candidate threshold are candidates.
/// Refinement of each candidate in turn: around the coarse cell, bins 16 times finer over a lag and frequency
/// range of ±2 coarse bins, filled directly from the events, searched the same way against a look-elsewhere
/// threshold; repeated down to nanosecond bins. The first candidate that passes every stage is the lock.
struct ClockAcquisition: Sendable {
    /// A found lock: offset and frequency at `startPs`, with their standard errors (from the final fit to the
    /// pairs, ``ClockAcquisition/fitLine(a:aRange:b:lock:binPs:rateB:)``).
    struct Lock: Sendable, Equatable {
        var startPs: Int64
        var offsetPs: Double
        var drift: Double
        var offsetSigmaPs: Double
        var driftSigma: Double
        /// Significance of the coarse peak against its local background (standard deviations) and the
        /// threshold it had to pass.
        var significance: Double
        var threshold: Double
    }

    var maxOffsetPs: Int64
    var maxDrift: Double
    /// Most cells (lag bins × frequency hypotheses) in the coarse search (bounds time and memory).
    var maxCells: Int
    /// Pair rate the coarse bin is chosen for (Hz): bins are as coarse as this rate allows.
    var designPairRateHz: Double
    /// False-lock probability per acquisition attempt (sets the look-elsewhere threshold).
    var falseLockProbability: Double

    /// Lab B events needed beyond the searched span of lab A (either side), ps.
    func reachPs(spanPs: Int64) -> Int64 { maxOffsetPs &+ Int64((maxDrift * Double(spanPs)).rounded(.up)) }

    /// Coarse peaks refined at most per attempt (the best distinct cells of the coarse search).
    static let candidates = 8

    /// Searches the span `[startPs, startPs + spanPs)` of lab A (sorted `a`, `b`); the lock is nil without a
    /// significant peak.
    ///
    /// The coarse search keeps its ``candidates`` best distinct cells that pass the candidate threshold (the
    /// level pure accidentals exceed about ``candidates`` times among all cells); each is refined in turn, and
    /// the first whose every refinement stage passes its own look-elsewhere threshold (for a false-lock
    /// probability of `falseLockProbability / candidates`) is the lock. A true peak therefore only has to rank
    /// among the best coarse cells, not clear a threshold set for all of them: the refinements, with bins 16,
    /// 256, … times finer, see it far above their few trials.
    func search(a: [Int64], b: [Int64], startPs: Int64, spanPs: Int64) -> (lock: Lock?, attempt: ClockAcquisitionAttempt) {
        let aLow = firstIndex(in: a, atOrAbove: startPs), aHigh = firstIndex(in: a, atOrAbove: startPs &+ spanPs)
        let reach = reachPs(spanPs: spanPs)
        let bLow = firstIndex(in: b, atOrAbove: startPs &- reach), bHigh = firstIndex(in: b, atOrAbove: startPs &+ spanPs &+ reach)
        var attempt = ClockAcquisitionAttempt(startPs: startPs, spanPs: spanPs, eventsA: aHigh - aLow, eventsB: bHigh - bLow,
                                              binPs: 0, significance: 0, threshold: .infinity)
        guard aHigh - aLow > 1, bHigh - bLow > 1, spanPs > 0 else { return (nil, attempt) }
        let span = Double(spanPs)
        let rateA = Double(aHigh - aLow) / span, rateB = Double(bHigh - bLow) / (span + 2 * Double(reach))
        let coarseBin = coarseBinPs(spanPs: span, rateA: rateA, rateB: rateB)
        attempt.binPs = coarseBin
        let lagBins = Int(maxOffsetPs / coarseBin) + 1
        let coarse = coarseSearch(a: a, b: b, startPs: startPs, spanPs: spanPs, binPs: coarseBin, lagBins: lagBins)
        attempt.significance = coarse.significance
        attempt.threshold = coarse.threshold
        attempt.cells = coarse.cells
        let refinementProbability = falseLockProbability / Double(Self.candidates * Self.stageSearches)
        candidates: for candidate in coarse.candidates {
            attempt.candidatesRefined += 1
            var lock = candidate
            var bin = Double(coarseBin)
            while bin > 2_000 {
                let fine = max(bin / 16, 250)
                // A best cell on the edge of the stage's range means the line lies beyond it: search again around it.
                var refined: (lock: Lock, atEdge: Bool)?
                for _ in 0..<Self.stageSearches {
                    refined = refine(a: a, aRange: aLow..<aHigh, b: b, lock: refined?.lock ?? lock, spanPs: spanPs, previousBinPs: bin,
                                     binPs: fine, falseLockProbability: refinementProbability)
                    if refined?.atEdge != true { break }
                }
                guard let refined, !refined.atEdge else {
                    attempt.refinementFailedAtBinPs = max(attempt.refinementFailedAtBinPs ?? 0, Int64(fine.rounded()))
                    continue candidates
                }
                lock = refined.lock
                bin = fine
            }
            attempt.refinementFailedAtBinPs = nil
            return (fitLine(a: a, aRange: aLow..<aHigh, b: b, lock: lock, binPs: bin, rateB: rateB), attempt)
        }
        return (nil, attempt)
    }

    /// The coarsest bin at which the design pair rate stands 3σ above the candidate threshold over `spanPs`
    /// (`pairs / √(3·w·r_A·r_B·T)`, a 3-bin box), but no finer than `maxCells` allows and no coarser than 1/64 of
    /// the offset range.
    func coarseBinPs(spanPs: Double, rateA: Double, rateB: Double) -> Int64 {
        let l = Double(maxOffsetPs)
        // Finest affordable: (2L/w)·(2νT/w + 1) ≤ maxCells.
        let c = Double(maxCells)
        let finest = (2 * l + (4 * l * l + 16 * c * l * maxDrift * spanPs).squareRoot()) / (2 * c)
        let wantedSigmas = Self.candidateThreshold(trials: c) + 3
        let pairs = designPairRateHz * 1e-12 * spanPs
        let background = max(rateA * rateB * spanPs * 3, 1e-300)      // per ps of bin, in a 3-bin box
        let wanted = pow2(pairs / wantedSigmas) / background
        return Int64(max(finest, min(wanted, l / 64, 1e8)).rounded(.up))
    }

    /// The significance pure accidentals exceed about ``candidates`` times among `trials` coarse cells: coarse
    /// peaks below it are not refined.
    static func candidateThreshold(trials: Double) -> Double {
        threshold(trials: trials, falseLockProbability: Double(candidates))
    }

    /// Threshold in standard deviations for a per-attempt false-lock probability over `trials` cells (one-sided
    /// Gaussian tail, the 3-bin box counted as one trial per cell).
    static func threshold(trials: Double, falseLockProbability: Double) -> Double {
        let p = max(falseLockProbability / max(trials, 1), 1e-300)
        var low = 0.0, high = 40.0
        for _ in 0..<60 {
            let mid = (low + high) / 2
            if gaussianTail(mid) > p { low = mid } else { high = mid }
        }
        return high
    }

    /// P(Z > z) for a standard normal Z.
    static func gaussianTail(_ z: Double) -> Double { 0.5 * erfcApprox(z / 2.0.squareRoot()) }

    /// Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
    static func erfcApprox(_ x: Double) -> Double {
        let z = abs(x), t = 1 / (1 + 0.5 * z)
        let poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807
            + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
        let value = t * libmExp(poly)
        return x >= 0 ? value : 2 - value
    }

    /// Coarse stack-and-slide over all offsets and frequencies: the best distinct cells above the candidate
    /// threshold, best first, the best cell's significance, the candidate threshold and the cells searched.
    private func coarseSearch(a: [Int64], b: [Int64], startPs: Int64, spanPs: Int64, binPs: Int64,
                              lagBins: Int) -> (candidates: [Lock], significance: Double, threshold: Double, cells: Int) {
        let w = Double(binPs)
        // Segment: the largest drift moves the lag by at most half a bin within one.
        let segmentLimit = maxDrift > 0 ? Int64(w / (2 * maxDrift)) : spanPs
        let segmentPs = max(binPs, min(segmentLimit, spanPs, binPs << 16))
        let segments = Int((spanPs + segmentPs - 1) / segmentPs)
        let rhoMax = maxDrift * Double(segmentPs) / w                  // bins per segment
        let driftBins = Int((rhoMax * Double(segments)).rounded(.up)) + 1
        let margin = StackSlide.margin(driftBins: driftBins)
        let rowLength = 2 * (lagBins + margin) + 1                    // lags −(lagBins+margin)…+(lagBins+margin)
        let center = lagBins + margin
        var correlator = SegmentCorrelator(binPs: binPs, segmentPs: segmentPs, rowLength: rowLength, center: center)
        var rows = [[Float]]()
        rows.reserveCapacity(segments)
        for j in stride(from: 0, to: segments, by: 2) {
            let t0 = startPs &+ Int64(j) &* segmentPs
            let pair = correlator.rows(a: a, b: b, first: t0, second: j + 1 < segments ? t0 &+ segmentPs : nil)
            rows.append(pair.first)
            if let second = pair.second { rows.append(second) }
        }
        let hypotheses = 2 * Int((rhoMax * Double(segments)).rounded(.up)) + 1
        let cells = hypotheses * (2 * lagBins + 1)
        let threshold = Self.candidateThreshold(trials: Double(cells))
        let peaks = StackSlide.search(rows: rows, rhoMax: rhoMax, center: center, lagBins: lagBins, keep: Self.candidates)
        let candidates = peaks.filter { $0.significance >= threshold }.map { peak in
            // Bin m of row j holds lags [(m − center)·w, (m − center + 1)·w) relative to the segment start: the
            // box centre is mid-bin.
            Lock(startPs: startPs, offsetPs: (Double(peak.lag) + 0.5) * w, drift: peak.rho * w / Double(segmentPs), offsetSigmaPs: w,
                 driftSigma: 2 * w / Double(spanPs), significance: peak.significance, threshold: threshold)
        }
        return (candidates, peaks.first?.significance ?? 0, threshold, cells)
    }

    /// Range of a refinement stage around the previous stage's line, in the previous stage's bins: its offset at
    /// the span's start (±) and the change of its lag across the span (±). A stage's 3-bin box holds the pairs of
    /// every line that stays within about 1.5 bins of the true one (plus the half-bin steps of the shifted rows), so
    /// its best cell can lie 2 bins off at the start and 4 off across the span — a line crossing the true one
    /// that the box cannot tell from it. The next stage must search all of those.
    static let refinementRange = (offsetBins: 3.0, driftBins: 6.0)
    /// Searches one refinement stage may make: when its best cell lies on the edge of its range the line is
    /// beyond it, and the stage searches again around that cell.
    static let stageSearches = 3

    /// Refines a lock: bins `binPs` over ``refinementRange`` previous bins of offset and of drift across the span,
    /// filled from the events directly; nil unless the best cell passes the threshold for `falseLockProbability`
    /// over the refinement's cells. `atEdge`: the best cell lies within one bin or drift step of the range's edge.
    private func refine(a: [Int64], aRange: Range<Int>, b: [Int64], lock: Lock, spanPs: Int64, previousBinPs: Double, binPs: Double,
                        falseLockProbability: Double) -> (lock: Lock, atEdge: Bool)? {
        let span = Double(spanPs)
        let driftRange = Self.refinementRange.driftBins * previousBinPs / span     // |ν − ν̂| bound
        let segmentPs = driftRange > 0 ? max(Int64(binPs / (2 * driftRange)), 1) : spanPs
        let segments = Int(min((spanPs + segmentPs - 1) / segmentPs, 4096))
        let segment = (spanPs + Int64(segments) - 1) / Int64(segments)
        let rhoMax = driftRange * Double(segment) / binPs
        let lagBins = Int((Self.refinementRange.offsetBins * previousBinPs / binPs).rounded(.up)) + 1
        let margin = StackSlide.margin(driftBins: Int((rhoMax * Double(segments)).rounded(.up)))
        let center = lagBins + margin
        let rowLength = 2 * center + 1
        // One flat array of segments × lags (one uniqueness check, not one per count), cut into rows after; counted
        // as integers (an integer add, not a float add, on the chain of increments of a busy cell), exact either way.
        var cells = [Int32](repeating: 0, count: segments * rowLength)
        let reach = Double(center) * binPs
        var j = firstIndex(in: b, atOrAbove: a[aRange.lowerBound] &+ Int64((lock.offsetPs - reach).rounded(.down)))
        // Lags are binned by multiplying with the reciprocal bin width: a lag whose bin this moves (one within an
        // ulp of a bin edge) is as rare as a tie.
        let perBin = 1 / binPs
        cells.withUnsafeMutableBufferPointer { cells in
            b.withUnsafeBufferPointer { b in
                for t in a[aRange] {
                    let dt = Double(t - lock.startPs)
                    let predicted = Double(t) + lock.offsetPs + lock.drift * dt
                    let row = min(segments - 1, Int(dt / Double(segment))) * rowLength
                    let low = predicted - reach
                    while j < b.count, Double(b[j]) < low { j += 1 }
                    var k = j
                    while k < b.count {
                        let index = floorToInt((Double(b[k]) - predicted) * perBin) + center
                        if index >= rowLength { break }
                        if index >= 0 { cells[row + index] &+= 1 }
                        k += 1
                    }
                }
            }
        }
        let rows = (0..<segments).map { cells[($0 * rowLength)..<(($0 + 1) * rowLength)].map(Float.init) }
        guard let best = StackSlide.search(rows: rows, rhoMax: rhoMax, center: center, lagBins: lagBins, keep: 1).first else { return nil }
        let driftSteps = Int((rhoMax * Double(segments)).rounded(.up))
        let threshold = Self.threshold(trials: Double((2 * driftSteps + 1) * (2 * lagBins + 1)), falseLockProbability: falseLockProbability)
        guard best.significance >= threshold else { return nil }
        let atEdge = abs(best.lag) >= lagBins - 1 || abs(Int((best.rho * Double(segments)).rounded())) >= driftSteps - 1
        // Errors of a stage's line: its degenerate region (2 bins at the start, 4 across the span); the fit below
        // replaces them after the last stage.
        return (Lock(startPs: lock.startPs, offsetPs: lock.offsetPs + (Double(best.lag) + 0.5) * binPs,
                     drift: lock.drift + best.rho * binPs / Double(segment), offsetSigmaPs: 2 * binPs,
                     driftSigma: 4 * binPs / span, significance: lock.significance, threshold: lock.threshold), atEdge)
    }

    /// Window of the final fit about the last stage's line, in its bins (its degenerate region and the peak's width).
    static let fitReachBins = 4.0

    /// The lock's line fitted to the pairs themselves, with statistical errors: lab B events within
    /// ±``fitReachBins`` final bins of the last stage's line, a straight line `lag = α + β·(t − t̄)` by least squares
    /// over those within ±h of it, re-centred until it stands still. The window h halves from the reach while
    /// halving loses no significant excess over the accidentals (`r_B` per ps of lag for every lab A event), then is
    /// doubled once, so it holds the whole peak and few accidentals. The covariance is the sandwich of this
    /// windowed estimator, `J⁻¹·M·J⁻¹`, with `M = Σ e²·xxᵀ` over the window (e: residuals, x = (1, t − t̄)) and
    /// `J = Σ xxᵀ − 2h·r_B·Σ_A xxᵀ`: a window that follows the line trades accidentals at its edges, so only the
    /// pairs' excess pins it. The 1 ps tick adds 1/√12 ps to the offset and 1 ps across the span to the drift.
    /// A peak that fills half the reach (detector jitter beyond the final bins) doubles the reach, up to 8 times.
    /// Without a usable fit (fewer than 10 excess pairs) the last stage's line keeps its bin-limited errors.
    func fitLine(a: [Int64], aRange: Range<Int>, b: [Int64], lock: Lock, binPs: Double, rateB: Double) -> Lock {
        var reach = Self.fitReachBins * binPs
        var xs: [Double] = [], lags: [Double] = []
        var sumX = 0.0, sumXX = 0.0
        /// Lags about the last stage's line of the lab B events within ±reach (x: lab A time from the start).
        func collect() {
            xs.removeAll(keepingCapacity: true); lags.removeAll(keepingCapacity: true)
            sumX = 0; sumXX = 0
            var j = firstIndex(in: b, atOrAbove: a[aRange.lowerBound] &+ Int64((lock.offsetPs - reach).rounded(.down)))
            for t in a[aRange] {
                let x = Double(t - lock.startPs)
                sumX += x; sumXX += x * x
                let predicted = Double(t) + lock.offsetPs + lock.drift * x
                while j < b.count, Double(b[j]) < predicted - reach { j += 1 }
                var k = j
                while k < b.count, Double(b[k]) <= predicted + reach { xs.append(x); lags.append(Double(b[k]) - predicted); k += 1 }
            }
        }
        let eventsA = Double(aRange.count)
        var alpha = 0.0, beta = 0.0
        var meanX: Double { sumX / eventsA }
        /// Events within ±h of the current line.
        func count(_ h: Double) -> Double {
            var n = 0
            for i in lags.indices where abs(lags[i] - alpha - beta * (xs[i] - meanX)) <= h { n += 1 }
            return Double(n)
        }
        /// Whether halving ±h drops a significant (2σ) excess over the accidentals (2·(h/2)·r_B per lab A event).
        func halvingDropsPairs(_ h: Double) -> Bool {
            let dropped = count(h) - count(h / 2)
            return dropped - h * rateB * eventsA >= 2 * max(1, dropped.squareRoot())
        }
        /// One least-squares pass over the events within ±h of the current line; false when degenerate.
        func pass(_ h: Double) -> Bool {
            var s0 = 0.0, s1 = 0.0, s2 = 0.0, sy = 0.0, sxy = 0.0
            for i in lags.indices {
                let c = xs[i] - meanX
                guard abs(lags[i] - alpha - beta * c) <= h else { continue }
                s0 += 1; s1 += c; s2 += c * c; sy += lags[i]; sxy += lags[i] * c
            }
            let det = s0 * s2 - s1 * s1
            guard s0 >= 3, det > 0 else { return false }
            alpha = (s2 * sy - s1 * sxy) / det
            beta = (s0 * sxy - s1 * sy) / det
            return true
        }
        let fallback = lock
        // A peak wider than half the reach (jitter beyond the final bins): the reach doubles, up to 8 times.
        for doubling in 0...3 {
            collect()
            alpha = 0; beta = 0
            for _ in 0..<3 { guard pass(reach) else { return fallback } }
            if doubling == 3 || !halvingDropsPairs(reach) { break }
            reach *= 2
        }
        let spreadA = max(0, sumXX - eventsA * meanX * meanX)              // Σ_A (t − t̄)²
        // Halve the window while the excess it drops is not significant, down to 2 ps.
        var h = reach
        while h / 2 >= 2, !halvingDropsPairs(h) {
            h /= 2
            guard pass(h) else { return fallback }
        }
        h = min(reach, 2 * h)
        for _ in 0..<8 {
            let previous = (alpha, beta)
            guard pass(h) else { return fallback }
            if abs(alpha - previous.0) < 1e-3 && abs(beta - previous.1) * max(1, spreadA / eventsA).squareRoot() < 1e-3 { break }
        }
        // Sandwich covariance of (α, β).
        var j00 = 0.0, j01 = 0.0, j11 = 0.0, m00 = 0.0, m01 = 0.0, m11 = 0.0
        for i in lags.indices {
            let c = xs[i] - meanX, e = lags[i] - alpha - beta * c
            guard abs(e) <= h else { continue }
            j00 += 1; j01 += c; j11 += c * c
            m00 += e * e; m01 += e * e * c; m11 += e * e * c * c
        }
        j00 -= 2 * h * rateB * eventsA
        j11 -= 2 * h * rateB * spreadA
        let det = j00 * j11 - j01 * j01
        guard j00 >= 10, j11 > 0, det > 0 else { return fallback }
        // J⁻¹ = [[j11, −j01], [−j01, j00]]/det; C = J⁻¹·M·J⁻¹.
        let i00 = j11 / det, i01 = -j01 / det, i11 = j00 / det
        let t00 = i00 * m00 + i01 * m01, t01 = i00 * m01 + i01 * m11
        let t10 = i01 * m00 + i11 * m01, t11 = i01 * m01 + i11 * m11
        let c00 = t00 * i00 + t01 * i01, c01 = t00 * i01 + t01 * i11, c11 = t10 * i01 + t11 * i11
        // Offset at the start: α − β·t̄ (t̄ from the start).
        let offsetVariance = c00 + meanX * meanX * c11 - 2 * meanX * c01
        let span = max(1, Double(a[aRange.upperBound - 1] - a[aRange.lowerBound]))
        return Lock(startPs: lock.startPs, offsetPs: lock.offsetPs + alpha - beta * meanX, drift: lock.drift + beta,
                    offsetSigmaPs: (max(0, offsetVariance) + 1.0 / 12).squareRoot(), driftSigma: (max(0, c11) + 1 / (span * span)).squareRoot(),
                    significance: lock.significance, threshold: lock.threshold)
    }
}

/// The two-level stack-and-slide sum over rows (one per segment) and its peak search against the local background.
enum StackSlide {
    struct Peak {
        /// Lag of the peak at the first segment, in bins relative to the row centre.
        var lag: Int
        /// Drift in bins per segment.
        var rho: Double
        var significance: Double
    }

    /// Bins either side of a cell whose mean is its local background (those within `nearBins` excluded).
    static let farBins = 128
    static let nearBins = 3

    /// Lag bins needed beyond the searched lags on each side so that every cell, shifted by up to `driftBins`,
    /// has its whole local-background window summed over all segments (a window reaching past the rows' end
    /// would see fewer segments, a lower background, and a false peak at the edge).
    static func margin(driftBins: Int) -> Int { driftBins + farBins + nearBins + 3 }

    /// Finds the `keep` best distinct cells (lag within ±lagBins of `center`, drift within ±rhoMax bins per
    /// segment) whose 3-bin box stands highest above the mean of its row's bins `nearBins + 1`…`farBins` away on
    /// both sides, best first. Cells within a few bins and drift hypotheses of a better one are the same peak.
    static func search(rows: [[Float]], rhoMax: Double, center: Int, lagBins: Int, keep: Int) -> [Peak] {
        let segments = rows.count
        guard segments > 0, keep > 0, let length = rows.first?.count, length > 0 else { return [] }
        let group = max(1, Int(Double(segments).squareRoot().rounded()))
        let groups = (segments + group - 1) / group
        let groupHypotheses = Int((rhoMax * Double(group)).rounded(.up))
        // Level 1: for each group and drift h1 (bins over the group), rows shifted by round(h1·i/group).
        var level1 = [[[Float]]]()
        level1.reserveCapacity(groups)
        for q in 0..<groups {
            var sums = [[Float]]()
            for h1 in -groupHypotheses...groupHypotheses {
                var row = [Float](repeating: 0, count: length)
                for i in 0..<group where q * group + i < segments {
                    let shift = Int((Double(h1 * i) / Double(group)).rounded())
                    addShifted(rows[q * group + i], shift: shift, into: &row)
                }
                sums.append(row)
            }
            level1.append(sums)
        }
        // Level 2: drift h bins over all segments.
        let hypotheses = Int((rhoMax * Double(segments)).rounded(.up))
        var best: [(peak: Peak, h: Int)] = []
        var row = [Float](repeating: 0, count: length)
        var prefix = [Double](repeating: 0, count: length + 1)
        for h in -hypotheses...hypotheses {
            let rho = Double(h) / Double(segments)
            for m in 0..<length { row[m] = 0 }
            let h1 = max(-groupHypotheses, min(groupHypotheses, Int((rho * Double(group)).rounded())))
            for q in 0..<groups {
                addShifted(level1[q][h1 + groupHypotheses], shift: Int((rho * Double(q * group)).rounded()), into: &row)
            }
            row.withUnsafeBufferPointer { row in
                prefix.withUnsafeMutableBufferPointer { prefix in
                    for m in 0..<length { prefix[m + 1] = prefix[m] + Double(row[m]) }
                }
            }
            var floor = best.count == keep ? best[keep - 1].peak.significance : -Double.infinity
            for m in max(1, center - lagBins)...min(length - 2, center + lagBins) {
                let box = Double(row[m - 1]) + Double(row[m]) + Double(row[m + 1])
                let farLow = max(0, m - farBins), nearLow = max(0, m - nearBins)
                let nearHigh = min(length, m + nearBins + 1), farHigh = min(length, m + farBins + 1)
                let bins = Double((nearLow - farLow) + (farHigh - nearHigh))
                guard bins >= 16 else { continue }
                let mean = (prefix[nearLow] - prefix[farLow] + prefix[farHigh] - prefix[nearHigh]) / bins
                // A box at or below its background scores at most 0 (most cells; saves the square roots).
                if floor >= 0, box <= 3 * mean { continue }
                let z = anscombeScore(box, expected: 3 * mean)
                guard z > floor else { continue }
                insert(Peak(lag: m - center, rho: rho, significance: z), h: h, into: &best, keep: keep)
                floor = best.count == keep ? best[keep - 1].peak.significance : -Double.infinity
            }
        }
        return best.map(\.peak)
    }

    /// Inserts a cell into the best-first list of distinct peaks: a better cell replaces the ones of the same
    /// peak (within `nearBins` lag bins plus the lag a drift difference of `|Δh|` bins moves, for |Δh| ≤ 4); a
    /// worse cell of a listed peak is dropped.
    private static func insert(_ peak: Peak, h: Int, into best: inout [(peak: Peak, h: Int)], keep: Int) {
        func same(_ other: (peak: Peak, h: Int)) -> Bool {
            let dh = abs(other.h - h)
            return dh <= 4 && abs(other.peak.lag - peak.lag) <= nearBins + dh
        }
        if best.contains(where: { same($0) && $0.peak.significance >= peak.significance }) { return }
        best.removeAll(where: same)
        let index = best.firstIndex { $0.peak.significance < peak.significance } ?? best.count
        best.insert((peak, h), at: index)
        if best.count > keep { best.removeLast(best.count - keep) }
    }

    /// dst[m] += src[m + shift] where both are in range.
    private static func addShifted(_ src: [Float], shift: Int, into dst: inout [Float]) {
        let low = max(0, -shift), high = min(dst.count, src.count - shift)
        guard low < high else { return }
        src.withUnsafeBufferPointer { source in
            dst.withUnsafeMutableBufferPointer { target in
                for m in low..<high { target[m] += source[m + shift] }
            }
        }
    }
}


/// What an acquisition attempt searched and found (for messages when no lock is found).
public struct ClockAcquisitionAttempt: Sendable, Equatable, Codable {
    /// Lab A time the searched span starts at, and its length, ps.
    public var startPs: Int64
    public var spanPs: Int64
    /// Lab A events in the span and lab B events within its reach.
    public var eventsA: Int
    public var eventsB: Int
    /// Coarse bin width, ps.
    public var binPs: Int64
    /// Best peak's significance against its local background, and the threshold it had to pass (σ).
    public var significance: Double
    public var threshold: Double
    /// Set when coarse candidates passed but none survived refinement: the finest bin width (ps) a candidate
    /// reached before its refinement found no significant peak.
    public var refinementFailedAtBinPs: Int64?
    /// (Offset, frequency) cells of the coarse search, and the coarse candidates refined.
    public var cells: Int = 0
    public var candidatesRefined: Int = 0

    /// What was searched and why it did not lock, for messages.
    public var summary: String {
        let sigma = { (x: Double) in "\((x * 10).rounded() / 10) σ" }
        var text = "\(eventsA) lab A and \(eventsB) lab B events over \(Double(spanPs) * 1e-12) s, \(cells) offset × frequency cells of "
            + "\(Double(binPs) * 1e-3) ns; best coarse peak \(sigma(significance)) against a candidate threshold of \(sigma(threshold))"
        if let failed = refinementFailedAtBinPs {
            text += "; \(candidatesRefined) candidate(s) refined, none significant at \(Double(failed) * 1e-3) ns bins"
        }
        return text
    }
}
