import Correlation
import Foundation
import Testing

/// The `qlink` executable built next to the tests (skipped when it is not there).
let qlinkURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent(".build/debug/qlink")

/// Runs qlink with `arguments`; returns exit status, standard output and standard error.
func runQLink(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
    let process = Process()
    process.executableURL = qlinkURL
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let error = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
}

@Suite("qlink correlate end to end", .enabled(if: FileManager.default.isExecutableFile(atPath: qlinkURL.path), "qlink is not built at .build/debug"))
struct CorrelateCommandTests {
    /// Two labs' CSV files: Φ⁺ Werner pairs of visibility V at 5 kHz plus 5 kHz background per lab, bases cycled
    /// Z, X, Y every 0.4 s and announced by markers 1, 2, 3 in each lab's stream; lab B's clock runs
    /// `offset + drift·t` ahead, and B's minus detector has 1 ns more cable (declared as its delay).
    /// With `crossedBases`, nine segments in which lab A and lab B choose their bases independently (A cycles every
    /// segment, B every three), so all nine combinations of Z, X, Y are measured (tomography).
    static func writeLabs(in directory: URL, offsetPs: Double, driftPpm: Double, visibility: Double, crossedBases: Bool = false) throws {
        var rng = SeededGenerator(seed: 42)
        let segments = crossedBases ? 9 : 6
        let segmentPs = 0.4e12, durationPs = Double(segments) * segmentPs
        func basisB(_ s: Int) -> Int { crossedBases ? (s / 3) % 3 : s % 3 }
        let bClock: (Double) -> Double = { $0 + offsetPs + driftPpm * 1e-6 * $0 }
        var a: [(Int64, String)] = [], b: [(Int64, String)] = []
        for s in 0..<segments {
            let t = Double(s) * segmentPs
            a.append((Int64(t), "M\(1 + s % 3),\(Int64(t))"))
            b.append((Int64(bClock(t)), "M\(1 + basisB(s)),\(Int64(bClock(t)))"))
        }
        var t = 0.0
        while true {
            t += rng.nextExponential(mean: 1e12 / 5000)
            if t >= durationPs { break }
            let segment = Int(t / segmentPs), basis = segment % 3
            // Φ⁺: ZZ = XX = +1, YY = −1, and 0 for different bases.
            let e = basis != basisB(segment) ? 0 : basis == 2 ? -visibility : visibility
            let same = rng.nextUnit() < (1 + e) / 2
            let aPlus = rng.nextUnit() < 0.5
            let bPlus = same ? aPlus : !aPlus
            let ta = Int64(t + rng.nextGaussian() * 40)
            let tb = Int64(bClock(t + rng.nextGaussian() * 40 + (bPlus ? 0 : 1000)))
            a.append((ta, "\(aPlus ? 1 : 2),\(ta)"))
            b.append((tb, "\(bPlus ? 3 : 4),\(tb)"))
        }
        for _ in 0..<12_000 {
            let ta = Int64(rng.nextUnit() * durationPs), tb = Int64(bClock(rng.nextUnit() * durationPs))
            a.append((ta, "\(1 + Int(rng.next() % 2)),\(ta)"))
            b.append((tb, "\(3 + Int(rng.next() % 2)),\(tb)"))
        }
        for (name, events) in [("alice.csv", a), ("bob.csv", b)] {
            let text = "channel,time_ps\n" + events.sorted { $0.0 < $1.0 }.map(\.1).joined(separator: "\n") + "\n"
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let markers = "[{ marker: 1, basis: Z }, { marker: 2, basis: X }, { marker: 3, basis: Y }]"
        let config = """
        name: e2e
        security: { ca_certificate: ca.crt, certificate_store: certs }
        coordinator: { name: c, control_endpoint: "tcp://127.0.0.1:5550", publish_endpoint: "tcp://127.0.0.1:5551", certificate: c.crt, private_key: c.key }
        labs:
          - { name: alice, node: a, certificate: a.crt, private_key: a.key, detectors: [{ channel: 1, name: "+" }, { channel: 2, name: "-" }] }
          - { name: bob, node: b, certificate: b.crt, private_key: b.key, detectors: [{ channel: 3, name: "+" }, { channel: 4, name: "-", delay_ps: 1000 }] }
        correlation:
          window_ps: 300
          target_state: phi_plus
          bases:
            - { lab: alice, markers: \(markers) }
            - { lab: bob, markers: \(markers) }
        """
        try config.write(to: directory.appendingPathComponent("link.yaml"), atomically: true, encoding: .utf8)
    }

    @Test("two labs' files: offset, drift and fidelity recovered; bad input gives clear errors")
    func twoLabs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-correlate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let visibility = 0.9, offsetPs = 4.2e9, driftPpm = 2.0
        try Self.writeLabs(in: directory, offsetPs: offsetPs, driftPpm: driftPpm, visibility: visibility)
        let alice = directory.appendingPathComponent("alice.csv").path, bob = directory.appendingPathComponent("bob.csv").path
        let config = directory.appendingPathComponent("link.yaml").path
        let run = try runQLink(["correlate", alice, bob, "--config", config, "--json", "--log-level", "error",
                                "--svg", directory.appendingPathComponent("h.svg").path])
        #expect(run.status == 0, "\(run.error)")
        let summary = try JSONDecoder().decode(LinkAnalysisSnapshot.self, from: Data(run.output.utf8))
        let clock = try #require(summary.clock)
        let offset = try #require(clock.offsetPs), at = try #require(clock.atPs)
        // The offset refers to link time `at`: truth offset + drift · at, within 3σ (plus the ps of rounding).
        let truthOffset = offsetPs + driftPpm * 1e-6 * Double(at)
        #expect(clock.lock == .locked)
        #expect(abs(offset.value - truthOffset) < 3 * offset.standardError + 5, "offset \(offset) at \(at) vs \(truthOffset)")
        #expect(abs((summary.clock?.driftPpm?.value ?? 0) - driftPpm) < 0.05, "drift \(summary.clock?.driftPpm?.value ?? .nan)")
        let fidelity = try #require(summary.fidelity)
        let truth = (1 + 3 * visibility) / 4
        #expect(abs(fidelity.value - truth) < 3 * fidelity.standardError + 0.01, "F = \(fidelity), truth \(truth)")
        #expect(Set(summary.bases.map(\.basis)).isSuperset(of: ["ZZ", "XX", "YY"]))
        // Background is low (CAR ≫ 1): subtracting accidentals moves the fidelity by well under its error bar.
        let subtracted = try #require(summary.fidelityAccidentalSubtracted)
        #expect(subtracted.value >= fidelity.value && subtracted.value - fidelity.value < fidelity.standardError)
        #expect(abs((summary.clock?.residualRmsPs ?? 0) - 40 * 2.squareRoot()) < 10)
        #expect(summary.pairs.count == 4)
        #expect(summary.pairs.allSatisfy { abs($0.delayPs ?? 1e9) < 100 })   // the declared delay lines the peaks up
        let svg = try String(contentsOf: directory.appendingPathComponent("h.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg"))

        // A Poisson bootstrap gives a 95 % interval around the estimate whose width matches ±1.96 standard errors.
        let booted = try runQLink(["correlate", alice, bob, "--config", config, "--json", "--log-level", "error", "--bootstrap", "400"])
        #expect(booted.status == 0, "\(booted.error)")
        let bootSummary = try JSONDecoder().decode(LinkAnalysisSnapshot.self, from: Data(booted.output.utf8))
        let booted95 = try #require(bootSummary.fidelity)
        let low = try #require(booted95.bootstrapLow), high = try #require(booted95.bootstrapHigh)
        #expect(low < booted95.value && booted95.value < high)
        let width = (high - low) / (2 * 1.96 * booted95.standardError)
        #expect(width > 0.7 && width < 1.4, "bootstrap width / Poisson width = \(width)")
        #expect(summary.fidelity?.bootstrapLow == nil)

        let missing = try runQLink(["correlate", alice, directory.appendingPathComponent("nope.csv").path, "--pairs", "1:3"])
        #expect(missing.status == 1 && missing.error.contains("not found"))
        let badPairs = try runQLink(["correlate", alice, bob, "--pairs", "1-3"])
        #expect(badPairs.status != 0 && badPairs.error.contains("expected CHANNEL:CHANNEL"))
        let unknown = try runQLink(["correlate", alice, bob, "--config", config, "--pairs", "1:9"])
        #expect(unknown.status == 1 && unknown.error.contains("channel 9 is not a detector"))
    }

    @Test("--tomography: a Φ⁺ Werner state from all nine settings, raw and accidental-subtracted, JSON matrix, SVG; missing settings fail")
    func tomography() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-tomography-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let visibility = 0.9
        try Self.writeLabs(in: directory, offsetPs: 4.2e9, driftPpm: 2.0, visibility: visibility, crossedBases: true)
        let alice = directory.appendingPathComponent("alice.csv").path, bob = directory.appendingPathComponent("bob.csv").path
        let config = directory.appendingPathComponent("link.yaml").path, svg = directory.appendingPathComponent("rho.svg").path
        let run = try runQLink(["correlate", alice, bob, "--config", config, "--json", "--log-level", "error", "--tomography",
                                "--tomography-bootstrap", "50", "--tomography-svg", svg])
        #expect(run.status == 0, "\(run.error)")
        let summary = try JSONDecoder().decode(LinkAnalysisSnapshot.self, from: Data(run.output.utf8))
        let t = try #require(summary.tomography?.first)
        #expect(t.heraldedState == nil && t.result.settings.count == 9)
        let raw = t.result.raw
        let f = raw.estimate(\.fidelityToTarget)
        #expect(f.standardError > 0 && abs(f.value - (1 + 3 * visibility) / 4) < 4 * f.standardError + 0.01, "F = \(f)")
        #expect(raw.rho.re.count == 16 && raw.rho.im.count == 16 && abs(raw.rho.trace - 1) < 1e-12)
        #expect(t.result.accidentalSubtracted != nil)
        let picture = try String(contentsOf: URL(fileURLWithPath: svg), encoding: .utf8)
        #expect(picture.hasPrefix("<svg") && picture.contains("Re ρ") && picture.contains("Im ρ"))
        let text = try runQLink(["correlate", alice, bob, "--config", config, "--log-level", "error", "--tomography", "--tomography-bootstrap", "20"])
        #expect(text.status == 0 && text.output.contains("Tomography (all coincidences) concurrence") && text.output.contains(" | "))

        // The ordinary files measure only ZZ, XX and YY: tomography fails and says what is missing.
        let plain = directory.appendingPathComponent("plain")
        try FileManager.default.createDirectory(at: plain, withIntermediateDirectories: true)
        try Self.writeLabs(in: plain, offsetPs: 4.2e9, driftPpm: 2.0, visibility: visibility)
        let failed = try runQLink(["correlate", plain.appendingPathComponent("alice.csv").path, plain.appendingPathComponent("bob.csv").path,
                                   "--config", plain.appendingPathComponent("link.yaml").path, "--log-level", "error", "--tomography"])
        #expect(failed.status == 1 && failed.error.contains("seen ZZ, XX, YY") && failed.error.contains("missing: ZX, ZY"), "\(failed.error)")
    }
}
