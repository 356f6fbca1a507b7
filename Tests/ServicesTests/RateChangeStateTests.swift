import Protocol
import Services
import Testing

/// The two-phase rate change as pure state machines: the coordinator's ``RateChange`` and the node's
/// ``NodeRateAgreement`` over a scripted source.
@Suite("Rate-change state machines")
struct RateChangeStateTests {
    static let labs: Set<String> = ["alice-node", "bob-node"]

    @Test func commitsAtTheLatestAnswerPlusTheMarginAligned() {
        var change = RateChange(id: 3, rateHz: 2e5, participants: Self.labs, deadlineNs: 1_000)
        let grid = AttemptGrid(originPs: 0, periodPs: 10_000)
        #expect(change.receive(RateAnswer(changeId: 3, earliestPs: 52_000, verdict: .ready), from: "alice-node", marginPs: 5_000, align: grid.align) == nil)
        #expect(change.unanswered == ["bob-node"])
        // An answer for another change, or from a node that is no lab's, changes nothing.
        #expect(change.receive(RateAnswer(changeId: 4, earliestPs: 1, verdict: .ready), from: "bob-node", marginPs: 5_000, align: grid.align) == nil)
        #expect(change.receive(RateAnswer(changeId: 3, earliestPs: 1, verdict: .ready), from: "mallory", marginPs: 5_000, align: grid.align) == nil)
        #expect(change.isOpen)
        let decided = change.receive(RateAnswer(changeId: 3, earliestPs: 71_000, verdict: .ready), from: "bob-node", marginPs: 5_000, align: grid.align)
        // max(52 000, 71 000) + 5 000 = 76 000 → the next attempt at 80 000.
        #expect(decided == .committed(atPs: 80_000))
        // Decided states are final.
        #expect(change.expire(nowNs: 5_000) == nil)
        #expect(change.receive(RateAnswer(changeId: 3, earliestPs: 0, verdict: .noRate), from: "alice-node", marginPs: 0, align: { $0 }) == nil)
        #expect(change.abortAfterRestart() == nil)
        #expect(change.state == .committed(atPs: 80_000))
    }

    @Test func aNodeThatAnswersAgainCountsWithItsLatestTime() {
        var change = RateChange(id: 1, rateHz: 1e5, participants: Self.labs, deadlineNs: 1_000)
        _ = change.receive(RateAnswer(changeId: 1, earliestPs: 900, verdict: .ready), from: "alice-node", marginPs: 0, align: { $0 })
        // A restarted alice answers from where its new process holds (earlier): the first hold still counts.
        _ = change.receive(RateAnswer(changeId: 1, earliestPs: 100, verdict: .ready), from: "alice-node", marginPs: 0, align: { $0 })
        #expect(change.receive(RateAnswer(changeId: 1, earliestPs: 300, verdict: .ready), from: "bob-node", marginPs: 10, align: { $0 })
                == .committed(atPs: 910))
    }

    @Test func aRefusalATimeoutOrARestartAborts() {
        var refused = RateChange(id: 1, rateHz: 1e5, participants: Self.labs, deadlineNs: 1_000)
        _ = refused.receive(RateAnswer(changeId: 1, earliestPs: 5, verdict: .ready), from: "alice-node", marginPs: 0, align: { $0 })
        #expect(refused.receive(RateAnswer(changeId: 1, earliestPs: 0, verdict: .invalidRate), from: "bob-node", marginPs: 0, align: { $0 })
                == .aborted(.refused))
        var late = RateChange(id: 2, rateHz: 1e5, participants: Self.labs, deadlineNs: 1_000)
        _ = late.receive(RateAnswer(changeId: 2, earliestPs: 5, verdict: .ready), from: "alice-node", marginPs: 0, align: { $0 })
        #expect(late.expire(nowNs: 999) == nil)
        #expect(late.expire(nowNs: 1_000) == .aborted(.timeout))
        #expect(late.receive(RateAnswer(changeId: 2, earliestPs: 5, verdict: .ready), from: "bob-node", marginPs: 0, align: { $0 }) == nil)
        var restarted = RateChange(id: 3, rateHz: 1e5, participants: Self.labs, deadlineNs: 1_000)
        #expect(restarted.abortAfterRestart() == .aborted(.coordinatorRestart))
    }

    @Test func attemptGridAlignment() {
        let grid = AttemptGrid(originPs: 1_000, periodPs: 300)
        #expect(grid.align(0) == 1_000 && grid.align(1_000) == 1_000 && grid.align(1_001) == 1_300 && grid.align(1_600) == 1_600)
        #expect(grid.align(Int64.max - 5) == Int64.max)
        #expect(RateChange.commitTime(earliest: [Int64.max - 1], marginPs: 100, align: { $0 }) == Int64.max)
    }

    /// A source that records holds and changes; `generatedPs` is how far it has generated.
    final class ScriptedSource: RateControlledSource, @unchecked Sendable {
        var generatedPs: Int64 = 0
        var hasRate = true
        var validRates: (Double) -> Bool = { _ in true }
        var holds: Set<TagSourceRunner.RateHold> = [.schedule]
        var changes: [(rateHz: Double, fromPs: Int64)] = []

        func holdForRateChange(_ reason: TagSourceRunner.RateHold) -> Int64? {
            guard hasRate else { return nil }
            holds.insert(reason)
            return generatedPs
        }
        func release(_ reason: TagSourceRunner.RateHold) { holds.remove(reason) }
        func canRun(atRateHz rateHz: Double) -> Result<Void, TagSourceRunner.RateRefusal>? {
            guard hasRate else { return nil }
            return validRates(rateHz) ? .success(()) : .failure(TagSourceRunner.RateRefusal(reason: "no"))
        }
        func applyRepetitionRate(_ rateHz: Double, fromPs: Int64) -> Result<Int64, TagSourceRunner.RateRefusal> {
            guard fromPs >= generatedPs, fromPs >= (changes.last?.fromPs ?? 0) else { return .failure(TagSourceRunner.RateRefusal(reason: "generated")) }
            changes.append((rateHz, fromPs))
            return .success(fromPs)
        }
        /// Generates up to `ps` unless held.
        func run(to ps: Int64) { if holds.isEmpty { generatedPs = max(generatedPs, ps) } }
    }

    @Test func aNodeHoldsWhereItAnsweredAndAppliesTheCommitThere() {
        let source = ScriptedSource()
        var node = NodeRateAgreement()
        source.run(to: 100)
        #expect(source.generatedPs == 0, "held until the schedule arrives")
        var reaction = node.receive(.rateSchedule(RateScheduleInForce()), source: source)
        #expect(reaction.replies.isEmpty && node.state == .following && source.holds.isEmpty)
        source.run(to: 5_000)
        reaction = node.receive(.rateProposal(RateProposal(changeId: 1, rateHz: 2e5)), source: source)
        let answer = RateAnswer(changeId: 1, earliestPs: 5_000, verdict: .ready)
        #expect(reaction.replies == [.rateAnswer(answer)] && node.state == .holding(answer))
        source.run(to: 9_000)
        #expect(source.generatedPs == 5_000, "held at its answer")
        // The proposal again: the same answer, nothing held twice.
        #expect(node.receive(.rateProposal(RateProposal(changeId: 1, rateHz: 2e5)), source: source).replies == [.rateAnswer(answer)])
        reaction = node.receive(.rateCommit(RateCommit(changeId: 1, atPs: 7_000, rateHz: 2e5)), source: source)
        #expect(reaction.replies == [.rateApplied(RateApplied(changeId: 1, effectivePs: 7_000, outcome: .applied))])
        #expect(source.changes.map(\.fromPs) == [7_000] && source.holds.isEmpty && node.state == .following)
        // The commit again is confirmed alike and not applied twice.
        reaction = node.receive(.rateCommit(RateCommit(changeId: 1, atPs: 7_000, rateHz: 2e5)), source: source)
        #expect(reaction.replies == [.rateApplied(RateApplied(changeId: 1, effectivePs: 7_000, outcome: .applied))] && source.changes.count == 1)
        #expect(node.applied == [RateCommit(changeId: 1, atPs: 7_000, rateHz: 2e5)])
    }

    @Test func anAbortOrASchedulWithoutTheChangeReleasesIt() {
        let source = ScriptedSource()
        var node = NodeRateAgreement()
        _ = node.receive(.rateSchedule(RateScheduleInForce()), source: source)
        _ = node.receive(.rateProposal(RateProposal(changeId: 1, rateHz: 2e5)), source: source)
        var reaction = node.receive(.rateAbort(RateAbort(changeId: 1, reason: .timeout)), source: source)
        #expect(reaction.replies == [.rateApplied(RateApplied(changeId: 1, effectivePs: 0, outcome: .released))])
        #expect(source.holds.isEmpty && node.state == .following && source.changes.isEmpty)
        // A restarted coordinator aborted change 2 (undecided in its journal): its schedule says so.
        _ = node.receive(.rateProposal(RateProposal(changeId: 2, rateHz: 3e5)), source: source)
        reaction = node.receive(.rateSchedule(RateScheduleInForce(lastDecidedChangeId: 2)), source: source)
        #expect(reaction.replies == [.rateApplied(RateApplied(changeId: 2, effectivePs: 0, outcome: .released))])
        #expect(source.holds.isEmpty && node.state == .following && source.changes.isEmpty)
    }

    @Test func aRestartedNodeAppliesTheScheduleAndAnswersTheOpenChangeBeforeGenerating() {
        let source = ScriptedSource()
        var node = NodeRateAgreement()
        // Committed: change 1 at 40 000; change 2 open (the node's earlier process answered it).
        let schedule = RateScheduleInForce(openChangeId: 2, openRateHz: 4e5, lastDecidedChangeId: 1,
                                           changes: [RateCommit(changeId: 1, atPs: 40_000, rateHz: 2e5)])
        let reaction = node.receive(.rateSchedule(schedule), source: source)
        let answer = RateAnswer(changeId: 2, earliestPs: 0, verdict: .ready)
        #expect(reaction.replies == [.rateApplied(RateApplied(changeId: 1, effectivePs: 40_000, outcome: .applied)), .rateAnswer(answer)])
        #expect(node.state == .holding(answer) && source.holds == [.change(2)] && source.changes.map(\.fromPs) == [40_000])
        // The same schedule again (the confirmation was lost) applies nothing twice.
        #expect(node.receive(.rateSchedule(schedule), source: source).replies.count == 2 && source.changes.count == 1)
        _ = node.receive(.rateCommit(RateCommit(changeId: 2, atPs: 90_000, rateHz: 4e5)), source: source)
        #expect(source.changes.map(\.fromPs) == [40_000, 90_000] && source.holds.isEmpty)
    }

    @Test func beforeTheScheduleACommitWaitsForIt() {
        let source = ScriptedSource()
        var node = NodeRateAgreement()
        // A proposal before the schedule (the schedule was dropped): answered and held.
        _ = node.receive(.rateProposal(RateProposal(changeId: 5, rateHz: 2e5)), source: source)
        #expect(node.state == .awaitingSchedule(answered: RateAnswer(changeId: 5, earliestPs: 0, verdict: .ready)))
        // Its commit is not applied before earlier committed changes are known.
        #expect(node.receive(.rateCommit(RateCommit(changeId: 5, atPs: 50_000, rateHz: 2e5)), source: source).replies.isEmpty)
        let reaction = node.receive(.rateSchedule(RateScheduleInForce(lastDecidedChangeId: 5, changes: [
            RateCommit(changeId: 4, atPs: 20_000, rateHz: 1e5), RateCommit(changeId: 5, atPs: 50_000, rateHz: 2e5)])), source: source)
        #expect(source.changes.map(\.fromPs) == [20_000, 50_000] && source.holds.isEmpty && node.state == .following)
        #expect(reaction.replies == [.rateApplied(RateApplied(changeId: 5, effectivePs: 50_000, outcome: .applied))])
    }

    @Test func aSourceWithoutARateOrARateTheLinkCannotRunRefuses() {
        let plain = ScriptedSource()
        plain.hasRate = false
        var node = NodeRateAgreement()
        _ = node.receive(.rateSchedule(RateScheduleInForce()), source: plain)
        #expect(node.receive(.rateProposal(RateProposal(changeId: 1, rateHz: 2e5)), source: plain).replies
                == [.rateAnswer(RateAnswer(changeId: 1, earliestPs: 0, verdict: .noRate))])
        #expect(node.state == .following)
        let limited = ScriptedSource()
        limited.validRates = { $0 < 1e6 }
        var other = NodeRateAgreement()
        _ = other.receive(.rateSchedule(RateScheduleInForce()), source: limited)
        #expect(other.receive(.rateProposal(RateProposal(changeId: 2, rateHz: 5e6)), source: limited).replies
                == [.rateAnswer(RateAnswer(changeId: 2, earliestPs: 0, verdict: .invalidRate))])
        #expect(limited.holds.isEmpty && other.state == .following)
    }

    @Test func aCommitTheSourceCannotApplyIsAConflict() {
        let source = ScriptedSource()
        var node = NodeRateAgreement()
        _ = node.receive(.rateSchedule(RateScheduleInForce()), source: source)
        source.run(to: 80_000)
        // A commit for a change this node never held, in time it has generated: it cannot agree.
        let reaction = node.receive(.rateCommit(RateCommit(changeId: 9, atPs: 50_000, rateHz: 2e5)), source: source)
        #expect(reaction.replies == [.rateApplied(RateApplied(changeId: 9, effectivePs: 0, outcome: .failed))])
        #expect(reaction.events.contains { if case .conflict = $0 { true } else { false } })
    }
}
