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
/// Attempt `k` spans `[k·T, (k+1)·T)` on the reference clock (T: the repetition period); after a change of
/// the repetition rate (``changeRepetitionPeriod(to:fromPs:)``) attempts continue on the new period from the
/// first attempt of the old grid at or after the change time, with attempt ids counting on. A click counts
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
    /// The attempt grid in force: attempt `originAttempt + k` starts at `originPs + k × repetitionPeriodPs`.
    private var originPs: Int64 = 0
    private var originAttempt: UInt64 = 0
    /// Grids that take over at their origin (in time order).
    private var scheduled: [(originPs: Int64, originAttempt: UInt64, periodPs: Int64, heraldProtocol: HeraldProtocol)] = []

    /// Attempts start every `periodPs` from the first attempt of the current grid at or after `fromPs` on (the
    /// same rule as the link simulator's rate change). The new grid uses `resolved` when given (the resolved
    /// link's windows at the new rate); otherwise a Barrett–Kok second window keeps its place relative to the
    /// period (e.g. half a period after the first). Changes must come in time order.
    public mutating func changeRepetitionPeriod(to periodPs: Int64, fromPs: Int64, heraldProtocol resolved: HeraldProtocol? = nil) {
        let last = scheduled.last ?? (originPs, originAttempt, repetitionPeriodPs, heraldProtocol)
        guard periodPs > 0, fromPs >= last.originPs else { return }
        let steps = (fromPs - last.originPs + last.periodPs - 1) / last.periodPs
        let (offset, overflow) = steps.multipliedReportingOverflow(by: last.periodPs)
        guard !overflow else { return }
        var newProtocol = last.heraldProtocol
        if let resolved {
            newProtocol = resolved
        } else if case .barrettKok(let start, let end) = last.heraldProtocol {
            let scale = Double(periodPs) / Double(last.periodPs)
            let newStart = Int64((Double(start) * scale).rounded())
            newProtocol = .barrettKok(secondWindowStartPs: newStart, secondWindowEndPs: min(periodPs, newStart + (end - start)))
        }
        scheduled.append((last.originPs + offset, last.originAttempt + UInt64(steps), periodPs, newProtocol))
    }

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
            while let next = scheduled.first, time >= next.originPs {
                if let current = pending { heralds.append(decide(current)) }
                (originPs, originAttempt, repetitionPeriodPs, heraldProtocol) = next
                scheduled.removeFirst()
            }
            guard time >= originPs else { continue }
            let attempt = originAttempt + UInt64((time - originPs) / repetitionPeriodPs)
            let phase = (time - originPs) % repetitionPeriodPs
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
                            timePs: originPs + Int64(current.attempt - originAttempt) * repetitionPeriodPs, detectionPs: detection)
        nextSequence += 1
        return herald
    }
}
