import Foundation
import GRDB
import Protocol

/// The coordinator journal's record of repetition-rate changes (docs/services.md, "Repetition-rate changes"):
/// every change with its state (`proposed`, `committed` with its link time, `aborted` with the reason), each
/// node's answer and each node's confirmation. The committed changes in time order are the rate schedule in
/// force, replayed by a restarted coordinator; a change still `proposed` at a restart was never decided (a
/// decision is journaled before it is sent) and is aborted.
extension CoordinatorJournal {
    static let rateChangeSchema = """
    CREATE TABLE rate_change (
        id INTEGER PRIMARY KEY AUTOINCREMENT, rate_hz REAL NOT NULL, state TEXT NOT NULL,
        at_ps INTEGER, reason TEXT, proposed_at REAL NOT NULL, decided_at REAL);
    CREATE TABLE rate_answer (
        change_id INTEGER NOT NULL, node TEXT NOT NULL, earliest_ps INTEGER NOT NULL, verdict INTEGER NOT NULL,
        at REAL NOT NULL, PRIMARY KEY (change_id, node, earliest_ps, verdict));
    CREATE TABLE rate_confirmation (
        change_id INTEGER NOT NULL, node TEXT NOT NULL, effective_ps INTEGER NOT NULL, outcome INTEGER NOT NULL,
        at REAL NOT NULL, PRIMARY KEY (change_id, node, outcome));
    """

    /// One journaled rate change.
    public struct RateChangeRecord: Sendable, Equatable {
        /// `proposed`, `committed` or `aborted`.
        public enum State: Sendable, Equatable {
            case proposed
            case committed(atPs: Int64)
            case aborted(RateAbortReason)
        }
        public var id: UInt64
        public var rateHz: Double
        public var state: State
    }

    /// A node's confirmation of a decided change.
    public struct RateConfirmationRecord: Sendable, Equatable {
        public var changeId: UInt64
        public var node: String
        public var effectivePs: Int64
        public var outcome: RateOutcome
    }

    /// Journals a new proposal. - Returns: its change id (unique over the journal's run).
    public func proposeRateChange(rateHz: Double) throws(JournalError) -> UInt64 {
        try DurableDatabase.run(path, "propose rate change") {
            try queue.write { db in
                try db.execute(sql: "INSERT INTO rate_change (rate_hz, state, proposed_at) VALUES (?, 'proposed', ?)",
                               arguments: [rateHz, Date().timeIntervalSince1970])
                return UInt64(db.lastInsertedRowID)
            }
        }
    }

    /// Journals a node's answer to proposal `changeId` (each distinct answer once).
    public func recordRateAnswer(changeId: UInt64, node: String, _ answer: RateAnswer) throws(JournalError) {
        try DurableDatabase.run(path, "record rate answer") {
            try queue.write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO rate_answer (change_id, node, earliest_ps, verdict, at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [changeId.sqlBits, node, answer.earliestPs, Int(answer.verdict.rawValue), Date().timeIntervalSince1970])
            }
        }
    }

    /// Journals the decision on change `changeId`, durably, before anyone hears of it. A change that is no longer
    /// `proposed` keeps its first decision.
    public func decideRateChange(_ changeId: UInt64, _ decision: RateChangeRecord.State) throws(JournalError) {
        try DurableDatabase.run(path, "decide rate change") {
            try queue.write { db in
                let now = Date().timeIntervalSince1970
                switch decision {
                case .proposed:
                    return
                case .committed(let atPs):
                    try db.execute(sql: "UPDATE rate_change SET state = 'committed', at_ps = ?, decided_at = ? WHERE id = ? AND state = 'proposed'",
                                   arguments: [atPs, now, changeId.sqlBits])
                case .aborted(let reason):
                    try db.execute(sql: "UPDATE rate_change SET state = 'aborted', reason = ?, decided_at = ? WHERE id = ? AND state = 'proposed'",
                                   arguments: [reason.description, now, changeId.sqlBits])
                }
            }
        }
    }

    /// Journals what `node` did with decided change `changeId` (each outcome once).
    public func recordRateConfirmation(changeId: UInt64, node: String, _ applied: RateApplied) throws(JournalError) {
        try DurableDatabase.run(path, "record rate confirmation") {
            try queue.write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO rate_confirmation (change_id, node, effective_ps, outcome, at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [changeId.sqlBits, node, applied.effectivePs, Int(applied.outcome.rawValue), Date().timeIntervalSince1970])
            }
        }
    }

    /// Every journaled change, oldest first.
    public func rateChanges() throws(JournalError) -> [RateChangeRecord] {
        try DurableDatabase.run(path, "read rate changes") {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT id, rate_hz, state, at_ps, reason FROM rate_change ORDER BY id").map { row in
                    let state: RateChangeRecord.State
                    switch row["state"] as String {
                    case "committed": state = .committed(atPs: row["at_ps"])
                    case "aborted":
                        let reason = row["reason"] as String?
                        state = .aborted([RateAbortReason.timeout, .refused, .coordinatorRestart].first { $0.description == reason } ?? .coordinatorRestart)
                    default: state = .proposed
                    }
                    return RateChangeRecord(id: UInt64(sqlBits: row["id"]), rateHz: row["rate_hz"], state: state)
                }
            }
        }
    }

    /// The rate schedule in force: every committed change, in time order.
    public func rateSchedule() throws(JournalError) -> [RateCommit] {
        try rateChanges().compactMap { change in
            if case .committed(let atPs) = change.state { RateCommit(changeId: change.id, atPs: atPs, rateHz: change.rateHz) } else { nil }
        }.sorted { ($0.atPs, $0.changeId) < ($1.atPs, $1.changeId) }
    }

    /// Every node's confirmations, in the order they were journaled.
    public func rateConfirmations() throws(JournalError) -> [RateConfirmationRecord] {
        try DurableDatabase.run(path, "read rate confirmations") {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM rate_confirmation ORDER BY rowid").map { row in
                    RateConfirmationRecord(changeId: UInt64(sqlBits: row["change_id"]), node: row["node"], effectivePs: row["effective_ps"],
                                           outcome: RateOutcome(rawValue: UInt8(truncatingIfNeeded: row["outcome"] as Int64)) ?? .failed)
                }
            }
        }
    }

    /// Each node's answers to change `changeId`: the latest earliest link time each node gave and its verdict.
    public func rateAnswers(changeId: UInt64) throws(JournalError) -> [String: RateAnswer] {
        try DurableDatabase.run(path, "read rate answers") {
            try queue.read { db in
                var answers: [String: RateAnswer] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT * FROM rate_answer WHERE change_id = ? ORDER BY rowid", arguments: [changeId.sqlBits]) {
                    let verdict = RateVerdict(rawValue: UInt8(truncatingIfNeeded: row["verdict"] as Int64)) ?? .noRate
                    answers[row["node"]] = RateAnswer(changeId: changeId, earliestPs: row["earliest_ps"], verdict: verdict)
                }
                return answers
            }
        }
    }
}
