import Protocol
import TimeTags

/// The heralding protocol of the midpoint station.
public enum HeraldProtocol: Sendable, Equatable {
    /// One click per attempt inside the window heralds: ψ⁺ (first station detector) or ψ⁻ (second).
    case singleClick
    /// Barrett–Kok: two rounds per attempt, with the qubits flipped between them. Exactly one click in
    /// each round's window heralds: the same detector twice ψ⁺, different detectors ψ⁻. The second
    /// round's window is `[secondWindowStartPs, secondWindowEndPs)` from the attempt start.
    case barrettKok(secondWindowStartPs: Int64, secondWindowEndPs: Int64)
}

/// Decides heralds from the station's detector tags, one attempt at a time.
///
/// Attempt `k` spans `[k·T, (k+1)·T)` on the reference clock (T: the repetition period). A click counts
/// only inside an acceptance window measured from the attempt start (single-click: one window;
/// Barrett–Kok: one per round). Any other pattern of clicks in an attempt (two clicks in a window, a
/// Barrett–Kok round without a click) is a failure, broadcast so the labs can reset; attempts without
/// clicks are failures that are not broadcast. Attempt ids never go backwards, so a restarted coordinator
/// that resumes at its journal's last attempt never heralds the same attempt twice.
public struct HeraldDecider: Sendable {
    public var repetitionPeriodPs: Int64
    public var windowStartPs: Int64
    public var windowEndPs: Int64
    public var heraldProtocol: HeraldProtocol
    /// Station detector channels: index 0 heralds ψ⁺, index 1 ψ⁻ (single-click).
    public var stationChannels: [TagChannel]
    /// The next herald sequence number.
    public private(set) var nextSequence: UInt64
    /// Attempts up to and including this one are decided.
    public private(set) var lastDecidedAttempt: UInt64
    /// Clicks outside any acceptance window.
    public private(set) var clicksOutsideWindow: Int64 = 0
    private var pending: (attempt: UInt64, clicks: [(time: Int64, detector: Int, round: Int)])?

    public init(repetitionPeriodPs: Int64, windowStartPs: Int64, windowEndPs: Int64, stationChannels: [TagChannel],
                heraldProtocol: HeraldProtocol = .singleClick, nextSequence: UInt64 = 1, lastDecidedAttempt: UInt64 = 0) {
        self.repetitionPeriodPs = max(1, repetitionPeriodPs)
        self.windowStartPs = windowStartPs
        self.windowEndPs = windowEndPs
        self.stationChannels = stationChannels
        self.heraldProtocol = heraldProtocol
        self.nextSequence = max(1, nextSequence)
        self.lastDecidedAttempt = lastDecidedAttempt
    }

    /// The round (0 or 1) whose window holds `phase`, or `nil` outside every window.
    private func round(ofPhase phase: Int64) -> Int? {
        if phase >= windowStartPs, phase < windowEndPs { return 0 }
        if case .barrettKok(let start, let end) = heraldProtocol, phase >= start, phase < end { return 1 }
        return nil
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
            guard let round = round(ofPhase: phase) else { clicksOutsideWindow += 1; continue }
            guard attempt > lastDecidedAttempt else { continue }
            if let current = pending, current.attempt != attempt {
                heralds.append(decide(current))
            }
            if pending == nil { pending = (attempt, []) }
            pending?.clicks.append((time, detector, round))
        }
        // A batch ends at a slice boundary: close the open attempt.
        if let current = pending { heralds.append(decide(current)) }
        return heralds
    }

    private mutating func decide(_ current: (attempt: UInt64, clicks: [(time: Int64, detector: Int, round: Int)])) -> Herald {
        pending = nil
        lastDecidedAttempt = current.attempt
        var outcome = HeraldOutcome.failure
        var detection = current.clicks[0].time
        switch heraldProtocol {
        case .singleClick:
            if current.clicks.count == 1 { outcome = current.clicks[0].detector == 0 ? .psiPlus : .psiMinus }
        case .barrettKok:
            let first = current.clicks.filter { $0.round == 0 }, second = current.clicks.filter { $0.round == 1 }
            if first.count == 1, second.count == 1 {
                outcome = first[0].detector == second[0].detector ? .psiPlus : .psiMinus
                detection = second[0].time
            }
        }
        let herald = Herald(sequence: nextSequence, attemptId: current.attempt, outcome: outcome,
                            timePs: Int64(current.attempt) * repetitionPeriodPs, detectionPs: detection)
        nextSequence += 1
        return herald
    }
}
