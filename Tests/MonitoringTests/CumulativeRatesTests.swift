import Foundation
import Testing
@testable import Monitoring

@Suite("Rates from cumulative counters and the file alert history")
struct CumulativeRatesTests {
    @Test("rates over the window, Poisson errors, bounded memory, restart on a counter reset")
    func rates() throws {
        var rates = CumulativeRates(windowPs: 10 * second)
        #expect(rates.rateHz("alice") == nil)
        for t in 0...30 {
            // 100 Hz for 20 s, then 400 Hz.
            let count = t <= 20 ? Int64(t) * 100 : 2000 + Int64(t - 20) * 400
            rates.record(["alice": count], atPs: Int64(t) * second)
        }
        let rate = try #require(rates.rateHz("alice"))
        #expect(rate.value == 400)
        #expect(abs(rate.standardError - (4000.0).squareRoot() / 10) < 1e-9)
        rates.record("alice", 5, atPs: 31 * second)        // the node restarted: its counter began again
        #expect(rates.rateHz("alice") == nil)
        rates.record("alice", 15, atPs: 32 * second)
        #expect(rates.rateHz("alice")?.value == 10)
        rates.record("alice", 99, atPs: 20 * second)       // out of order: ignored
        #expect(rates.rateHz("alice")?.value == 10)
    }

    @Test("the file history survives reopening and skips a torn last line")
    func fileHistory() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-alerts-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let history = try FileAlertHistory(path: path)
        try history.appendAlertTransitions(AlertSinkTests.transitions, link: "loopback")
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"link\":\"loopback\",\"transi".utf8))
        try handle.close()
        let reopened = try FileAlertHistory(path: path)
        #expect(try reopened.recentAlertTransitions(limit: 10) == AlertSinkTests.transitions)
        #expect(try reopened.recentAlertTransitions(limit: 1) == [AlertSinkTests.transitions[1]])
        #expect(throws: MonitoringError.self) { try FileAlertHistory(path: "/nonexistent-folder/x.jsonl") }
    }
}
