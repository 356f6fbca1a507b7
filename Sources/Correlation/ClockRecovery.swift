/// Finds the offset between two labs' clocks from the data alone: FFT cross-correlation of the binned
/// streams, first coarse over the whole search range, then fine around the coarse peak.
///
/// The offset is defined as `t_B − t_A` for events of the same pair (lab B's clock reads this much later).
public struct OffsetSearch: Sendable, Codable {
    /// Largest offset searched, in picoseconds (either sign).
    public var maxOffsetPs: Int64 = 10_000_000_000
    /// Bins in the coarse FFT (power of two).
    public var coarseBins: Int = 1 << 17
    /// Bins in the fine FFT (power of two); the fine bin is the coarse bin divided by `fineDivision`.
    public var fineBins: Int = 1 << 16
    /// Coarse bin width divided by the fine bin width.
    public var fineDivision: Int64 = 64
    /// Largest frequency difference expected, in parts per million (limits the fine segment so drift does
    /// not smear the fine peak).
    public var maxDriftPpm: Double = 5

    public init() {}

    /// Result of the search.
    public struct Result: Sendable, Codable, Equatable {
        /// Offset `t_B − t_A` at the start of the searched segment, in picoseconds.
        public var offsetPs: Int64
        /// Width of the coarse and fine bins used.
        public var coarseBinPs: Int64
        public var fineBinPs: Int64
        /// Peak height over the mean of the correlation, in standard deviations (coarse and fine).
        public var coarseSignificance: Double
        public var fineSignificance: Double
    }

    /// Searches the offset between sorted event times `a` (lab A) and `b` (lab B).
    public func run(a: [Int64], b: [Int64]) throws(CorrelationError) -> Result {
        guard let startA = a.first, !b.isEmpty, maxOffsetPs > 0 else {
            throw CorrelationError(.insufficientData, "both streams need events", context: "offset search")
        }
        guard coarseBins >= 16, coarseBins & (coarseBins - 1) == 0, fineBins >= 16, fineBins & (fineBins - 1) == 0,
              fineDivision >= 1 else {
            throw CorrelationError(.invalidParameter, "FFT sizes must be powers of two (≥ 16)", context: "offset search")
        }
        // Coarse: a segment four times the search range, lags ±N/2 cover ±2·maxOffset.
        let segmentPs = 4 * maxOffsetPs
        let coarseBin = max(1, (segmentPs + Int64(coarseBins) - 1) / Int64(coarseBins))
        let coarse = try correlate(a: a, b: b, startA: startA, shiftPs: 0, binPs: coarseBin, bins: coarseBins,
                                   durationPs: segmentPs, maxLagBins: Int(maxOffsetPs / coarseBin) + 1, folded: false)
        let coarseOffset = coarse.lagBins * coarseBin
        // Fine: smaller bins over a shorter span (drift limits it), folded modulo the FFT period.
        let fineBin = max(1, coarseBin / fineDivision)
        let driftLimited = Int64(Double(fineBin) / max(maxDriftPpm, 1e-3) * 1e6)
        let fineDuration = min(segmentPs, max(driftLimited, Int64(fineBins) * fineBin))
        let fine = try correlate(a: a, b: b, startA: startA, shiftPs: coarseOffset, binPs: fineBin, bins: fineBins,
                                 durationPs: fineDuration, maxLagBins: Int(2 * coarseBin / fineBin) + 2, folded: true)
        return Result(offsetPs: coarseOffset + fine.lagBins * fineBin, coarseBinPs: coarseBin, fineBinPs: fineBin,
                      coarseSignificance: coarse.significance, fineSignificance: fine.significance)
    }

    /// Bins `a` from `startA` and `b − shiftPs` from `startA` into `bins` bins (folding times modulo the FFT
    /// period when `folded`), correlates, and returns the best lag within ±maxLagBins.
    private func correlate(a: [Int64], b: [Int64], startA: Int64, shiftPs: Int64, binPs: Int64, bins: Int,
                           durationPs: Int64, maxLagBins: Int, folded: Bool) throws(CorrelationError) -> (lagBins: Int64, significance: Double) {
        let size = folded ? bins : 2 * bins     // zero padding makes the unfolded correlation linear
        var binnedA = [Double](repeating: 0, count: size)
        var binnedB = [Double](repeating: 0, count: size)
        func fill(_ times: [Int64], shift: Int64, into target: inout [Double]) {
            let first = firstIndex(in: times, atOrAbove: startA &+ shift)
            var i = first
            while i < times.count {
                let offset = times[i] &- shift &- startA
                if offset >= durationPs { break }
                let bin = offset / binPs
                target[folded ? Int(bin % Int64(bins)) : Int(bin)] += 1
                i += 1
            }
        }
        fill(a, shift: 0, into: &binnedA)
        // For B the segment is widened by the search range so that partners of every A event are included.
        let reach = Int64(maxLagBins) * binPs
        let bStart = firstIndex(in: b, atOrAbove: startA &+ shiftPs &- reach)
        var i = bStart
        while i < b.count {
            let offset = b[i] &- shiftPs &- startA
            if offset >= durationPs &+ reach { break }
            let bin = offset >= 0 ? offset / binPs : (offset - binPs + 1) / binPs
            let index = ((Int(bin) % size) + size) % size
            binnedB[index] += 1
            i += 1
        }
        let correlation = try FFT.circularCrossCorrelation(binnedA, binnedB)
        var best = 0, bestValue = -Double.infinity
        var sum = 0.0, sumSquares = 0.0, n = 0.0
        let limit = min(maxLagBins, size / 2 - 1)
        for lag in -limit...limit {
            let value = correlation[(lag + size) % size]
            sum += value; sumSquares += value * value; n += 1
            if value > bestValue { bestValue = value; best = lag }
        }
        let mean = sum / n
        let spread = max((sumSquares / n - mean * mean).squareRoot(), 1e-12)
        guard bestValue > mean + 5 * spread else {
            throw CorrelationError(.noPeakFound, "no correlation peak stands out (best \(Int(bestValue)) vs mean \(Int(mean)))",
                                   context: "offset search, bin \(binPs) ps",
                                   hint: "use a longer stretch of data, check the channels, or widen the search range")
        }
        return (Int64(best), (bestValue - mean) / spread)
    }
}
