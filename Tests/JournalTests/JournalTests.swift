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
        // Acknowledgements are journaled per node session with the batches (what a restarted coordinator tells a node it has).
        #expect(try reopened.acknowledged().map { [$0.node, "\($0.lastSequence)", "\($0.batches)", "\($0.tags)"] }
                == [["alice-node", "2", "2", "200"], ["bob-node", "1", "1", "100"]])
        for table in CoordinatorJournal.Table.allCases where table != .batch && table != .acknowledged {
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

@Suite("Node spool resume point")
struct NodeSpoolResumeTests {
    @Test func sessionSequenceAndTagsSurviveAndHeraldHolesAreFound() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/spool.sqlite"
        let session: UInt64
        do {
            let spool = try NodeSpool(path: path, maxBytes: 1 << 20)
            let fresh = try spool.resumePoint()
            #expect(fresh.lastSequence == 0 && fresh.tagsSpooled == 0)
            session = fresh.session
            let entries = (1...3 as ClosedRange<UInt64>).map {
                NodeSpool.Entry(header: [UInt8($0)], payload: [1, 2], session: session, sequence: $0, tags: 10 * Int($0))
            }
            #expect(try spool.append(entries) == 3)
            // The same batch again (a retry) counts nothing twice.
            #expect(try spool.appendReturningPositions([entries[2]]) == [nil])
            #expect(try spool.remove(session: session, sequence: 3))
            try spool.logHeralds([1, 2, 5, 9].map { Herald(sequence: $0, attemptId: $0, outcome: .psiPlus, timePs: 0, detectionPs: 0) })
        }
        // Acknowledged and deleted batches still count: the spool resumes after everything it ever held.
        let spool = try NodeSpool(path: path, maxBytes: 1 << 20)
        #expect(try spool.resumePoint() == NodeSpool.ResumePoint(session: session, lastSequence: 3, tagsSpooled: 60))
        let log = try spool.heraldLogHoles()
        #expect(log.last == 9)
        #expect(log.holes == [3...4, 6...8])
        #expect(try spool.loggedHeralds().map(\.sequence) == [1, 2, 5, 9])
    }
}

/// Crash safety of the journal, tested by killing (SIGKILL) a child process in the middle of its writes: the child
/// is this test bundle run again with ``childVariable`` set, which makes ``journalWriterChild()`` write rounds
/// of batches and a herald in one transaction each, reporting each committed round on its standard output.
@Suite("Journal crash safety", .serialized)
struct JournalCrashTests {
    static let childVariable = "QLINK_JOURNAL_CRASH_CHILD"
    static let batchesPerRound: UInt64 = 40

    static func record(_ sequence: UInt64) -> CoordinatorJournal.BatchRecord {
        .init(node: "alice-node", session: 11, sequence: sequence, checksum: UInt32(truncatingIfNeeded: sequence), firstPs: Int64(sequence) * 10,
              lastPs: Int64(sequence) * 10 + 9, tags: 3)
    }

    /// The child's side: does nothing unless run as the child.
    @Test func journalWriterChild() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childVariable] else { return }
        let journal = try CoordinatorJournal(path: path)
        var round = try journal.lastHerald().sequence
        while true {
            round += 1
            let first = (round - 1) * Self.batchesPerRound + 1
            try journal.commit(batches: (first..<(first + Self.batchesPerRound)).map(Self.record),
                               heralds: [Herald(sequence: round, attemptId: round, outcome: .psiMinus, timePs: Int64(round), detectionPs: 1)])
            try journal.recordResult(json: "{\"round\": \(round)}")
            FileHandle.standardOutput.write(Data("committed \(round)\n".utf8))
        }
    }

    @Test func killedMidWriteKeepsEveryCommittedRoundWhole() async throws {
        guard ProcessInfo.processInfo.environment[Self.childVariable] == nil else { return }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/journal.sqlite"
        var committedBeforeKill: UInt64 = 0
        // Three children, each killed after a different number of committed rounds (a count, not a time).
        for killAfter in [5, 23, 11] as [UInt64] {
            let output = directory + "/child.out"
            FileManager.default.createFile(atPath: output, contents: nil)
            let child = Process()
            child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            child.arguments = ["--testing-library", "swift-testing", "--filter", "journalWriterChild"]
            child.environment = ProcessInfo.processInfo.environment.merging([Self.childVariable: path]) { $1 }
            child.standardOutput = FileHandle(forWritingAtPath: output)
            child.standardError = FileHandle.nullDevice
            try child.run()
            func committed() -> UInt64 {
                let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                return text.split(separator: "\n").compactMap { $0.hasPrefix("committed ") ? UInt64($0.dropFirst(10)) : nil }.max() ?? 0
            }
            // Waits for the child's count; the deadline only guards against a hang (a child that stopped writing).
            let deadline = ContinuousClock.now.advanced(by: .seconds(600))
            while committed() < committedBeforeKill + killAfter, child.isRunning, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal, "the writer child ended by itself: \(child.terminationStatus)")
            let reported = committed()
            #expect(reported >= committedBeforeKill + killAfter,
                    "waited 600 s for round \(committedBeforeKill + killAfter); the child reported \(reported)")

            // Every round the child reported is there; any round is there whole or not at all (batches, herald and
            // acknowledged state in one transaction).
            let journal = try CoordinatorJournal(path: path)
            let heralds = try journal.heralds(in: 1...UInt64(Int64.max)).map(\.sequence)
            let rounds = UInt64(heralds.count)
            try #require(rounds > 0, "the writer child committed nothing")
            #expect(heralds == Array(1...rounds))
            #expect(rounds >= reported && rounds <= reported + 1)
            #expect(try journal.batches().map(\.sequence) == Array(1...(rounds * Self.batchesPerRound)))
            #expect(try journal.lastSequence(node: "alice-node", session: 11) == rounds * Self.batchesPerRound)
            #expect(try journal.acknowledged() == [CoordinatorJournal.Acknowledged(node: "alice-node", session: 11, lastSequence: rounds * Self.batchesPerRound,
                                                                                   batches: Int64(rounds * Self.batchesPerRound), tags: Int64(rounds * Self.batchesPerRound * 3))])
            committedBeforeKill = rounds
        }
    }
}
