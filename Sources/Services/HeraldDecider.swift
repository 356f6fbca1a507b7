import Protocol
import TimeTags

/// Decides heralds from the station's detector tags, one attempt at a time (single-click protocol).
///
/// Attempt `k` spans `[k·T, (k+1)·T)` on the reference clock (T: the repetition period). A click counts
/// only inside the attempt's acceptance window `[windowStartPs, windowEndPs)` measured from the attempt
/// start. Exactly one click: ψ⁺ (first station detector) or ψ⁻ (second). More than one click in the same
/// attempt: failure (multi-photon or dark count). Attempts without clicks are failures that are counted
/// but not broadcast. Attempt ids never go backwards, so a restarted coordinator that resumes at its
/// journal's last attempt never heralds the same attempt twice.
public struct HeraldDecider: Sendable {
    public var repetitionPeriodPs: Int64
    public var windowStartPs: Int64
    public var windowEndPs: Int64
    /// Station detector channels: index 0 heralds ψ⁺, index 1 ψ⁻.
    public var stationChannels: [TagChannel]
    /// The next herald sequence number.
    public private(set) var nextSequence: UInt64
    /// Attempts up to and including this one are decided.
    public private(set) var lastDecidedAttempt: UInt64
    /// Clicks outside any acceptance window.
    public private(set) var clicksOutsideWindow: Int64 = 0
    private var pending: (attempt: UInt64, clicks: [(Int64, Int)])?

    public init(repetitionPeriodPs: Int64, windowStartPs: Int64, windowEndPs: Int64, stationChannels: [TagChannel],
                nextSequence: UInt64 = 1, lastDecidedAttempt: UInt64 = 0) {
        self.repetitionPeriodPs = max(1, repetitionPeriodPs)
        self.windowStartPs = windowStartPs
        self.windowEndPs = windowEndPs
        self.stationChannels = stationChannels
        self.nextSequence = max(1, nextSequence)
        self.lastDecidedAttempt = lastDecidedAttempt
    }

    /// Feeds the station tags of a time-sorted batch. - Returns: heralds decided, in order.
    public mutating func process(_ batch: TagBatch) -> [Herald] {
        guard !stationChannels.isEmpty else { return [] }
        var heralds: [Herald] = []
        for index in 0..<batch.count {
            guard let detector = stationChannels.firstIndex(of: batch.channels[index]) else { continue }
            let time = batch.timesPs[index]
            guard time >= 0 else { continue }
            let attempt = UInt64(time / repetitionPeriodPs)
            let phase = time - Int64(attempt) * repetitionPeriodPs
            guard phase >= windowStartPs, phase < windowEndPs else { clicksOutsideWindow += 1; continue }
            guard attempt > lastDecidedAttempt else { continue }
            if let current = pending, current.attempt != attempt {
                heralds.append(decide(current))
            }
            if pending == nil { pending = (attempt, []) }
            pending?.clicks.append((time, detector))
        }
        // A batch ends at a slice boundary: close the open attempt.
        if let current = pending { heralds.append(decide(current)) }
        return heralds
    }

    private mutating func decide(_ current: (attempt: UInt64, clicks: [(Int64, Int)])) -> Herald {
        pending = nil
        lastDecidedAttempt = current.attempt
        let outcome: HeraldOutcome
        if current.clicks.count == 1 {
            outcome = current.clicks[0].1 == 0 ? .psiPlus : .psiMinus
        } else {
            outcome = .failure
        }
        let herald = Herald(sequence: nextSequence, attemptId: current.attempt, outcome: outcome,
                            timePs: Int64(current.attempt) * repetitionPeriodPs, detectionPs: current.clicks[0].0)
        nextSequence += 1
        return herald
    }
}
