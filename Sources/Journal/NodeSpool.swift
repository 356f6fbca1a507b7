import Foundation
import GRDB
import Protocol
import Synchronization

/// One batch waiting in the spool, exactly as it goes on the wire.
public struct SpooledBatch: Sendable, Equatable {
    /// Position in the spool (increasing: oldest first).
    public var position: Int64
    public var session: UInt64
    public var sequence: UInt64
    public var header: [UInt8]
    public var payload: [UInt8]
    public var tags: Int

    public init(position: Int64, session: UInt64, sequence: UInt64, header: [UInt8], payload: [UInt8], tags: Int) {
        self.position = position
        self.session = session
        self.sequence = sequence
        self.header = header
        self.payload = payload
        self.tags = tags
    }
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
    /// Payload bytes held, kept in memory so an append needs no scan of the table.
    private let usedBytes = Mutex<Int64>(0)

    public init(path: String, maxBytes: Int64) throws(JournalError) {
        self.path = path
        self.maxBytes = maxBytes
        queue = try DurableDatabase.open(path: path, migrations: [("v1", Self.schema), ("v2-resume", Self.resumeSchema)])
        let used = try DurableDatabase.run(path, "read spool size") {
            try queue.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM spool") ?? 0 }
        }
        usedBytes.withLock { $0 = used }
    }

    /// One batch to spool, exactly as it goes on the wire.
    public struct Entry: Sendable {
        public var header: [UInt8]
        public var payload: [UInt8]
        public var session: UInt64
        public var sequence: UInt64
        public var tags: Int
        public init(header: [UInt8], payload: [UInt8], session: UInt64, sequence: UInt64, tags: Int) {
            self.header = header
            self.payload = payload
            self.session = session
            self.sequence = sequence
            self.tags = tags
        }
    }

    /// Adds batches in order in one transaction (one fsync), stopping at the first that would exceed
    /// ``maxBytes``. - Returns: how many were stored (a prefix of `entries`).
    public func append(_ entries: [Entry]) throws(JournalError) -> Int {
        try appendReturningPositions(entries).count
    }

    /// Like ``append(_:)``, returning the spool position of each stored batch (`nil` for one already held).
    public func appendReturningPositions(_ entries: [Entry]) throws(JournalError) -> [Int64?] {
        guard !entries.isEmpty else { return [] }
        return try DurableDatabase.run(path, "spool batches") {
            var used = usedBytes.withLock { $0 }
            let positions = try queue.write { db -> [Int64?] in
                let statement = try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO spool (session, seq, tags, bytes, header, payload) VALUES (?, ?, ?, ?, ?, ?)
                    """)
                let progress = try db.cachedStatement(sql: """
                    INSERT INTO node_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = MAX(value, excluded.value)
                    """)
                var positions: [Int64?] = []
                var lastSequence: UInt64 = 0, tags: Int64 = 0
                for entry in entries {
                    let size = Int64(entry.header.count + entry.payload.count)
                    if used > 0, used + size > maxBytes { break }
                    try statement.execute(arguments: [entry.session.sqlBits, entry.sequence.sqlBits, entry.tags, size,
                                                      Data(entry.header), Data(entry.payload)])
                    if db.changesCount == 1 {
                        used += size
                        positions.append(db.lastInsertedRowID)
                        lastSequence = max(lastSequence, entry.sequence)
                        tags += Int64(entry.tags)
                    } else {
                        positions.append(nil)
                    }
                }
                // Where the node resumes after a crash, written with the batches it describes.
                if tags > 0 || lastSequence > 0 {
                    try progress.execute(arguments: ["last_sequence", lastSequence.sqlBits])
                    try db.execute(sql: """
                        INSERT INTO node_state (key, value) VALUES ('tags_spooled', ?) ON CONFLICT (key) DO UPDATE SET value = value + excluded.value
                        """, arguments: [tags])
                }
                return positions
            }
            usedBytes.withLock { $0 = used }
            return positions
        }
    }

    /// The highest spool position used so far (0: none).
    public func lastPosition() throws(JournalError) -> Int64 {
        try DurableDatabase.run(path, "read spool position") {
            try queue.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(position), 0) FROM spool") ?? 0 }
        }
    }

    /// Deletes acknowledged batches in one transaction. - Returns: how many were there.
    @discardableResult
    public func remove(_ keys: [(session: UInt64, sequence: UInt64)]) throws(JournalError) -> Int {
        guard !keys.isEmpty else { return 0 }
        return try DurableDatabase.run(path, "remove spooled batches") {
            let (removed, freed) = try queue.write { db -> (Int, Int64) in
                let size = try db.cachedStatement(sql: "SELECT bytes FROM spool WHERE session = ? AND seq = ?")
                let delete = try db.cachedStatement(sql: "DELETE FROM spool WHERE session = ? AND seq = ?")
                var removed = 0, freed: Int64 = 0
                for key in keys {
                    let arguments: StatementArguments = [key.session.sqlBits, key.sequence.sqlBits]
                    guard let bytes = try Int64.fetchOne(size, arguments: arguments) else { continue }
                    try delete.execute(arguments: arguments)
                    removed += 1
                    freed += bytes
                }
                return (removed, freed)
            }
            usedBytes.withLock { $0 -= freed }
            return removed
        }
    }

    /// Logs heralds received from the coordinator in one transaction (idempotent by herald sequence).
    public func logHeralds(_ heralds: [Herald]) throws(JournalError) {
        guard !heralds.isEmpty else { return }
        try DurableDatabase.run(path, "log heralds") {
            try queue.write { db in
                let statement = try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO herald_log (seq, attempt, outcome, time_ps, detection_ps, received_at) VALUES (?, ?, ?, ?, ?, ?)
                    """)
                let now = Date().timeIntervalSince1970
                for herald in heralds {
                    try statement.execute(arguments: [herald.sequence.sqlBits, herald.attemptId.sqlBits, Int(herald.outcome.rawValue),
                                                      herald.timePs, herald.detectionPs, now])
                }
            }
        }
    }

    // MARK: Resuming after a restart

    /// Where a restarted node carries on: its session (the same for the spool's whole life), the last batch
    /// sequence it spooled (acknowledged or not) and how many tags of its source's stream it has spooled.
    public struct ResumePoint: Sendable, Equatable {
        public var session: UInt64
        public var lastSequence: UInt64
        public var tagsSpooled: Int64
        public init(session: UInt64, lastSequence: UInt64, tagsSpooled: Int64) {
            self.session = session
            self.lastSequence = lastSequence
            self.tagsSpooled = tagsSpooled
        }
    }

    static let resumeSchema = """
    CREATE TABLE node_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    """

    /// The node's resume point; the first call on a new spool draws the session id and stores it.
    public func resumePoint() throws(JournalError) -> ResumePoint {
        try DurableDatabase.run(path, "read resume point") {
            try queue.write { db in
                func value(_ key: String) throws -> Int64? { try Int64.fetchOne(db, sql: "SELECT value FROM node_state WHERE key = ?", arguments: [key]) }
                let session: UInt64
                if let stored = try value("session") {
                    session = UInt64(sqlBits: stored)
                } else {
                    // A spool from before resume points: its batches keep their session; new ones use a fresh one
                    // numbered after everything it holds.
                    session = UInt64.random(in: 1...UInt64.max)
                    try db.execute(sql: "INSERT INTO node_state (key, value) VALUES ('session', ?)", arguments: [session.sqlBits])
                }
                let last = max(try value("last_sequence").map(UInt64.init(sqlBits:)) ?? 0,
                               UInt64(sqlBits: try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM spool WHERE session = ?",
                                                                  arguments: [session.sqlBits]) ?? 0))
                return ResumePoint(session: session, lastSequence: last, tagsSpooled: try value("tags_spooled") ?? 0)
            }
        }
    }

    /// The herald log's extent: the highest sequence logged and the sequences below it not logged, as ranges.
    public func heraldLogHoles() throws(JournalError) -> (last: UInt64, holes: [ClosedRange<UInt64>]) {
        let logged = try loggedHeraldSequences()
        var holes: [ClosedRange<UInt64>] = []
        var expected: UInt64 = 1
        for sequence in logged {
            if sequence > expected { holes.append(expected...(sequence - 1)) }
            expected = sequence + 1
        }
        return (logged.last ?? 0, holes)
    }

    /// Every herald logged, in sequence order.
    public func loggedHeralds() throws(JournalError) -> [Herald] {
        try DurableDatabase.run(path, "read herald log") {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM herald_log ORDER BY seq").map(Herald.init(row:))
            }
        }
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
        try append([Entry(header: header, payload: payload, session: session, sequence: sequence, tags: tags)]) == 1
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
        try remove([(session, sequence)]) == 1
    }

    /// Deletes every batch of `session` up to and including `sequence` (the coordinator already holds them).
    @discardableResult
    public func removeThrough(session: UInt64, sequence: UInt64) throws(JournalError) -> Int {
        try DurableDatabase.run(path, "trim spool") {
            let (removed, freed) = try queue.write { db -> (Int, Int64) in
                let freed = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM spool WHERE session = ? AND seq <= ?",
                                               arguments: [session.sqlBits, sequence.sqlBits]) ?? 0
                try db.execute(sql: "DELETE FROM spool WHERE session = ? AND seq <= ?", arguments: [session.sqlBits, sequence.sqlBits])
                return (db.changesCount, freed)
            }
            usedBytes.withLock { $0 -= freed }
            return removed
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
        try logHeralds([herald])
    }

    /// Herald sequence numbers logged, in order.
    public func loggedHeraldSequences() throws(JournalError) -> [UInt64] {
        try DurableDatabase.run(path, "read herald log") {
            try queue.read { db in try Int64.fetchAll(db, sql: "SELECT seq FROM herald_log ORDER BY seq").map(UInt64.init(sqlBits:)) }
        }
    }
}
