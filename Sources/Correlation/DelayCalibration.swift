/// Finds a channel pair's delay from the peak of its cross-correlation histogram, with sub-bin precision.
public enum DelayCalibration {
    /// The delay found.
    public struct Result: Sendable, Codable, Equatable {
        /// Peak position (background-subtracted centroid), in picoseconds.
        public var delayPs: Double
        /// Standard error of the position, in picoseconds.
        public var standardErrorPs: Double
        /// Counts in the peak above background.
        public var peakCounts: Double
        /// Background level per bin (median of the histogram).
        public var backgroundPerBin: Double
    }

    /// Locates the highest bin, subtracts the median background and takes the centroid of the bins within
    /// `halfWidthBins` of the peak. Throws when the peak does not stand out by five standard deviations.
    public static func findDelay(_ histogram: CorrelationHistogram, halfWidthBins: Int = 5) throws(CorrelationError) -> Result {
        let counts = histogram.counts.map(Double.init)
        guard let peakIndex = counts.indices.max(by: { counts[$0] < counts[$1] }) else {
            throw CorrelationError(.insufficientData, "empty histogram", context: "delay calibration \(histogram.pair)")
        }
        let background = counts.sorted()[counts.count / 2]
        guard counts[peakIndex] - background > 5 * max(1, background.squareRoot()) else {
            throw CorrelationError(.noPeakFound, "no peak above background in the histogram",
                                   context: "delay calibration \(histogram.pair)", hint: "widen the range or use more data")
        }
        let low = max(0, peakIndex - halfWidthBins), high = min(counts.count - 1, peakIndex + halfWidthBins)
        var weight = 0.0, moment = 0.0, secondMoment = 0.0
        for index in low...high {
            let excess = max(0, counts[index] - background)
            let center = histogram.binCenterPs(index)
            weight += excess; moment += excess * center; secondMoment += excess * center * center
        }
        let mean = moment / weight
        let variance = max(secondMoment / weight - mean * mean, pow2(Double(histogram.binWidthPs)) / 12)
        return Result(delayPs: mean, standardErrorPs: (variance / weight).squareRoot(), peakCounts: weight,
                      backgroundPerBin: background)
    }
}
