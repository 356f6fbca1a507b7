import Journal
import LinkModel
import Logging
import Messaging
import Protocol

/// The coordinator's side of repetition-rate changes both labs agree on (docs/protocol.md, "Repetition-rate
/// changes"), run on the coordinator's socket thread by ``CoordinatorCore``.
///
/// A requested rate becomes a ``RateChange``: journaled and proposed to every introduced lab node; each answer is
/// journaled; once every lab's node is ready the change is committed at the latest earliest time plus
/// ``CoordinatorSettings/rateChangeMarginPs`` (on a heralded link the next attempt of the grid in force), journaled
/// durably and only then sent; a refusal or ``CoordinatorSettings/rateChangeTimeoutMs`` without every answer aborts
/// it (journaled, then sent). The committed changes are the schedule in force: replayed from the journal when
/// the coordinator starts (a change found undecided is aborted), followed by the herald decisions, and sent to
/// every node right after its welcome. Proposals and the schedule are sent again once a second to nodes that
/// have not answered or confirmed the latest decision. One change runs at a time; later requests wait.
final class RateChangeCoordinator {
    /// An introduced node: its routing id and name.
    typealias Member = (peer: Frame, node: String)

    private let journal: CoordinatorJournal
    private let logger: Logger
    private let sessionId: UInt64
    private let participants: Set<String>
    private let marginPs: Int64
    private let timeoutNs: UInt64
    private let heralds: HeraldSettings?
    /// The committed changes, in time order.
    private(set) var schedule: [RateCommit]
    /// The latest change (open or decided) of this coordinator's lifetime.
    private(set) var current: RateChange?
    /// The latest decided change's id (0: none), from the journal at start.
    private(set) var lastDecidedId: UInt64
    /// Changes aborted so far in this run.
    private(set) var aborted: Int
    /// Rates requested while a change was open, in order.
    private var waiting: [Double] = []
    /// The latest decided change each node has confirmed.
    private var confirmed: [String: UInt64] = [:]
    private var nextResendNs: UInt64 = 0

    init(settings: CoordinatorSettings, journal: CoordinatorJournal, logger: Logger, sessionId: UInt64) throws(JournalError) {
        self.journal = journal
        self.logger = logger
        self.sessionId = sessionId
        participants = Set(settings.labs.map(\.node))
        marginPs = max(0, settings.rateChangeMarginPs)
        timeoutNs = UInt64(max(0, settings.rateChangeTimeoutMs)) * 1_000_000
        heralds = settings.heralds
        var lastDecided: UInt64 = 0, abortedCount = 0
        for record in try journal.rateChanges() {
            switch record.state {
            case .proposed:
                // Never decided, so never sent as decided: abort it before anyone can hear of it.
                try journal.decideRateChange(record.id, .aborted(.coordinatorRestart))
                logger.notice("coordinator.rate.aborted", metadata: ["qlink.change": "\(record.id)", "qlink.rate_hz": "\(record.rateHz)",
                                                                     "qlink.reason": "\(RateAbortReason.coordinatorRestart)"])
                abortedCount += 1
            case .aborted:
                abortedCount += 1
            case .committed:
                break
            }
            lastDecided = max(lastDecided, record.id)
        }
        lastDecidedId = lastDecided
        aborted = abortedCount
        schedule = try journal.rateSchedule()
        if !schedule.isEmpty {
            logger.info("coordinator.rate.replayed", metadata: ["qlink.schedule": "\(schedule.map { "\($0.rateHz) Hz from \($0.atPs) ps" })"])
        }
    }

    /// The rate in force after the last committed change (nil: the configured rate).
    var rateInForceHz: Double? { schedule.last?.rateHz }

    /// The herald decider follows every committed change (at start: the replayed schedule).
    func replay(into decider: inout HeraldDecider?) {
        for change in schedule { follow(change, decider: &decider) }
    }

    private func follow(_ change: RateCommit, decider: inout HeraldDecider?) {
        // The resolved station's windows at the new rate, as the simulator realises them.
        let windows = heralds?.station?.windows(attemptRateHz: change.rateHz)
        decider?.changeRepetitionPeriod(to: windows?.attemptPeriodPs ?? AttemptClock.periodPs(rateHz: change.rateHz), fromPs: change.atPs,
                                        heraldProtocol: windows.map(ConfigurationMapping.heraldProtocol))
    }

    /// Where a change can take effect: on a heralded link the first attempt of the grid in force at or after a time.
    private var grid: AttemptGrid? {
        guard let heralds else { return nil }
        guard let last = schedule.last else { return AttemptGrid(originPs: 0, periodPs: heralds.repetitionPeriodPs) }
        let period = heralds.station?.windows(attemptRateHz: last.rateHz).attemptPeriodPs ?? AttemptClock.periodPs(rateHz: last.rateHz)
        return AttemptGrid(originPs: last.atPs, periodPs: period)
    }

    private func envelope(_ body: WireMessage.Body) -> WireMessage {
        WireMessage(sessionId: sessionId, sequence: 0, body: body)
    }

    /// The schedule in force, with the open change (if any).
    var scheduleMessage: WireMessage {
        let open = current.flatMap { $0.isOpen ? $0 : nil }
        return envelope(.rateSchedule(RateScheduleInForce(openChangeId: open?.id ?? 0, openRateHz: open?.rateHz ?? 0,
                                                          lastDecidedChangeId: lastDecidedId, changes: schedule)))
    }

    /// What a node gets right after its welcome: the schedule in force (with the open change, which it answers).
    func welcome(peer: Frame) -> [Outgoing] {
        [.reply(peer: peer, scheduleMessage)]
    }

    /// Asks for `rateHz`: proposed now, or once the open change is decided.
    func request(_ rateHz: Double, nowNs: UInt64, members: [Member]) throws(JournalError) -> [Outgoing] {
        if current?.isOpen == true {
            waiting.append(rateHz)
            return []
        }
        let id = try journal.proposeRateChange(rateHz: rateHz)
        current = RateChange(id: id, rateHz: rateHz, participants: participants, deadlineNs: nowNs &+ timeoutNs)
        logger.notice("coordinator.rate.proposed", metadata: ["qlink.change": "\(id)", "qlink.rate_hz": "\(rateHz)"])
        nextResendNs = nowNs &+ 1_000_000_000
        let proposal = envelope(.rateProposal(RateProposal(changeId: id, rateHz: rateHz)))
        return members.filter { participants.contains($0.node) }.map { .reply(peer: $0.peer, proposal) }
    }

    /// A node's answer to a proposal: journaled; it may decide the change.
    func receive(_ answer: RateAnswer, from node: String, nowNs: UInt64, members: [Member], decider: inout HeraldDecider?) throws(JournalError) -> [Outgoing] {
        try journal.recordRateAnswer(changeId: answer.changeId, node: node, answer)
        guard var change = current, change.id == answer.changeId else { return [] }
        let grid = grid
        let decision = change.receive(answer, from: node, marginPs: marginPs, align: { grid?.align($0) ?? $0 })
        current = change
        if answer.verdict != .ready {
            logger.warning("coordinator.rate.refused", metadata: ["qlink.change": "\(change.id)", "qlink.node": "\(node)", "qlink.verdict": "\(answer.verdict)"])
        }
        guard let decision else { return [] }
        return try decide(change, decision, nowNs: nowNs, members: members, decider: &decider)
    }

    /// A node's confirmation of a decided change: journaled; a failed one is an error (the labs disagree).
    func receive(_ applied: RateApplied, from node: String) throws(JournalError) {
        try journal.recordRateConfirmation(changeId: applied.changeId, node: node, applied)
        if applied.changeId == lastDecidedId { confirmed[node] = applied.changeId }
        let committed = schedule.first { $0.changeId == applied.changeId }
        switch applied.outcome {
        case .failed:
            logger.error("coordinator.rate.failed", metadata: ["qlink.change": "\(applied.changeId)", "qlink.node": "\(node)"])
            try journal.recordAlert(level: "error", message: "\(node) could not apply committed rate change \(applied.changeId): the labs' rate schedules disagree")
        case .applied where committed.map({ $0.atPs != applied.effectivePs }) ?? true:
            logger.error("coordinator.rate.mismatch", metadata: ["qlink.change": "\(applied.changeId)", "qlink.node": "\(node)",
                                                                 "qlink.effective_ps": "\(applied.effectivePs)", "qlink.at_ps": "\(committed?.atPs ?? -1)"])
            try journal.recordAlert(level: "error", message: "\(node) applied rate change \(applied.changeId) at \(applied.effectivePs) ps, committed at \(committed?.atPs ?? -1) ps")
        case .applied, .released:
            break
        }
    }

    /// Aborts an open change past its deadline; sends the schedule again to nodes that have not confirmed the
    /// latest decision and the proposal to lab nodes that have not answered (once a second).
    func tick(nowNs: UInt64, members: [Member], decider: inout HeraldDecider?) throws(JournalError) -> [Outgoing] {
        var out: [Outgoing] = []
        if var change = current, let decision = change.expire(nowNs: nowNs) {
            current = change
            out += try decide(change, decision, nowNs: nowNs, members: members, decider: &decider)
        }
        guard nowNs >= nextResendNs else { return out }
        nextResendNs = nowNs &+ 1_000_000_000
        var proposalPending: [Frame] = []
        for member in members {
            if lastDecidedId != 0, confirmed[member.node] != lastDecidedId {
                // The schedule carries the open change too: the node answers it from there.
                out.append(.reply(peer: member.peer, scheduleMessage))
            } else if let change = current, change.unanswered.contains(member.node) {
                proposalPending.append(member.peer)
            }
        }
        if let change = current, change.isOpen {
            let proposal = envelope(.rateProposal(RateProposal(changeId: change.id, rateHz: change.rateHz)))
            out += proposalPending.map { .reply(peer: $0, proposal) }
        }
        return out
    }

    /// Journals a decision, then sends it to every introduced node; starts the next waiting request.
    private func decide(_ change: RateChange, _ decision: RateChange.State, nowNs: UInt64, members: [Member],
                        decider: inout HeraldDecider?) throws(JournalError) -> [Outgoing] {
        let message: WireMessage
        switch decision {
        case .proposed:
            return []
        case .committed(let atPs):
            try journal.decideRateChange(change.id, .committed(atPs: atPs))
            let commit = RateCommit(changeId: change.id, atPs: atPs, rateHz: change.rateHz)
            schedule.append(commit)
            follow(commit, decider: &decider)
            message = envelope(.rateCommit(commit))
            logger.notice("coordinator.rate.committed", metadata: ["qlink.change": "\(change.id)", "qlink.rate_hz": "\(change.rateHz)",
                                                                   "qlink.at_ps": "\(atPs)"])
        case .aborted(let reason):
            try journal.decideRateChange(change.id, .aborted(reason))
            aborted += 1
            message = envelope(.rateAbort(RateAbort(changeId: change.id, reason: reason)))
            logger.warning("coordinator.rate.aborted", metadata: ["qlink.change": "\(change.id)", "qlink.rate_hz": "\(change.rateHz)",
                                                                  "qlink.reason": "\(reason)"])
        }
        lastDecidedId = change.id
        nextResendNs = nowNs &+ 1_000_000_000
        var out: [Outgoing] = members.map { .reply(peer: $0.peer, message) }
        if !waiting.isEmpty {
            out += try request(waiting.removeFirst(), nowNs: nowNs, members: members)
        }
        return out
    }
}
