import Correlation
import TimeTags

/// A small, deterministic two-lab link generator used when no recorded data is at hand: photon pairs in
/// the Bell state ψ⁻ with a known visibility, passive Z/X basis choice in each lab, detection
/// efficiencies, dark counts, a constant clock offset of lab B and station detector clicks that herald
/// a fraction of the pairs.
///
/// Both labs run the same generator with the same seed and keep only their own tags, so their streams
/// are correlated exactly as the ground truth says. Every slice is generated from its own seed, so a
/// node can produce any slice independently.
public struct SyntheticLink: Sendable, Equatable {
    /// Ground truth and rates.
    public struct Parameters: Sendable, Equatable {
        public var seed: UInt64 = 1
        /// Pairs emitted per second.
        public var pairRateHz: Double = 200_000
        /// Probability that a photon of a pair is detected in lab A / lab B.
        public var efficiencyA: Double = 0.5
        public var efficiencyB: Double = 0.5
        /// Visibility of the ψ⁻ state (E_ZZ = E_XX = −visibility).
        public var visibility: Double = 0.9
        /// Dark count rate of every detector, Hz.
        public var darkCountRateHz: Double = 200
        /// Lab B's clock reads this much later than lab A's, ps (at link time 0).
        public var clockOffsetBPs: Int64 = 37_000_123
        /// Lab B's clock runs this much fast, ppm: its offset grows by `clockDriftPpm` µs per second.
        public var clockDriftPpm: Double = 0
        /// Detector timing jitter (standard deviation), ps.
        public var jitterPs: Double = 40
        /// Attempt (repetition) period: pairs are emitted at whole multiples of it, ps.
        public var repetitionPeriodPs: Int64 = 100_000
        /// Probability that the station heralds a pair (a click on the ψ⁻ detector).
        public var heraldProbability: Double = 0.01
        /// Delay from emission to the station click, on lab A's clock, ps.
        public var stationDelayPs: Int64 = 50_000
        /// Channels of lab A: H, V, D, A.
        public var channelsA: [TagChannel] = [1, 2, 3, 4]
        /// Channels of lab B: H, V, D, A.
        public var channelsB: [TagChannel] = [11, 12, 13, 14]
        /// Station detectors (ψ⁺, ψ⁻), recorded by lab A's tagger.
        public var stationChannels: [TagChannel] = [21, 22]
        /// Length of one generated slice, ps.
        public var slicePs: Int64 = 10_000_000_000

        public init() {}
    }

    public var parameters: Parameters
    /// 0: lab A, 1: lab B.
    public var labIndex: Int

    public init(parameters: Parameters, labIndex: Int) {
        self.parameters = parameters
        self.labIndex = labIndex
    }

    /// The tags of this lab in slice `index` (time-sorted).
    public func slice(_ index: Int64) -> TagBatch {
        let p = parameters
        var rng = SeededGenerator(seed: p.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(bitPattern: index))
        let start = index * p.slicePs, end = start + p.slicePs
        var events: [(Int64, TagChannel)] = []
        let myChannels = labIndex == 0 ? p.channelsA : p.channelsB
        let myOffset = labIndex == 0 ? 0 : p.clockOffsetBPs
        // Pairs: each attempt emits a pair with probability rate × period (geometric skipping).
        let pairProbability = min(1, p.pairRateHz * Double(p.repetitionPeriodPs) * 1e-12)
        let meanAttemptsBetween = 1 / max(pairProbability, 1e-12)
        var attempt = start / p.repetitionPeriodPs
        let lastAttempt = (end - 1) / p.repetitionPeriodPs
        while true {
            attempt += Int64(rng.nextExponential(mean: meanAttemptsBetween).rounded(.up))
            guard attempt <= lastAttempt else { break }
            let emission = attempt * p.repetitionPeriodPs
            // Draw everything for both labs so both nodes consume the generator identically.
            let basisA = rng.nextUnit() < 0.5 ? 0 : 1, basisB = rng.nextUnit() < 0.5 ? 0 : 1
            let bitA = rng.nextUnit() < 0.5 ? 0 : 1
            let anticorrelated = rng.nextUnit() < (1 + p.visibility) / 2
            let bitB = basisA == basisB ? (anticorrelated ? 1 - bitA : bitA) : (rng.nextUnit() < 0.5 ? 0 : 1)
            let detectA = rng.nextUnit() < p.efficiencyA, detectB = rng.nextUnit() < p.efficiencyB
            let jitterA = rng.nextGaussian() * p.jitterPs, jitterB = rng.nextGaussian() * p.jitterPs
            let herald = rng.nextUnit() < p.heraldProbability
            if labIndex == 0 {
                if detectA { events.append((emission + Int64(jitterA), myChannels[basisA * 2 + bitA])) }
                if herald, p.stationChannels.count == 2 { events.append((emission + p.stationDelayPs, p.stationChannels[1])) }
            } else if detectB {
                events.append((emission + myOffset + drift(emission) + Int64(jitterB), myChannels[basisB * 2 + bitB]))
            }
        }
        // Dark counts on every detector of this lab (and the station's, in lab A), from a stream of this
        // lab's own: the labs' dark counts must be independent.
        rng = SeededGenerator(seed: (p.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(bitPattern: index)) ^ (0xD1B5_4A32_D192_ED03 &* UInt64(labIndex + 1)))
        var darkChannels = myChannels
        if labIndex == 0 { darkChannels += p.stationChannels }
        for channel in darkChannels {
            let count = rng.nextPoisson(mean: p.darkCountRateHz * Double(p.slicePs) * 1e-12)
            for _ in 0..<max(0, count) {
                events.append((start + myOffset + Int64(rng.nextUnit() * Double(p.slicePs)), channel))
            }
        }
        // Keep slices disjoint in time so consecutive slices form one sorted stream.
        events.removeAll { $0.0 < start + myOffset || $0.0 >= end + myOffset }
        events.sort { $0.0 < $1.0 }
        return TagBatch(timesPs: events.map(\.0), channels: events.map(\.1))
    }

    /// Lab B's extra offset from its clock drift at lab A time `timePs`.
    private func drift(_ timePs: Int64) -> Int64 {
        labIndex == 0 ? 0 : Int64((Double(timePs) * parameters.clockDriftPpm * 1e-6).rounded())
    }

    /// Lab B's clock offset at lab A time `timePs` (ground truth).
    public func trueClockOffsetPs(at timePs: Int64) -> Double {
        Double(parameters.clockOffsetBPs) + Double(timePs) * parameters.clockDriftPpm * 1e-6
    }

    /// Lab B's recorded clock offset (ground truth).
    public var trueClockOffsetPs: Int64 { parameters.clockOffsetBPs }
    /// The fidelity lower bound (Z and X) the analysis should find for ψ⁻ without accidentals: the visibility.
    public var trueFidelityLowerBound: Double { parameters.visibility }
}
