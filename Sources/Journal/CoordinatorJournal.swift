import Foundation
import GRDB
import Protocol

/// The coordinator's durable record: received batch metadata, heralds, acknowledgements (per node session: the
/// last batch acknowledged), alerts,
/// configuration changes, clock-offset samples and rolling results, in one SQLite file (WAL, fsync on commit).
///
/// Writes are append-only. Batch identity (node, session, sequence) is a unique key, so the journal is
/// also what deduplicates resent batches across coordinator restarts.
public final class CoordinatorJournal: Sendable {
    /// The file path.
    public let path: String
    let queue: DatabaseQueue

    /// Opens or creates the journal at `path`.
    public init(path: String) throws(JournalError) {
        self.path = path
        queue = try DurableDatabase.open(path: path, migrations: [("v1", Self.schema), ("v2-acknowledged", Self.acknowledgedSchema),
                                                                  ("v3-rate-changes", Self.rateChangeSchema)])
    }

    static let schema = """
    CREATE TABLE run (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE batch (
        node TEXT NOT NULL, session INTEGER NOT NULL, seq INTEGER NOT NULL,
        checksum INTEGER NOT NULL, first_ps INTEGER NOT NULL, last_ps INTEGER NOT NULL, tags INTEGER NOT NULL,
        received_at REAL NOT NULL, PRIMARY KEY (node, session, seq));
    CREATE TABLE herald (
        seq INTEGER PRIMARY KEY, attempt INTEGER NOT NULL, outcome INTEGER NOT NULL,
        time_ps INTEGER NOT NULL, detection_ps INTEGER NOT NULL, decided_at REAL NOT NULL);
    CREATE TABLE acknowledgement (
        id INTEGER PRIMARY KEY AUTOINCREMENT, node TEXT NOT NULL, session INTEGER NOT NULL,
        seq INTEGER NOT NULL, status INTEGER NOT NULL, sent_at REAL NOT NULL);
    CREATE TABLE alert (id INTEGER PRIMARY KEY AUTOINCREMENT, level TEXT NOT NULL, message TEXT NOT NULL, at REAL NOT NULL);
    CREATE TABLE configuration_change (
        id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, value TEXT NOT NULL, at REAL NOT NULL);
    CREATE TABLE clock_offset (id INTEGER PRIMARY KEY AUTOINCREMENT, time_ps INTEGER NOT NULL, offset_ps REAL NOT NULL, at REAL NOT NULL);
    CREATE TABLE result (id INTEGER PRIMARY KEY AUTOINCREMENT, json TEXT NOT NULL, at REAL NOT NULL);
    """

    /// Metadata of one received batch.
    public struct BatchRecord: Sendable, Equatable {
        public var node: String
        public var session: UInt64
        public var sequence: UInt64
        public var checksum: UInt32
        public var firstPs: Int64
        public var lastPs: Int64
        public var tags: Int
        public init(node: String, session: UInt64, sequence: UInt64, checksum: UInt32, firstPs: Int64, lastPs: Int64, tags: Int) {
            self.node = node
            self.session = session
            self.sequence = sequence
            self.checksum = checksum
            self.firstPs = firstPs
            self.lastPs = lastPs
            self.tags = tags
        }
    }

    /// The run id: created on first open, the same after every restart of the same journal.
    public func runId() throws(JournalError) -> UInt64 {
        try DurableDatabase.run(path, "read run id") {
            try queue.write { db in
                if let text = try String.fetchOne(db, sql: "SELECT value FROM run WHERE key = 'run_id'"), let id = UInt64(text) {
                    return id
                }
                let id = UInt64.random(in: 1...UInt64.max)
                try db.execute(sql: "INSERT INTO run (key, value) VALUES ('run_id', ?)", arguments: [String(id)])
                return id
            }
        }
    }

    /// Records a batch once (and its acknowledgement). - Returns: `false` if (node, session, sequence) was already journaled.
    @discardableResult
    public func recordBatch(_ record: BatchRecord) throws(JournalError) -> Bool {
        try commit(batches: [record], heralds: []) == 1
    }

    /// Records batches and heralds in one transaction (one fsync): the coordinator's group commit for
    /// everything it received in one round. Batches already journaled and heralds already held are skipped.
    /// - Returns: how many of `batches` were new.
    @discardableResult
    public func commit(batches: [BatchRecord], heralds: [Herald]) throws(JournalError) -> Int {
        guard !batches.isEmpty || !heralds.isEmpty else { return 0 }
        return try DurableDatabase.run(path, "commit batches and heralds") {
            try queue.write { db in
                let now = Date().timeIntervalSince1970
                var inserted: [BatchRecord] = []
                let batchStatement = try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO batch (node, session, seq, checksum, first_ps, last_ps, tags, received_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for record in batches {
                    try batchStatement.execute(arguments: [record.node, record.session.sqlBits, record.sequence.sqlBits, Int64(record.checksum),
                                                           record.firstPs, record.lastPs, record.tags, now])
                    if db.changesCount == 1 { inserted.append(record) }
                }
                let heraldStatement = try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO herald (seq, attempt, outcome, time_ps, detection_ps, decided_at) VALUES (?, ?, ?, ?, ?, ?)
                    """)
                for herald in heralds {
                    try heraldStatement.execute(arguments: [herald.sequence.sqlBits, herald.attemptId.sqlBits, Int(herald.outcome.rawValue),
                                                            herald.timePs, herald.detectionPs, now])
                }
                try Self.recordAcknowledged(inserted, at: now, in: db)
                return inserted.count
            }
        }
    }

    /// The highest sequence journaled (and so acknowledged) for (node, session), 0 if none: what a node is told it
    /// has in the welcome, after any restart of either side.
    public func lastSequence(node: String, session: UInt64) throws(JournalError) -> UInt64 {
        try DurableDatabase.run(path, "read last sequence") {
            try queue.read { db in
                // A journal from before the `acknowledged` table has only its batches.
                let acknowledged = try Int64.fetchOne(db, sql: "SELECT last_seq FROM acknowledged WHERE node = ? AND session = ?",
                                                      arguments: [node, session.sqlBits]).map(UInt64.init(sqlBits:)) ?? 0
                let journaled = UInt64(sqlBits: try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM batch WHERE node = ? AND session = ?",
                                                                   arguments: [node, session.sqlBits]) ?? 0)
                return max(acknowledged, journaled)
            }
        }
    }

    /// All batch records, in journal order.
    public func batches() throws(JournalError) -> [BatchRecord] {
        try DurableDatabase.run(path, "read batches") {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM batch ORDER BY rowid").map { row in
                    BatchRecord(node: row["node"], session: UInt64(sqlBits: row["session"]), sequence: UInt64(sqlBits: row["seq"]),
                                checksum: UInt32(truncatingIfNeeded: row["checksum"] as Int64), firstPs: row["first_ps"],
                                lastPs: row["last_ps"], tags: row["tags"])
                }
            }
        }
    }

    /// The latest tag time journaled per node, ps (how far each lab's data has come).
    public func latestTimes() throws(JournalError) -> [String: Int64] {
        try DurableDatabase.run(path, "read latest times") {
            try queue.read { db in
                var latest: [String: Int64] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT node, MAX(last_ps) AS latest FROM batch GROUP BY node") {
                    latest[row["node"]] = row["latest"]
                }
                return latest
            }
        }
    }

    /// Total tags journaled per node.
    public func tagTotals() throws(JournalError) -> [String: Int64] {
        try DurableDatabase.run(path, "read totals") {
            try queue.read { db in
                var totals: [String: Int64] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT node, SUM(tags) AS total FROM batch GROUP BY node") {
                    totals[row["node"]] = row["total"]
                }
                return totals
            }
        }
    }

    /// Records a herald (its sequence is unique).
    public func recordHerald(_ herald: Herald) throws(JournalError) {
        try DurableDatabase.run(path, "record herald") {
            try queue.write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO herald (seq, attempt, outcome, time_ps, detection_ps, decided_at) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [herald.sequence.sqlBits, herald.attemptId.sqlBits, Int(herald.outcome.rawValue),
                                           herald.timePs, herald.detectionPs, Date().timeIntervalSince1970])
            }
        }
    }

    /// Heralds with sequence numbers in `range`, in order.
    public func heralds(in range: ClosedRange<UInt64>) throws(JournalError) -> [Herald] {
        try DurableDatabase.run(path, "read heralds") {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM herald WHERE seq BETWEEN ? AND ? ORDER BY seq",
                                 arguments: [range.lowerBound.sqlBits, range.upperBound.sqlBits]).map(Herald.init(row:))
            }
        }
    }

    /// The highest herald sequence journaled (0: none) and the latest attempt id decided.
    public func lastHerald() throws(JournalError) -> (sequence: UInt64, attemptId: UInt64) {
        try DurableDatabase.run(path, "read last herald") {
            try queue.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT seq, attempt FROM herald ORDER BY seq DESC LIMIT 1") else { return (0, 0) }
                return (UInt64(sqlBits: row["seq"]), UInt64(sqlBits: row["attempt"]))
            }
        }
    }

    /// Records an alert.
    public func recordAlert(level: String, message: String) throws(JournalError) {
        try insert("INSERT INTO alert (level, message, at) VALUES (?, ?, ?)", [level, message, Date().timeIntervalSince1970])
    }

    /// The newest `limit` alerts, oldest first: level, message and the wall-clock time they were written.
    public func alerts(limit: Int) throws(JournalError) -> [(level: String, message: String, at: Double)] {
        try DurableDatabase.run(path, "read alerts") {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT level, message, at FROM (SELECT * FROM alert ORDER BY id DESC LIMIT ?) ORDER BY id",
                                 arguments: [max(0, limit)])
                    .map { (level: $0["level"], message: $0["message"], at: $0["at"]) }
            }
        }
    }

    /// Configuration changes (key, value), oldest first.
    public func configurationChanges() throws(JournalError) -> [(key: String, value: String)] {
        try DurableDatabase.run(path, "read configuration changes") {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT key, value FROM configuration_change ORDER BY id").map { (key: $0["key"], value: $0["value"]) }
            }
        }
    }

    /// Records a configuration change (e.g. a new repetition rate).
    public func recordConfigurationChange(key: String, value: String) throws(JournalError) {
        try insert("INSERT INTO configuration_change (key, value, at) VALUES (?, ?, ?)", [key, value, Date().timeIntervalSince1970])
    }

    /// Records a clock-offset sample.
    public func recordClockOffset(timePs: Int64, offsetPs: Double) throws(JournalError) {
        try insert("INSERT INTO clock_offset (time_ps, offset_ps, at) VALUES (?, ?, ?)", [timePs, offsetPs, Date().timeIntervalSince1970])
    }

    /// Records a rolling result (JSON text).
    public func recordResult(json: String) throws(JournalError) {
        try insert("INSERT INTO result (json, at) VALUES (?, ?)", [json, Date().timeIntervalSince1970])
    }

    /// Rolling results journaled (JSON text), oldest first, with the wall-clock time they were written.
    public func results() throws(JournalError) -> [(at: Double, json: String)] {
        try DurableDatabase.run(path, "read results") {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT json, at FROM result ORDER BY id").map { (at: $0["at"], json: $0["json"]) }
            }
        }
    }

    /// Clock-offset samples, oldest first: link time (ps) and offset (ps).
    public func clockOffsets() throws(JournalError) -> [(timePs: Int64, offsetPs: Double)] {
        try DurableDatabase.run(path, "read clock offsets") {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT time_ps, offset_ps FROM clock_offset ORDER BY id").map { (timePs: $0["time_ps"], offsetPs: $0["offset_ps"]) }
            }
        }
    }

    /// Number of rows in a journal table (for reports and tests).
    public func count(_ table: Table) throws(JournalError) -> Int {
        try DurableDatabase.run(path, "count \(table.rawValue)") {
            try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.rawValue)") ?? 0 }
        }
    }

    /// The journal's tables.
    public enum Table: String, Sendable, CaseIterable {
        case batch, herald, acknowledged, alert, configurationChange = "configuration_change", clockOffset = "clock_offset", result
    }

    // MARK: Acknowledgements

    /// Acknowledgements are journaled per node session, not per batch: the `acknowledged` row of (node, session)
    /// holds the last sequence acknowledged, the batches and tags acknowledged and when; it is written in the
    /// transaction that journals the batches, before their acknowledgements leave. (The per-batch
    /// `acknowledgement` table of the first schema, never written, is dropped.)
    static let acknowledgedSchema = """
    DROP TABLE acknowledgement;
    CREATE TABLE acknowledged (
        node TEXT NOT NULL, session INTEGER NOT NULL, last_seq INTEGER NOT NULL, batches INTEGER NOT NULL,
        tags INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY (node, session));
    INSERT INTO acknowledged (node, session, last_seq, batches, tags, at)
        SELECT node, session, MAX(seq), COUNT(*), SUM(tags), MAX(received_at) FROM batch GROUP BY node, session;
    """

    /// What has been acknowledged to one node session.
    public struct Acknowledged: Sendable, Equatable {
        public var node: String
        public var session: UInt64
        /// The last batch sequence acknowledged as accepted.
        public var lastSequence: UInt64
        public var batches: Int64
        public var tags: Int64
        public init(node: String, session: UInt64, lastSequence: UInt64, batches: Int64, tags: Int64) {
            self.node = node
            self.session = session
            self.lastSequence = lastSequence
            self.batches = batches
            self.tags = tags
        }
    }

    /// Upserts the acknowledged state of every (node, session) in `batches` (one statement per batch; batches
    /// come in order within a session).
    private static func recordAcknowledged(_ batches: [BatchRecord], at now: Double, in db: Database) throws {
        guard !batches.isEmpty else { return }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO acknowledged (node, session, last_seq, batches, tags, at) VALUES (?, ?, ?, 1, ?, ?)
            ON CONFLICT (node, session) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq), batches = batches + 1,
                tags = tags + excluded.tags, at = excluded.at
            """)
        for record in batches {
            try statement.execute(arguments: [record.node, record.session.sqlBits, record.sequence.sqlBits, record.tags, now])
        }
    }

    /// Every node session's acknowledged state, by node then session.
    public func acknowledged() throws(JournalError) -> [Acknowledged] {
        try DurableDatabase.run(path, "read acknowledged") {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM acknowledged ORDER BY node, session").map { row in
                    Acknowledged(node: row["node"], session: UInt64(sqlBits: row["session"]), lastSequence: UInt64(sqlBits: row["last_seq"]),
                                 batches: row["batches"], tags: row["tags"])
                }
            }
        }
    }

    private func insert(_ sql: String, _ arguments: StatementArguments) throws(JournalError) {
        try DurableDatabase.run(path, "append") {
            try queue.write { db in try db.execute(sql: sql, arguments: arguments) }
        }
    }
}
