import Foundation
import Journal
import Protocol
import Testing

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "qlink-journal-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite("Coordinator journal")
struct CoordinatorJournalTests {
    func record(_ seq: UInt64, node: String = "alice-node", session: UInt64 = UInt64.max - 1) -> CoordinatorJournal.BatchRecord {
        .init(node: node, session: session, sequence: seq, checksum: 0xDEAD_BEEF, firstPs: Int64(seq) * 10, lastPs: Int64(seq) * 10 + 9, tags: 100)
    }

    @Test func deduplicatesBatchesAndKeepsEverythingAcrossReopen() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/journal.sqlite"
        var runId: UInt64 = 0
        do {
            let journal = try CoordinatorJournal(path: path)
            runId = try journal.runId()
            #expect(try journal.recordBatch(record(1)))
            #expect(try journal.recordBatch(record(2)))
            #expect(try journal.recordBatch(record(2)) == false)
            #expect(try journal.recordBatch(record(1, node: "bob-node")))
            try journal.recordHerald(Herald(sequence: 1, attemptId: 10, outcome: .psiPlus, timePs: 5, detectionPs: 6))
            try journal.recordAcknowledgement(node: "alice-node", session: 1, sequence: 1, status: .accepted)
            try journal.recordAlert(level: "warning", message: "gap")
            try journal.recordConfigurationChange(key: "repetition_rate_hz", value: "1e6")
            try journal.recordClockOffset(timePs: 1, offsetPs: 2.5)
            try journal.recordResult(json: "{}")
            // No clean shutdown: the journal object is simply dropped, as after a crash.
        }
        let reopened = try CoordinatorJournal(path: path)
        #expect(try reopened.runId() == runId)
        #expect(try reopened.lastSequence(node: "alice-node", session: UInt64.max - 1) == 2)
        #expect(try reopened.lastSequence(node: "alice-node", session: 3) == 0)
        #expect(try reopened.batches() == [record(1), record(2), record(1, node: "bob-node")])
        #expect(try reopened.tagTotals() == ["alice-node": 200, "bob-node": 100])
        #expect(try reopened.lastHerald() == (1, 10))
        #expect(try reopened.heralds(in: 1...5) == [Herald(sequence: 1, attemptId: 10, outcome: .psiPlus, timePs: 5, detectionPs: 6)])
        for table in CoordinatorJournal.Table.allCases where table != .batch {
            #expect(try reopened.count(table) == 1, "table \(table.rawValue)")
        }
        // WAL mode is in force.
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func unwritableLocationIsAClearError() {
        #expect(throws: JournalError.self) { try CoordinatorJournal(path: "/proc/qlink-not-here/journal.sqlite") }
    }
}

@Suite("Node spool")
struct NodeSpoolTests {
    @Test func boundedOldestFirstAndSurvivesACrash() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/spool.sqlite"
        do {
            let spool = try NodeSpool(path: path, maxBytes: 1000)
            for seq in 1...4 as ClosedRange<UInt64> {
                #expect(try spool.append(header: [UInt8](repeating: UInt8(seq), count: 48), payload: [UInt8](repeating: 1, count: 200),
                                         session: 7, sequence: seq, tags: 10))
            }
            // 4 × 248 = 992 bytes used: a fifth does not fit.
            #expect(try spool.append(header: [0], payload: [UInt8](repeating: 0, count: 200), session: 7, sequence: 5, tags: 10) == false)
            #expect(try spool.remove(session: 7, sequence: 2))
            #expect(try spool.remove(session: 7, sequence: 2) == false)
            try spool.logHerald(Herald(sequence: 3, attemptId: 1, outcome: .failure, timePs: 0, detectionPs: 0))
            try spool.logHerald(Herald(sequence: 3, attemptId: 1, outcome: .failure, timePs: 0, detectionPs: 0))
        }
        let spool = try NodeSpool(path: path, maxBytes: 1000)
        let waiting = try spool.batches(limit: 10)
        #expect(waiting.map(\.sequence) == [1, 3, 4])
        #expect(waiting.map { $0.header.first } == [1, 3, 4])
        #expect(try spool.usage().batches == 3)
        #expect(try spool.batches(after: waiting[0].position, limit: 1).map(\.sequence) == [3])
        #expect(try spool.removeThrough(session: 7, sequence: 3) == 2)
        #expect(try spool.batches(limit: 10).map(\.sequence) == [4])
        #expect(try spool.sessions() == [7])
        #expect(try spool.loggedHeraldSequences() == [3])
        #expect(try spool.append(header: [0], payload: [0], session: 8, sequence: 1, tags: 1))
        #expect(try spool.sessions() == [7, 8])
    }
}
