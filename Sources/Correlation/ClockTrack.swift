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

    /// The tracked offset at `timePs` (linear between samples, extrapolated with the end samples' drift).
    public func offsetPs(at timePs: Int64) -> Double { Self.piece(of: samples, containing: timePs).offsetPs(at: timePs) }

    /// The linear piece of the offset through `samples` (sorted by time) that holds `timePs`: between two samples
    /// the line through them, before the first and after the last the line of that sample's drift; without
    /// samples, zero everywhere.
    static func piece(of samples: [OffsetSample], containing timePs: Int64) -> OffsetPiece {
        guard let first = samples.first, let last = samples.last else {
            return OffsetPiece(lowerPs: .min, upperPs: .max, originPs: 0, offsetPs: 0, slope: 0)
        }
        if timePs <= first.timePs {
            return OffsetPiece(lowerPs: .min, upperPs: first.timePs, originPs: first.timePs, offsetPs: first.offsetPs, slope: first.driftPpm * 1e-6)
        }
        if timePs >= last.timePs {
            return OffsetPiece(lowerPs: last.timePs, upperPs: .max, originPs: last.timePs, offsetPs: last.offsetPs, slope: last.driftPpm * 1e-6)
        }
        var low = 0, high = samples.count - 1
        while high - low > 1 {
            let mid = (low + high) / 2
            if samples[mid].timePs <= timePs { low = mid } else { high = mid }
        }
        let a = samples[low], b = samples[high]
        return OffsetPiece(lowerPs: a.timePs, upperPs: b.timePs - 1, originPs: a.timePs, offsetPs: a.offsetPs,
                           slope: (b.offsetPs - a.offsetPs) / Double(max(1, b.timePs - a.timePs)))
    }
}

/// A stretch of lab A time over which a clock offset is linear: `offset(t) = offsetPs + slope·(t − originPs)` for
/// `lowerPs ≤ t ≤ upperPs`. Mapping lab B's events piece by piece solves `t_B = t_A + offset(t_A)` in closed form
/// instead of looking the track up per event.
struct OffsetPiece: Sendable, Equatable {
    var lowerPs: Int64
    var upperPs: Int64
    var originPs: Int64
    /// Offset t_B − t_A at `originPs`, ps.
    var offsetPs: Double
    /// Change of the offset per ps of lab A time (the fractional frequency difference).
    var slope: Double

    func offsetPs(at timePs: Int64) -> Double { offsetPs + slope * Double(timePs &- originPs) }

    /// The lab A time `t` with `t + offset(t) = bPs` on this piece's line, rounded to the nearest ps (differences
    /// taken from `originPs` first, so the result keeps picosecond precision at any link time).
    @inline(__always) func aPs(ofB bPs: Int64) -> Int64 {
        let u = max(-9e18, min(9e18, (Double(bPs &- originPs) - offsetPs) / (1 + slope)))
        return originPs &+ Int64(u < 0 ? u - 0.5 : u + 0.5)
    }

    /// This piece restricted to `lowerPs...upperPs`.
    func clamped(_ lowerPs: Int64, _ upperPs: Int64) -> OffsetPiece {
        var piece = self
        piece.lowerPs = max(self.lowerPs, lowerPs)
        piece.upperPs = min(self.upperPs, upperPs)
        return piece
    }
}
