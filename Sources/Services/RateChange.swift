import Protocol

/// One repetition-rate change as the coordinator runs it: a pure two-phase state machine.
///
/// ```
///            every participant ready                 
/// proposed ─────────────────────────────▶ committed(atPs = align(max earliest + margin))
///    │  a participant refuses / deadline passes / coordinator restarted
///    └──────────────────────────────────▶ aborted(reason)
/// ```
///
/// Each participant (every lab's node) answers with the earliest link time it can apply the change at and holds
/// its source there until it learns the decision, so a commit time at or after every answer can be applied by
/// all of them. A participant may answer again (a restarted node): the latest of its answers counts. Decided
/// states are final; events after the decision change nothing.
public struct RateChange: Sendable, Equatable {
    /// Where a change stands.
    public enum State: Sendable, Equatable {
        /// Waiting for the participants' answers until `deadlineNs` (monotonic clock); `answers` holds each
        /// answered participant's earliest applicable link time.
        case proposed(deadlineNs: UInt64, answers: [String: Int64])
        /// Decided: from link time `atPs` on the link runs at the new rate in every lab.
        case committed(atPs: Int64)
        /// Decided: the change never applies.
        case aborted(RateAbortReason)
    }

    /// The change's number (unique over the run).
    public let id: UInt64
    public let rateHz: Double
    /// The nodes that must all be ready (every lab's node).
    public let participants: Set<String>
    public private(set) var state: State

    /// A change proposed now, decided by `deadlineNs` (monotonic) at the latest.
    public init(id: UInt64, rateHz: Double, participants: Set<String>, deadlineNs: UInt64) {
        self.id = id
        self.rateHz = rateHz
        self.participants = participants
        state = .proposed(deadlineNs: deadlineNs, answers: [:])
    }

    /// A change in a decided state (replayed from the journal).
    public init(id: UInt64, rateHz: Double, participants: Set<String>, decided: State) {
        self.id = id
        self.rateHz = rateHz
        self.participants = participants
        state = decided
    }

    /// Whether the change is still waiting for answers.
    public var isOpen: Bool {
        if case .proposed = state { true } else { false }
    }

    /// The participants that have not answered yet (none once decided).
    public var unanswered: Set<String> {
        guard case .proposed(_, let answers) = state else { return [] }
        return participants.subtracting(answers.keys)
    }

    /// Takes `answer` from `node`. - Returns: the decision it brought (nil: still open, or nothing changed).
    /// - Parameters:
    ///   - marginPs: added to the latest answer.
    ///   - align: the first link time at or after its argument where the change can take effect identically in
    ///     every lab (on a heralded link an attempt of the grid in force; identity otherwise).
    public mutating func receive(_ answer: RateAnswer, from node: String, marginPs: Int64, align: (Int64) -> Int64) -> State? {
        guard answer.changeId == id, participants.contains(node), case .proposed(let deadline, var answers) = state else { return nil }
        guard answer.verdict == .ready else {
            state = .aborted(.refused)
            return state
        }
        answers[node] = max(answers[node] ?? answer.earliestPs, answer.earliestPs)
        guard participants.allSatisfy({ answers[$0] != nil }) else {
            state = .proposed(deadlineNs: deadline, answers: answers)
            return nil
        }
        state = .committed(atPs: Self.commitTime(earliest: Array(answers.values), marginPs: marginPs, align: align))
        return state
    }

    /// Aborts an open change whose deadline has passed at `nowNs`. - Returns: the decision (nil: nothing changed).
    public mutating func expire(nowNs: UInt64) -> State? {
        guard case .proposed(let deadline, _) = state, nowNs >= deadline else { return nil }
        state = .aborted(.timeout)
        return state
    }

    /// Aborts an open change found in the journal of a coordinator that restarted (no decision was journaled,
    /// so none was sent). - Returns: the decision (nil: the change was decided already).
    public mutating func abortAfterRestart() -> State? {
        guard isOpen else { return nil }
        state = .aborted(.coordinatorRestart)
        return state
    }

    /// The commit time: the latest earliest time plus the margin, aligned; saturates instead of overflowing.
    public static func commitTime(earliest: [Int64], marginPs: Int64, align: (Int64) -> Int64) -> Int64 {
        let latest = max(0, earliest.max() ?? 0)
        let (sum, overflow) = latest.addingReportingOverflow(max(0, marginPs))
        return max(align(overflow ? Int64.max : sum), latest)
    }
}

/// The attempt grid of a rate schedule: where the next change can take effect on a heralded link (the first
/// attempt of the grid in force at or after a time), as the link simulator and the herald decider place it.
public struct AttemptGrid: Sendable, Equatable {
    /// Attempts start at `originPs + k × periodPs`.
    public var originPs: Int64
    public var periodPs: Int64

    public init(originPs: Int64, periodPs: Int64) {
        self.originPs = originPs
        self.periodPs = max(1, periodPs)
    }

    /// The first attempt start at or after `timePs` (saturating).
    public func align(_ timePs: Int64) -> Int64 {
        guard timePs > originPs else { return originPs }
        let steps = (timePs - originPs) / periodPs + ((timePs - originPs) % periodPs == 0 ? 0 : 1)
        let (offset, overflow) = steps.multipliedReportingOverflow(by: periodPs)
        guard !overflow else { return Int64.max }
        let (start, overflow2) = originPs.addingReportingOverflow(offset)
        return overflow2 ? Int64.max : start
    }
}
