import Correlation
import Foundation
import Testing

@Suite("qlink correlate clock recovery", .enabled(if: FileManager.default.isExecutableFile(atPath: qlinkURL.path), "qlink is not built at .build/debug"))
struct ClockCommandTests {
    @Test("files without pairs: non-zero exit and a message naming both files and what was searched")
    func neverLocks() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-clock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = ClockLabs(offsetPs: 3.7e6, driftPpm: 2, pairRateHz: 0, singlesRateHz: 20_000, durationS: 1.5).generate(seed: 3)
        let alice = directory.appendingPathComponent("alice.csv").path, bob = directory.appendingPathComponent("bob.csv").path
        for (path, times, channel) in [(alice, data.a, 1), (bob, data.b, 3)] {
            try ("channel,time_ps\n" + times.map { "\(channel),\($0)" }.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        let run = try runQLink(["correlate", alice, bob, "--pairs", "1:3", "--log-level", "error"])
        #expect(run.status == 1)
        #expect(run.error.contains("never locked") && run.error.contains(alice) && run.error.contains(bob), "\(run.error)")
        #expect(run.error.contains("±10.0 ms") && run.error.contains("±50.0 ppm"), "\(run.error)")
        // What was tried: the span, the cells and bin of the coarse search, its best peak and the candidate threshold.
        #expect(run.error.contains("offset × frequency cells") && run.error.contains("candidate threshold") && run.error.contains(" s,"),
                "\(run.error)")
    }
}
