import Logging
import Protocol

/// What a node's tag source offers to repetition-rate agreement (``TagSourceRunner``; a fake in tests).
public protocol RateControlledSource: AnyObject {
    /// Holds the source where it is for `reason`. - Returns: the link time it has generated through (nil: no rate).
    func holdForRateChange(_ reason: TagSourceRunner.RateHold) -> Int64?
    /// Releases the hold for `reason`.
    func release(_ reason: TagSourceRunner.RateHold)
    /// Whether the link can run at `rateHz` (nil: the source has no rate).
    func canRun(atRateHz rateHz: Double) -> Result<Void, TagSourceRunner.RateRefusal>?
    /// Runs at `rateHz` from `fromPs` on. - Returns: the link time the rate applies from.
    func applyRepetitionRate(_ rateHz: Double, fromPs: Int64) -> Result<Int64, TagSourceRunner.RateRefusal>
}

extension TagSourceRunner: RateControlledSource {}

/// A node's side of repetition-rate changes both labs agree on (docs/protocol.md, "Repetition-rate changes"):
/// an explicit state machine the node session feeds with the coordinator's rate messages.
///
/// ```
///  awaitingSchedule ──schedule──▶ following ──proposal (ready)──▶ holding(answer)
///        │ proposal: hold, answer                ▲                 │ commit: apply at its time, release
///        ▼                                        └─────────────────┘ abort, or a schedule without it: release
///  awaitingSchedule(answered) ──schedule──▶ holding / following
/// ```
///
/// The source starts held (``TagSourceRunner/RateHold/schedule``) until the first schedule from the coordinator
/// is applied, so a node that starts or restarts applies every committed change before it generates past it.
/// A proposal is answered honestly: the source is held where it has generated through and that link time is the
/// answer, so any commit time at or after it can still be applied. The hold lasts until the change's commit or
/// abort (or a schedule that settles it) arrives — also while the coordinator is down. Commits and aborts are
/// confirmed with `rate-applied`; repeats get the same confirmation and are not applied twice.
public struct NodeRateAgreement: Sendable {
    public enum State: Sendable, Equatable {
        /// No schedule yet from the coordinator; `answered`: a proposal answered meanwhile (its hold stays).
        case awaitingSchedule(answered: RateAnswer?)
        /// The schedule is applied and no change is open.
        case following
        /// A proposal answered ready: the source holds at `answer.earliestPs` until the change is decided.
        case holding(RateAnswer)
    }

    /// Something the session logs and shows.
    public enum Event: Sendable, Equatable {
        case answered(RateAnswer, rateHz: Double)
        case applied(RateCommit)
        case released(changeId: UInt64)
        /// A committed change this node could not apply (or a schedule that contradicts what it applied): the
        /// labs disagree. Never expected.
        case conflict(String)
    }

    /// What a message brought: messages to send back and events.
    public struct Reaction: Sendable, Equatable {
        public var replies: [WireMessage.Body] = []
        public var events: [Event] = []
    }

    public private(set) var state: State = .awaitingSchedule(answered: nil)
    /// The committed changes applied, in time order, each at the link time the source switched.
    public private(set) var applied: [RateCommit] = []
    /// The confirmation of each decided change, sent again for repeats.
    private var outcomes: [UInt64: RateApplied] = [:]

    public init() {}

    /// The proposal answered and held for, in any state.
    private var held: RateAnswer? {
        switch state {
        case .awaitingSchedule(let answered): answered
        case .following: nil
        case .holding(let answer): answer
        }
    }

    /// Handles a rate message from the coordinator (others are ignored).
    public mutating func receive(_ body: WireMessage.Body, source: some RateControlledSource) -> Reaction {
        var reaction = Reaction()
        switch body {
        case .rateProposal(let proposal):
            if let held {
                // The same proposal again gets the same answer; another while one is held waits for the schedule
                // (the decision on the held one was lost; the coordinator sends the schedule again).
                if held.changeId == proposal.changeId { reaction.replies.append(.rateAnswer(held)) }
                return reaction
            }
            let answer = answer(proposal, source: source, into: &reaction)
            if answer.verdict == .ready {
                if case .awaitingSchedule = state { state = .awaitingSchedule(answered: answer) } else { state = .holding(answer) }
            }
        case .rateCommit(let commit):
            if let known = outcomes[commit.changeId] {
                reaction.replies.append(.rateApplied(known))
                return reaction
            }
            switch state {
            case .awaitingSchedule:
                // Earlier committed changes may be unknown yet: the schedule (which holds this one) comes first.
                return reaction
            case .holding(let answer) where answer.changeId != commit.changeId:
                return reaction
            case .holding, .following:
                apply(commit, source: source, into: &reaction)
                if let held, held.changeId == commit.changeId { source.release(.change(commit.changeId)) }
                state = .following
            }
        case .rateAbort(let abort):
            if let known = outcomes[abort.changeId] {
                reaction.replies.append(.rateApplied(known))
                return reaction
            }
            release(abort.changeId, source: source, into: &reaction)
        case .rateSchedule(let schedule):
            follow(schedule, source: source, into: &reaction)
        default:
            break
        }
        return reaction
    }

    private func answer(_ proposal: RateProposal, source: some RateControlledSource, into reaction: inout Reaction) -> RateAnswer {
        let answer: RateAnswer
        switch source.canRun(atRateHz: proposal.rateHz) {
        case nil:
            answer = RateAnswer(changeId: proposal.changeId, earliestPs: 0, verdict: .noRate)
        case .failure:
            answer = RateAnswer(changeId: proposal.changeId, earliestPs: 0, verdict: .invalidRate)
        case .success:
            if let earliest = source.holdForRateChange(.change(proposal.changeId)) {
                answer = RateAnswer(changeId: proposal.changeId, earliestPs: earliest, verdict: .ready)
            } else {
                answer = RateAnswer(changeId: proposal.changeId, earliestPs: 0, verdict: .noRate)
            }
        }
        reaction.replies.append(.rateAnswer(answer))
        reaction.events.append(.answered(answer, rateHz: proposal.rateHz))
        return answer
    }

    private mutating func apply(_ commit: RateCommit, source: some RateControlledSource, into reaction: inout Reaction) {
        let confirmation: RateApplied
        switch source.applyRepetitionRate(commit.rateHz, fromPs: commit.atPs) {
        case .success(let effective):
            let change = RateCommit(changeId: commit.changeId, atPs: effective, rateHz: commit.rateHz)
            applied.append(change)
            confirmation = RateApplied(changeId: commit.changeId, effectivePs: effective, outcome: .applied)
            reaction.events.append(.applied(change))
        case .failure(let refusal):
            confirmation = RateApplied(changeId: commit.changeId, effectivePs: 0, outcome: .failed)
            reaction.events.append(.conflict("committed change \(commit.changeId) (\(commit.rateHz) Hz from \(commit.atPs) ps) cannot be applied: \(refusal.reason)"))
        }
        outcomes[commit.changeId] = confirmation
        reaction.replies.append(.rateApplied(confirmation))
    }

    /// Change `changeId` will never apply: the hold for it (if any) is released.
    private mutating func release(_ changeId: UInt64, source: some RateControlledSource, into reaction: inout Reaction) {
        if let held, held.changeId == changeId {
            source.release(.change(changeId))
            if case .awaitingSchedule = state { state = .awaitingSchedule(answered: nil) } else { state = .following }
        }
        let confirmation = RateApplied(changeId: changeId, effectivePs: 0, outcome: .released)
        outcomes[changeId] = confirmation
        reaction.replies.append(.rateApplied(confirmation))
        reaction.events.append(.released(changeId: changeId))
    }

    private mutating func follow(_ schedule: RateScheduleInForce, source: some RateControlledSource, into reaction: inout Reaction) {
        var replies: [WireMessage.Body] = []
        for commit in schedule.changes {
            if let done = applied.first(where: { $0.changeId == commit.changeId }) {
                if done.atPs != commit.atPs || done.rateHz != commit.rateHz {
                    reaction.events.append(.conflict("change \(commit.changeId) applied at \(done.atPs) ps (\(done.rateHz) Hz), the schedule says \(commit.atPs) ps (\(commit.rateHz) Hz)"))
                }
                continue
            }
            if let outcome = outcomes[commit.changeId] {
                if outcome.outcome == .released {
                    reaction.events.append(.conflict("change \(commit.changeId) was aborted for this node, the schedule says committed at \(commit.atPs) ps"))
                }
                continue
            }
            // Confirmed below only if it is the latest decision (the coordinator asks for that one).
            var applying = Reaction()
            apply(commit, source: source, into: &applying)
            reaction.events += applying.events
            if let held, held.changeId == commit.changeId {
                source.release(.change(commit.changeId))
                state = .following
            }
        }
        // A held change that is neither committed nor still open was aborted.
        if let held, held.changeId != schedule.openChangeId, !schedule.changes.contains(where: { $0.changeId == held.changeId }) {
            var releasing = Reaction()
            release(held.changeId, source: source, into: &releasing)
            reaction.events += releasing.events
        }
        if case .awaitingSchedule(let answered) = state { state = answered.map { .holding($0) } ?? .following }
        // The latest decision is confirmed (the coordinator sends the schedule until it is).
        if schedule.lastDecidedChangeId != 0 {
            let confirmation = outcomes[schedule.lastDecidedChangeId]
                ?? RateApplied(changeId: schedule.lastDecidedChangeId, effectivePs: 0, outcome: .released)
            outcomes[schedule.lastDecidedChangeId] = confirmation
            replies.append(.rateApplied(confirmation))
        }
        // The open change is answered as a proposal (a restarted node may not have seen it).
        if schedule.openChangeId != 0 {
            if let held, held.changeId == schedule.openChangeId {
                replies.append(.rateAnswer(held))
            } else if held == nil {
                var answering = Reaction()
                let answer = answer(RateProposal(changeId: schedule.openChangeId, rateHz: schedule.openRateHz), source: source, into: &answering)
                if answer.verdict == .ready { state = .holding(answer) }
                replies += answering.replies
                reaction.events += answering.events
            }
        }
        reaction.replies += replies
        // Every committed change is applied and the open one held for: the source may generate on.
        source.release(.schedule)
    }
}

extension NodeRateAgreement.Reaction {
    /// Logs the events and shows the schedule applied, the rate in force and any conflict in the node's monitor.
    func report(node: String, agreement: NodeRateAgreement, logger: Logger, monitor: NodeMonitor) {
        for event in events {
            switch event {
            case .answered(let answer, let rateHz):
                logger.notice("node.rate.answered", metadata: ["qlink.node": "\(node)", "qlink.change": "\(answer.changeId)", "qlink.rate_hz": "\(rateHz)",
                                                               "qlink.verdict": "\(answer.verdict)", "qlink.earliest_ps": "\(answer.earliestPs)"])
            case .applied(let change):
                logger.notice("node.rate.changed", metadata: ["qlink.node": "\(node)", "qlink.change": "\(change.changeId)",
                                                              "qlink.rate_hz": "\(change.rateHz)", "qlink.effective_ps": "\(change.atPs)"])
            case .released(let id):
                logger.notice("node.rate.released", metadata: ["qlink.node": "\(node)", "qlink.change": "\(id)"])
            case .conflict(let text):
                logger.error("node.rate.conflict", metadata: ["qlink.node": "\(node)", "qlink.detail": "\(text)"])
            }
        }
        let conflicts = events.compactMap { if case .conflict(let text) = $0 { text } else { nil } }
        let schedule = agreement.applied
        let holding: UInt64? = if case .holding(let answer) = agreement.state { answer.changeId } else { nil }
        monitor.update {
            $0.rateSchedule = schedule
            $0.rateConflicts += conflicts
            $0.rateChangeHeld = holding
            if let last = schedule.last {
                $0.repetitionRateHz = last.rateHz
                $0.repetitionRateEffectivePs = last.atPs
            }
        }
    }
}
