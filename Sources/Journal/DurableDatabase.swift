import Foundation
import GRDB
import Protocol

/// Opens an SQLite file in WAL mode with fully synchronous (fsync-durable) commits.
enum DurableDatabase {
    static func open(path: String, migrations: [(String, String)]) throws(JournalError) -> DatabaseQueue {
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            var configuration = Configuration()
            configuration.journalMode = .wal
            configuration.busyMode = .timeout(5)
            configuration.prepareDatabase { db in
                // FULL: every commit is fsynced to the WAL before it returns.
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            var migrator = DatabaseMigrator()
            for (name, sql) in migrations {
                migrator.registerMigration(name) { db in try db.execute(sql: sql) }
            }
            try migrator.migrate(queue)
            return queue
        } catch {
            throw JournalError(.open, path: path, detail: "\(error)",
                               hint: "check that the directory is writable and the file is a QLink journal")
        }
    }

    /// Runs `body`, turning database errors into ``JournalError``.
    static func run<T>(_ path: String, _ what: String, _ body: () throws -> T) throws(JournalError) -> T {
        do {
            return try body()
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(.io, path: path, detail: "\(what): \(error)", hint: "check free disk space and file permissions")
        }
    }
}

extension UInt64 {
    /// The same 64 bits as a signed SQLite integer.
    var sqlBits: Int64 { Int64(bitPattern: self) }
    init(sqlBits: Int64) { self = UInt64(bitPattern: sqlBits) }
}

extension Herald {
    /// A herald from a `herald` (journal) or `herald_log` (spool) row: `seq`, `attempt`, `outcome`, `time_ps`, `detection_ps`.
    init(row: Row) {
        self.init(sequence: UInt64(sqlBits: row["seq"]), attemptId: UInt64(sqlBits: row["attempt"]),
                  outcome: HeraldOutcome(rawValue: UInt8(truncatingIfNeeded: row["outcome"] as Int64)) ?? .failure,
                  timePs: row["time_ps"], detectionPs: row["detection_ps"])
    }
}
