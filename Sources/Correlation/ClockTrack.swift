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
    /// Time on lab A's clock (the mean time of the measurement's pairs), in picoseconds.
    public var timePs: Int64
    /// Offset `t_B − t_A` at that time, in picoseconds (the tracking filter's estimate, smoothed over the
    /// tracker's lag).
    public var offsetPs: Double
    /// Frequency difference estimated at that time, in parts per million.
    public var driftPpm: Double
    /// Standard error of ``offsetPs`` as the filter states it, in picoseconds (0: not stated).
    public var offsetSigmaPs: Double
    /// Standard error of ``driftPpm`` as the filter states it, in parts per million (0: not stated).
    public var driftSigmaPpm: Double
    /// Pairs found in the block.
    public var pairs: Int
    /// RMS spread of the pairs' lags around the tracked offset, in picoseconds.
    public var spreadPs: Double
    /// The block's own measurement of the offset (before filtering), in picoseconds.
    public var measuredOffsetPs: Double

    public init(timePs: Int64, offsetPs: Double, driftPpm: Double, pairs: Int, spreadPs: Double, measuredOffsetPs: Double,
                offsetSigmaPs: Double = 0, driftSigmaPpm: Double = 0) {
        self.timePs = timePs; self.offsetPs = offsetPs; self.driftPpm = driftPpm
        self.pairs = pairs; self.spreadPs = spreadPs; self.measuredOffsetPs = measuredOffsetPs
        self.offsetSigmaPs = offsetSigmaPs; self.driftSigmaPpm = driftSigmaPpm
    }
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

