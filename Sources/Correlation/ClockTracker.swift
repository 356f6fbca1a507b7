/// How the two labs' clocks are related.
public enum ClockReference: Sendable, Codable, Equatable {
    /// Both time taggers share a reference (10 MHz + PPS, White Rabbit): only a fixed offset remains, which
    /// is given (for example from a delay calibration); no recovery is run.
    case shared(offsetPs: Int64)
    /// Independent clocks: the offset is recovered from the data and the drift tracked.
    case independent
}

/// One point of a tracked clock offset.
public struct OffsetSample: Sendable, Codable, Equatable {
    /// Time on lab A's clock (middle of the block), in picoseconds.
    public var timePs: Int64
    /// Offset `t_B − t_A` at that time, in picoseconds.
    public var offsetPs: Double
    /// Frequency difference estimated at that time, in parts per million.
    public var driftPpm: Double
    /// Pairs found in the block.
    public var pairs: Int
    /// RMS spread of the pairs' lags around the tracked offset, in picoseconds.
    public var spreadPs: Double
}

/// The outcome of clock tracking through a run.
public struct ClockTrack: Sendable, Codable, Equatable {
    /// Offset against time.
    public var samples: [OffsetSample]
    /// Mean frequency difference over the run, in parts per million.
    public var meanDriftPpm: Double
    /// RMS of the pairs' lags around the tracked offset (detector jitter of both labs plus tracking error).
    public var residualJitterPs: Double

    /// The tracked offset at `timePs` (linear between samples, held at the ends).
    public func offsetPs(at timePs: Int64) -> Double {
        guard let first = samples.first, let last = samples.last else { return 0 }
        if timePs <= first.timePs { return first.offsetPs + first.driftPpm * 1e-6 * Double(timePs - first.timePs) }
        if timePs >= last.timePs { return last.offsetPs + last.driftPpm * 1e-6 * Double(timePs - last.timePs) }
        var low = 0, high = samples.count - 1
        while high - low > 1 {
            let mid = (low + high) / 2
            if samples[mid].timePs <= timePs { low = mid } else { high = mid }
        }
        let a = samples[low], b = samples[high]
        let fraction = Double(timePs - a.timePs) / Double(max(1, b.timePs - a.timePs))
        return a.offsetPs + fraction * (b.offsetPs - a.offsetPs)
    }
}

/// Follows a slowly varying clock offset through a run with a second-order tracking loop.
///
/// The run is cut into blocks of lab A time. In each block the lags `t_B − t_A − offset(t_A)` of events
/// within the current window are histogrammed; the peak is located and its centroid taken. The measured
/// error updates offset and frequency (an alpha–beta loop), and the window narrows as the lock tightens.
public struct ClockTracker: Sendable, Codable {
    /// Length of each block, in picoseconds of lab A time.
    public var blockPs: Int64 = 1_000_000_000_000
    /// Window half-width at the start (covers the initial offset uncertainty plus drift in one block).
    public var initialHalfWidthPs: Int64 = 1_000_000
    /// Smallest window half-width.
    public var finalHalfWidthPs: Int64 = 500
    /// Blocks with fewer pairs than this are merged into the next block.
    public var minimumPairs: Int = 20
    /// Loop gains for offset and frequency.
    public var offsetGain = 0.7
    public var driftGain = 0.3

    public init() {}

    /// Tracks the offset of sorted times `b` (lab B) against `a` (lab A), starting from `initialOffsetPs`
    /// at the first A event and `initialDriftPpm`.
    public func track(a: [Int64], b: [Int64], initialOffsetPs: Int64, initialDriftPpm: Double = 0) throws(CorrelationError) -> ClockTrack {
        guard let start = a.first, let end = a.last, !b.isEmpty, blockPs > 0 else {
            throw CorrelationError(.insufficientData, "both streams need events", context: "clock tracking")
        }
        var offset = Double(initialOffsetPs)       // at `reference`
        var drift = initialDriftPpm * 1e-6
        var reference = start
        var halfWidth = Double(max(initialHalfWidthPs, finalHalfWidthPs))
        var samples: [OffsetSample] = []
        var blockStart = start
        var aIndex = 0
        var bIndex = 0
        var pooledSquares = 0.0, pooledCount = 0
        var lags: [Double] = []
        var lagTimes: [Int64] = []
        while blockStart <= end {
            let blockEnd = blockStart + blockPs
            lags.removeAll(keepingCapacity: true)
            lagTimes.removeAll(keepingCapacity: true)
            while aIndex < a.count, a[aIndex] < blockEnd {
                let t = a[aIndex]
                let predicted = offset + drift * Double(t - reference)
                let low = Double(t) + predicted - halfWidth
                while bIndex < b.count, Double(b[bIndex]) < low { bIndex += 1 }
                var j = bIndex
                while j < b.count {
                    let lag = Double(b[j] - t) - predicted
                    if lag > halfWidth { break }
                    lags.append(lag)
                    lagTimes.append(t)
                    j += 1
                }
                aIndex += 1
            }
            blockStart = blockEnd
            guard let peak = Self.peakCentroid(lags, halfWidth: halfWidth, finalHalfWidth: Double(finalHalfWidthPs)),
                  peak.count >= minimumPairs else { continue }
            let middle = lagTimes[lagTimes.count / 2]
            let measured = offset + drift * Double(middle - reference) + peak.center
            // Alpha–beta update at the block middle.
            let previousTime = samples.last?.timePs
            offset = offset + drift * Double(middle - reference) + offsetGain * peak.center
            if let previousTime, middle > previousTime {
                drift += driftGain * peak.center / Double(middle - previousTime)
            }
            reference = middle
            halfWidth = max(Double(finalHalfWidthPs), min(halfWidth, 6 * peak.spread + abs(peak.center)))
            pooledSquares += peak.spread * peak.spread * Double(peak.count)
            pooledCount += peak.count
            samples.append(OffsetSample(timePs: middle, offsetPs: measured, driftPpm: drift * 1e6,
                                        pairs: peak.count, spreadPs: peak.spread))
        }
        guard samples.count >= 2, let first = samples.first, let last = samples.last else {
            throw CorrelationError(.noPeakFound, "too few blocks with a coincidence peak to track the clock",
                                   context: "\(samples.count) blocks locked",
                                   hint: "use longer blocks, a wider initial window or check the initial offset")
        }
        let meanDrift = (last.offsetPs - first.offsetPs) / Double(max(1, last.timePs - first.timePs)) * 1e6
        return ClockTrack(samples: samples, meanDriftPpm: meanDrift,
                          residualJitterPs: (pooledSquares / Double(max(1, pooledCount))).squareRoot())
    }

    /// Locates the coincidence peak among `lags` (histogram mode, then centroid within a narrowing window).
    static func peakCentroid(_ lags: [Double], halfWidth: Double, finalHalfWidth: Double) -> (center: Double, spread: Double, count: Int)? {
        guard !lags.isEmpty else { return nil }
        let bins = 64
        let width = 2 * halfWidth / Double(bins)
        var histogram = [Int](repeating: 0, count: bins)
        for lag in lags {
            let bin = Int((lag + halfWidth) / width)
            if bin >= 0, bin < bins { histogram[bin] += 1 }
        }
        var best = 0
        for bin in 1..<bins where histogram[bin] > histogram[best] { best = bin }
        var center = -halfWidth + (Double(best) + 0.5) * width
        var guardWidth = max(8 * width, finalHalfWidth)   // wide enough for a peak smeared by drift
        var spread = 0.0, count = 0
        for _ in 0..<4 {
            var sum = 0.0, sumSquares = 0.0
            count = 0
            for lag in lags where abs(lag - center) <= guardWidth {
                sum += lag; sumSquares += lag * lag; count += 1
            }
            guard count > 0 else { return nil }
            let mean = sum / Double(count)
            spread = max(0, sumSquares / Double(count) - mean * mean).squareRoot()
            center = mean
            guardWidth = max(finalHalfWidth, min(guardWidth, 4 * spread))
        }
        return (center, spread, count)
    }
}
