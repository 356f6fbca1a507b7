import Foundation
import LinkModel

/// The planned link used as each of the two segments of ``SequentialRepeater`` (Rozpędek et al. 2018), at one
/// operating point: the optimal cut-off, the secret-key rate per channel use with and without it, and the
/// rate/fidelity trade-off as the cut-off varies (`plan.sequential_repeater`, `docs/planner.md`).
///
/// Both segments deliver the link's pair with its success probability per attempt; a channel use is one attempt
/// period 1/f, so secret bits per second are R·f.
public struct SequentialRepeaterStudy: Sendable, Equatable, Encodable {
    /// The repeater with one cut-off.
    public struct Point: Sendable, Equatable, Encodable {
        /// The cut-off n* in channel uses, nil for none.
        public var cutoffAttempts: Int?
        /// The cut-off t* = n*/f in picoseconds, nil for none.
        public var cutoffPs: Int64?
        /// Mean channel uses per delivered pair ⟨N⟩.
        public var meanChannelUses: Double
        /// Fidelity of the delivered pair after the swap, averaged over the storage time.
        public var fidelity: Double
        /// Its QBER in Z and X.
        public var qberZ: Double
        public var qberX: Double
        /// Secret-key rate per channel use R = r/⟨N⟩.
        public var keyPerChannelUse: Double
        /// Secret bits per second, R·f.
        public var keyRateBitsPerS: Double
    }

    /// Where the study was taken (the plan's optimum, or its highest-rate usable point).
    public var point: OperatingPoint
    /// Each segment's success probability per channel use.
    public var successProbability: Double
    /// Each segment's delivered fidelity.
    public var segmentFidelity: Double
    /// Error-correction inefficiency f of the secret-key fraction (the plan's `key.error_correction_efficiency`).
    public var errorCorrectionEfficiency: Double
    /// The best cut-off (or none, when waiting forever gives more key).
    public var best: Point
    /// The repeater without a cut-off.
    public var withoutCutoff: Point
    /// The trade-off: log-spaced cut-offs from one channel use to ⌈40/p⌉ and the best, by increasing cut-off, the
    /// last without one.
    public var curve: [Point]
    /// Transmissivity of both segments in series, η = (t_A·t_B)².
    public var transmissivity: Double
    /// The repeaterless (PLOB) bound −log₂(1 − η) for that transmissivity, in secret bits per channel use.
    public var plobBitsPerChannelUse: Double
    /// A sentence for the user.
    public var message: String

    /// The repeater whose node keeps its qubit in `memory`, with both segments delivering `pair` with probability
    /// `p` per attempt at `point`; `segmentTransmissivity` is t_A·t_B of one segment.
    public static func study(memory: Memory, pair: BellDiagonalState, successProbability p: Double, point: OperatingPoint,
                             segmentTransmissivity: Double, errorCorrectionEfficiency: Double, count: Int = 40) -> SequentialRepeaterStudy {
        let rate = point.repetitionRateHz
        let periodPs = 1e12 / rate
        let repeater = SequentialRepeater(firstLink: pair, firstSuccessProbability: p, secondLink: pair, secondSuccessProbability: p,
                                          storage: StorageDecay(memories: [memory], periodPs: periodPs),
                                          errorCorrectionEfficiency: errorCorrectionEfficiency)
        func figures(_ outcome: SequentialRepeater.Outcome) -> Point {
            Point(cutoffAttempts: outcome.cutoffAttempts, cutoffPs: outcome.cutoffAttempts.map { Int64((Double($0) * periodPs).rounded()) },
                  meanChannelUses: outcome.meanChannelUses, fidelity: outcome.state.fidelity, qberZ: outcome.qberZ,
                  qberX: outcome.qberX, keyPerChannelUse: outcome.keyPerChannelUse, keyRateBitsPerS: outcome.keyPerChannelUse * rate)
        }
        let (cut, none) = repeater.optimalCutoff()
        let best = figures(none.keyPerChannelUse > cut.keyPerChannelUse ? none : cut)
        let withoutCutoff = figures(none)
        var cutoffs = Set(SweepGrid.spaced(from: 1, to: Double(repeater.longestUsefulCutoff), count: count).map { Int($0.rounded()) })
        if let n = cut.cutoffAttempts { cutoffs.insert(n) }
        let curve = cutoffs.sorted().map { figures(repeater.outcome(cutoffAttempts: $0)) } + [withoutCutoff]
        let eta = segmentTransmissivity * segmentTransmissivity
        let bound = KeyRate.plobBound(transmissivity: eta)

        var message: String
        if best.keyPerChannelUse > 0 {
            message = (best.cutoffAttempts.map { "optimal cut-off n* = \($0) channel uses (t* = " + Format.seconds(Double($0) * periodPs * 1e-12) + ")" }
                ?? "no cut-off is best")
                + ": " + Format.number(best.keyPerChannelUse) + " secret bits per channel use (" + Format.number(best.keyRateBitsPerS)
                + " bit/s), F = " + Format.number(best.fidelity, digits: 4) + "; without a cut-off "
                + Format.number(withoutCutoff.keyPerChannelUse) + " (F = " + Format.number(withoutCutoff.fidelity, digits: 4) + ")"
        } else {
            message = "no cut-off leaves a secret key: the highest delivered fidelity is "
                + Format.number(curve.map(\.fidelity).max() ?? 0, digits: 4)
        }
        message += "; repeaterless bound for both segments in series " + Format.number(bound) + " bits per channel use"
        return SequentialRepeaterStudy(point: point, successProbability: p, segmentFidelity: pair.fidelity,
                                       errorCorrectionEfficiency: errorCorrectionEfficiency, best: best, withoutCutoff: withoutCutoff,
                                       curve: curve, transmissivity: eta, plobBitsPerChannelUse: bound, message: message)
    }
}
