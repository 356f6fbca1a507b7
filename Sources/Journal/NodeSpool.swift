import Foundation
import GRDB
import Protocol

/// One batch waiting in the spool, exactly as it goes on the wire.
public struct SpooledBatch: Sendable, Equatable {
    /// Position in the spool (increasing: oldest first).
    public var position: Int64
    public var session: UInt64
    public var sequence: UInt64
    public var header: [UInt8]
    public var payload: [UInt8]
    public var tags: Int
}

/// The node's durable outbox: every batch is written here before it is sent and deleted only when the
/// coordinator acknowledges it, so a crash or an unreachable coordinator loses nothing; resent oldest first.
///
/// Bounded by `maxBytes` of payload: ``append(header:payload:session:sequence:tags:)`` refuses when full, and
/// the node then holds its source back (or counts the drop when the source cannot wait).
/// The same file keeps the node's local herald log.
public final class NodeSpool: Sendable {
    public let path: String
    /// The most payload bytes the spool holds.
    public let maxBytes: Int64
    private let queue: DatabaseQueue

    public init(path: String, maxBytes: Int64) throws(JournalError) {
        self.path = path
        self.maxBytes = maxBytes
        queue = try DurableDatabase.open(path: path, migrations: [("v1", Self.schema)])
    }

    static let schema = """
    CREATE TABLE spool (
        position INTEGER PRIMARY KEY AUTOINCREMENT, session INTEGER NOT NULL, seq INTEGER NOT NULL,
        tags INTEGER NOT NULL, bytes INTEGER NOT NULL, header BLOB NOT NULL, payload BLOB NOT NULL,
        UNIQUE (session, seq));
    CREATE TABLE herald_log (
        seq INTEGER PRIMARY KEY, attempt INTEGER NOT NULL, outcome INTEGER NOT NULL,
        time_ps INTEGER NOT NULL, detection_ps INTEGER NOT NULL, received_at REAL NOT NULL);
    """

    /// Adds a batch. - Returns: `false` (nothing stored) when it would exceed ``maxBytes``.
    public func append(header: [UInt8], payload: [UInt8], session: UInt64, sequence: UInt64, tags: Int) throws(JournalError) -> Bool {
        try DurableDatabase.run(path, "spool batch") {
            try queue.write { db in
                let used = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM spool") ?? 0
                let size = Int64(header.count + payload.count)
                if used > 0, used + size > maxBytes { return false }
                try db.execute(sql: "INSERT OR IGNORE INTO spool (session, seq, tags, bytes, header, payload) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [session.sqlBits, sequence.sqlBits, tags, size, Data(header), Data(payload)])
                return true
            }
        }
    }

    /// Up to `limit` batches after `position`, oldest first.
    public func batches(after position: Int64 = 0, limit: Int) throws(JournalError) -> [SpooledBatch] {
        try DurableDatabase.run(path, "read spool") {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM spool WHERE position > ? ORDER BY position LIMIT ?",
                                 arguments: [position, limit]).map { row in
                    SpooledBatch(position: row["position"], session: UInt64(sqlBits: row["session"]), sequence: UInt64(sqlBits: row["seq"]),
                                 header: [UInt8](row["header"] as Data), payload: [UInt8](row["payload"] as Data), tags: row["tags"])
                }
            }
        }
    }

    /// Deletes an acknowledged batch. - Returns: whether it was there.
    @discardableResult
    public func remove(session: UInt64, sequence: UInt64) throws(JournalError) -> Bool {
        try DurableDatabase.run(path, "remove spooled batch") {
            try queue.write { db in
                try db.execute(sql: "DELETE FROM spool WHERE session = ? AND seq = ?", arguments: [session.sqlBits, sequence.sqlBits])
                return db.changesCount == 1
            }
        }
    }

    /// Deletes every batch of `session` up to and including `sequence` (the coordinator already holds them).
    @discardableResult
    public func removeThrough(session: UInt64, sequence: UInt64) throws(JournalError) -> Int {
        try DurableDatabase.run(path, "trim spool") {
            try queue.write { db in
                try db.execute(sql: "DELETE FROM spool WHERE session = ? AND seq <= ?", arguments: [session.sqlBits, sequence.sqlBits])
                return db.changesCount
            }
        }
    }

    /// Sessions that still have spooled batches, oldest first.
    public func sessions() throws(JournalError) -> [UInt64] {
        try DurableDatabase.run(path, "read spool sessions") {
            try queue.read { db in
                try Int64.fetchAll(db, sql: "SELECT session FROM spool GROUP BY session ORDER BY MIN(position)").map(UInt64.init(sqlBits:))
            }
        }
    }

    /// Batches and payload bytes waiting.
    public func usage() throws(JournalError) -> (batches: Int, bytes: Int64) {
        try DurableDatabase.run(path, "read spool usage") {
            try queue.read { db in
                let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM spool")
                return (row?["n"] ?? 0, row?["b"] ?? 0)
            }
        }
    }

    /// Logs a herald received from the coordinator (idempotent by herald sequence).
    public func logHerald(_ herald: Herald) throws(JournalError) {
        try DurableDatabase.run(path, "log herald") {
            try queue.write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO herald_log (seq, attempt, outcome, time_ps, detection_ps, received_at) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [herald.sequence.sqlBits, herald.attemptId.sqlBits, Int(herald.outcome.rawValue),
                                           herald.timePs, herald.detectionPs, Date().timeIntervalSince1970])
            }
        }
    }

    /// Herald sequence numbers logged, in order.
    public func loggedHeraldSequences() throws(JournalError) -> [UInt64] {
        try DurableDatabase.run(path, "read herald log") {
            try queue.read { db in try Int64.fetchAll(db, sql: "SELECT seq FROM herald_log ORDER BY seq").map(UInt64.init(sqlBits:)) }
        }
    }
}
