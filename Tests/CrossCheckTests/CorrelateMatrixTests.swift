import Correlation
import Foundation
import QLinkTestSupport
import Simulation
import Testing

/// One row of the cross-tool matrix: a link, how long and with which seed it is simulated, and the chunk sizes
/// `qlink correlate` reads it with (nil: the default). With several chunk sizes every run must give the same counts.
struct MatrixCase: Sendable, CustomTestStringConvertible {
    var name: String
    /// A shipped configuration (path under configs/), or nil for `link`.
    var shipped: String?
    var link: MatrixLink?
    var seconds: Double
    var seed: UInt64
    var chunkSizes: [Int?] = [nil]
    var testDescription: String { name }
}

/// The offline consistency matrix of issue 13: every shipped configuration that describes a simulated link, and
/// a generated family of links, simulated by `qlink simulate` and analysed by `qlink correlate` with its defaults
/// (the real executable, `--json`). Counts, E, the fidelity (exact or the Z/X bound, as labelled), CHSH S, CAR,
/// clock offset and drift agree with the simulator's ground truth within 3σ of the reported standard errors;
/// with a shared clock the coincidences equal a brute-force count on the files exactly.
///
/// The `plan-*.yaml` configurations are planner-only (no labs, detectors or simulation section) and are not part
/// of the matrix. Free-running cases go down to 1 000 pairs/s among ~100 kHz singles per lab (signal ratio
/// R/√(r_A·r_B) ≈ 10⁻²), which the acquisition's defaults lock on within seconds; docs/correlation.md gives the
/// signal ratio each span of data needs.
@Suite("qlink simulate → qlink correlate against ground truth", .enabled(if: QLinkRunner.isBuilt, "qlink is not built at .build/debug"))
struct CorrelateMatrixTests {
    static let cases: [MatrixCase] = {
        func pair(_ rate: Double, _ mean: Double) -> MatrixLink.Kind { .pairSource(attemptRateHz: rate, meanPairs: mean) }
        let zxy = ["z", "x", "y"], chshA = ["0", "45"], chshB = ["22.5", "67.5"]
        return [
            MatrixCase(name: "configs/loopback.yaml", shipped: "configs/loopback.yaml", seconds: 0.1, seed: 7),
            MatrixCase(name: "configs/demo-pair-source.yaml", shipped: "configs/demo-pair-source.yaml", seconds: 0.2, seed: 1),
            MatrixCase(name: "configs/demo.yaml (heralded)", shipped: "configs/demo.yaml", seconds: 1, seed: 1),
            MatrixCase(name: "configs/tomography.yaml (nine Z/X/Y setting pairs, a damped phase-rotated Bell state)",
                       shipped: "configs/tomography.yaml", seconds: 0.5, seed: 3),
            // Shared clock: counts equal brute force exactly, at every chunk size.
            MatrixCase(name: "pair source 10 kHz, shared clock, Z/X markers",
                       link: MatrixLink(kind: pair(10_000, 0.5), bases: .markers(a: ["z", "x"], b: ["z", "x"], periodPs: 5_000_000_000),
                                        offsetPs: 3_700_000, frequencyErrorPpm: 0, shared: true),
                       seconds: 2, seed: 11, chunkSizes: [nil, 7]),
            MatrixCase(name: "pair source 20 MHz, shared clock, CHSH markers",
                       link: MatrixLink(kind: pair(20_000_000, 0.05), bases: .markers(a: chshA, b: chshB, periodPs: 1_000_000_000),
                                        offsetPs: -9_000_000_000, frequencyErrorPpm: 0, shared: true),
                       seconds: 0.05, seed: 12, chunkSizes: [nil, 1000]),
            MatrixCase(name: "pair source 1 MHz, shared clock, Z/X/Y segments",
                       link: MatrixLink(kind: pair(1_000_000, 0.1), bases: .segments(settings: zxy, periodPs: 20_000_000_000),
                                        offsetPs: 250_000, frequencyErrorPpm: 0, shared: true),
                       seconds: 0.3, seed: 13, chunkSizes: [nil, 4096]),
            MatrixCase(name: "pair source 5 MHz, shared clock, bases from detector names",
                       link: MatrixLink(kind: pair(5_000_000, 0.02), bases: .names, offsetPs: 0, frequencyErrorPpm: 0, shared: true),
                       seconds: 0.2, seed: 14, chunkSizes: [nil, 333]),
            MatrixCase(name: "heralded 1 MHz, shared clock, Z/X/Y markers",
                       link: MatrixLink(kind: .heralded(attemptRateHz: 1_000_000, alpha: 0.05),
                                        bases: .markers(a: zxy, b: zxy, periodPs: 1_000_000_000),
                                        offsetPs: 1_000_000, frequencyErrorPpm: 0, shared: true),
                       seconds: 1, seed: 15, chunkSizes: [nil, 7]),
            // Free-running lab B: offsets to ±10 ms, frequency errors to ±50 ppm, recovered with the defaults.
            MatrixCase(name: "pair source 20 MHz, +10 ms, +50 ppm, Z/X/Y markers",
                       link: MatrixLink(kind: pair(20_000_000, 0.05), bases: .markers(a: zxy, b: zxy, periodPs: 1_000_000_000),
                                        offsetPs: 9_999_000_000, frequencyErrorPpm: 50, shared: false),
                       seconds: 0.1, seed: 21),
            MatrixCase(name: "pair source 1 MHz, −10 ms, −50 ppm, CHSH markers",
                       link: MatrixLink(kind: pair(1_000_000, 0.02), bases: .markers(a: chshA, b: chshB, periodPs: 1_000_000_000),
                                        offsetPs: -9_999_000_000, frequencyErrorPpm: -50, shared: false),
                       seconds: 0.5, seed: 22),
            MatrixCase(name: "pair source 10 kHz, 2.5 ms, −20 ppm, Z/X markers",
                       link: MatrixLink(kind: pair(10_000, 1.0), bases: .markers(a: ["z", "x"], b: ["z", "x"], periodPs: 5_000_000_000),
                                        offsetPs: 2_500_000_000, frequencyErrorPpm: -20, shared: false),
                       seconds: 1, seed: 23),
            // Readouts without jitter on the attempt grid: the expected offset includes the B clock's rounding
            // (MatrixChecks.checkClock).
            MatrixCase(name: "heralded 5 MHz, −4 ms, +30 ppm, Z/X/Y markers",
                       link: MatrixLink(kind: .heralded(attemptRateHz: 5_000_000, alpha: 0.05),
                                        bases: .markers(a: zxy, b: zxy, periodPs: 1_000_000_000),
                                        offsetPs: -4_000_000_000, frequencyErrorPpm: 30, shared: false),
                       seconds: 0.5, seed: 24),
            // 100 kHz attempts (≈ 2 000 heralds/s): the readouts of both labs are all the clock recovery sees, every
            // lag on the 10 µs attempt grid (a comb of accidental peaks at 3.5 % of the true one).
            MatrixCase(name: "heralded 100 kHz, −9 ms, −50 ppm, Z/X markers",
                       link: MatrixLink(kind: .heralded(attemptRateHz: 100_000, alpha: 0.05),
                                        bases: .markers(a: ["z", "x"], b: ["z", "x"], periodPs: 1_000_000_000),
                                        offsetPs: -9_000_000_000, frequencyErrorPpm: -50, shared: false),
                       seconds: 5, seed: 27),
            MatrixCase(name: "heralded 100 kHz, +2 ms, +30 ppm, Z/X/Y markers",
                       link: MatrixLink(kind: .heralded(attemptRateHz: 100_000, alpha: 0.05),
                                        bases: .markers(a: zxy, b: zxy, periodPs: 1_000_000_000),
                                        offsetPs: 2_000_000_000, frequencyErrorPpm: 30, shared: false),
                       seconds: 5, seed: 28),
            // Low pair rates among high singles (dark counts): 2 000 and 1 000 pairs/s, signal ratio ≈ 10⁻².
            MatrixCase(name: "pair source 2 000 pairs/s among 200 kHz singles, +8 ms, −45 ppm, Z/X markers",
                       link: MatrixLink(kind: pair(80_000, 0.1), bases: .markers(a: ["z", "x"], b: ["z", "x"], periodPs: 5_000_000_000),
                                        offsetPs: 8_000_000_000, frequencyErrorPpm: -45, shared: false, darkCountRateHz: 100_000),
                       seconds: 2, seed: 31),
            MatrixCase(name: "pair source 1 000 pairs/s among 100 kHz singles, −9.9 ms, +50 ppm, Z/X markers",
                       link: MatrixLink(kind: pair(40_000, 0.1), bases: .markers(a: ["z", "x"], b: ["z", "x"], periodPs: 5_000_000_000),
                                        offsetPs: -9_900_000_000, frequencyErrorPpm: 50, shared: false, darkCountRateHz: 50_000),
                       seconds: 3, seed: 26),
        ]
    }()

    @Test("counts, E, F, S, CAR, offset and drift agree with the truth", arguments: cases)
    func matrix(_ row: MatrixCase) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-matrix-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let shipped = row.shipped.map { TestEnvironment.projectRoot.appendingPathComponent($0) }
        let runs = try MatrixRun.run(shipped: shipped, link: row.link, seconds: row.seconds, seed: row.seed,
                                     chunkSizes: row.chunkSizes, in: directory)
        let run = runs[0]
        // The same files read in other chunk sizes give the same counts.
        for other in runs.dropFirst() {
            #expect(other.snapshot.singles == run.snapshot.singles)
            #expect(other.snapshot.pairs.map(\.rawCoincidences) == run.snapshot.pairs.map(\.rawCoincidences))
            #expect(other.snapshot.bases.map(\.correlation) == run.snapshot.bases.map(\.correlation))
        }
        try MatrixChecks(run: run, link: row.link).checkAll()
    }
}
