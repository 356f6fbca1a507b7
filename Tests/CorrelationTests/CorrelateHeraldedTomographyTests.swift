import Correlation
import Foundation
import LinkModel
import Testing

/// `qlink correlate --tomography` on a heralded link: one state per herald type, each against its own truth.
@Suite("qlink correlate --tomography per herald state", .enabled(if: FileManager.default.isExecutableFile(atPath: qlinkURL.path), "qlink is not built at .build/debug"))
struct CorrelateHeraldedTomographyTests {
    /// Heralded Werner states of visibility `visibility[state]` (ψ⁺ and ψ⁻ heralds, Barrett–Kok patterns on station
    /// channels 10 and 11 as in ``HeraldedExperiment``), the labs' readouts on channels 1/2 (A) and 3/4 (B), each lab
    /// choosing Z, X or Y independently at random every 100 µs (markers 1–3 for A, 4–6 for B), so all nine setting
    /// pairs are measured: one file holding both labs and the station, and its configuration.
    static func write(in directory: URL, attempts: Int, visibility: [BellState: Double]) throws {
        var rng = SeededGenerator(seed: 1_616)
        let segmentPs: Int64 = 100_000_000, spacing: Int64 = 2_000_000, bin = HeraldedExperiment.timeBinPs
        var lines: [(Int64, String)] = []
        var segment: Int64 = -1, basisA = 0, basisB = 0
        for k in 0..<attempts {
            let t = Int64(k) * spacing + 10_000
            if t / segmentPs != segment {
                segment = t / segmentPs
                basisA = Int(rng.next() % 3); basisB = Int(rng.next() % 3)
                lines.append((segment * segmentPs, "M\(1 + basisA),\(segment * segmentPs)"))
                lines.append((segment * segmentPs + 5, "M\(4 + basisB),\(segment * segmentPs + 5)"))
            }
            if rng.nextUnit() < 0.3 {
                // Failed attempt: one station click, one stray lab click.
                lines.append((t, "\(rng.nextUnit() < 0.5 ? 10 : 11),\(t)"))
                let stray = t + 2000 + Int64(rng.nextGaussian() * 50)
                lines.append((stray, "\(rng.nextUnit() < 0.5 ? 1 : 2),\(stray)"))
                continue
            }
            let state: BellState = rng.nextUnit() < 0.5 ? .psiPlus : .psiMinus
            let first = rng.nextUnit() < 0.5 ? 10 : 11
            let second = state == .psiPlus ? first : 21 - first
            let t2 = t + bin + Int64(rng.nextGaussian() * 40)
            lines.append((t, "\(first),\(t)")); lines.append((t2, "\(second),\(t2)"))
            // Werner state: E = V·s in equal bases, 0 in different ones; uniform marginals.
            let signs = [state.signs.z, state.signs.x, state.signs.y]
            let e = basisA == basisB ? (visibility[state] ?? 1) * signs[basisA] : 0
            let aPlus = rng.nextUnit() < 0.5
            let bPlus = rng.nextUnit() < (1 + e) / 2 ? aPlus : !aPlus
            let ta = t + 2000 + Int64(rng.nextGaussian() * 50), tb = t + 3000 + Int64(rng.nextGaussian() * 50)
            lines.append((ta, "\(aPlus ? 1 : 2),\(ta)")); lines.append((tb, "\(bPlus ? 3 : 4),\(tb)"))
        }
        let text = "channel,time_ps\n" + lines.sorted { $0.0 < $1.0 }.map(\.1).joined(separator: "\n") + "\n"
        try text.write(to: directory.appendingPathComponent("link.csv"), atomically: true, encoding: .utf8)
        let config = """
        name: heralded-tomography
        security: { ca_certificate: ca.crt, certificate_store: certs }
        coordinator: { name: c, control_endpoint: "tcp://127.0.0.1:5550", publish_endpoint: "tcp://127.0.0.1:5551", certificate: c.crt, private_key: c.key }
        labs:
          - { name: alice, node: a, certificate: a.crt, private_key: a.key, detectors: [{ channel: 1, name: "+" }, { channel: 2, name: "-" }, { channel: 10, name: D0 }, { channel: 11, name: D1 }] }
          - { name: bob, node: b, certificate: b.crt, private_key: b.key, detectors: [{ channel: 3, name: "+" }, { channel: 4, name: "-" }] }
        correlation:
          window_ps: 300
          target_state: psi_minus
          bases:
            - { lab: alice, markers: [{ marker: 1, basis: Z }, { marker: 2, basis: X }, { marker: 3, basis: Y }] }
            - { lab: bob, markers: [{ marker: 4, basis: Z }, { marker: 5, basis: X }, { marker: 6, basis: Y }] }
          heralds:
            patterns:
              - { state: psi_plus, channel: 10, requires: [{ channel: 10, lower_ps: \(bin - 1000), upper_ps: \(bin + 1000) }] }
              - { state: psi_plus, channel: 11, requires: [{ channel: 11, lower_ps: \(bin - 1000), upper_ps: \(bin + 1000) }] }
              - { state: psi_minus, channel: 10, requires: [{ channel: 11, lower_ps: \(bin - 1000), upper_ps: \(bin + 1000) }] }
              - { state: psi_minus, channel: 11, requires: [{ channel: 10, lower_ps: \(bin - 1000), upper_ps: \(bin + 1000) }] }
            window_a: { lower_ps: 1500, upper_ps: 2500 }
            window_b: { lower_ps: 2500, upper_ps: 3500 }
        """
        try config.write(to: directory.appendingPathComponent("link.yaml"), atomically: true, encoding: .utf8)
    }

    /// ρ = V|ψ⟩⟨ψ| + (1 − V)·I/4.
    static func werner(_ state: BellState, visibility: Double) -> ComplexMatrix4 {
        ComplexMatrix4.pure(re: state.amplitudes, im: [0, 0, 0, 0]).scaled(visibility) + ComplexMatrix4.identity.scaled((1 - visibility) / 4)
    }

    @Test("ψ⁺ and ψ⁻ heralds each give their own state: fidelity to the herald state within 3σ of the truth, trace distance to the true state within the bootstrap's spread, one SVG per state")
    func perHeraldState() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-heralded-tomography-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let visibility: [BellState: Double] = [.psiPlus: 0.9, .psiMinus: 0.75]
        try Self.write(in: directory, attempts: 40_000, visibility: visibility)
        let svg = directory.appendingPathComponent("rho.svg").path
        let run = try runQLink(["correlate", directory.appendingPathComponent("link.csv").path, "--config",
                                directory.appendingPathComponent("link.yaml").path, "--json", "--log-level", "error",
                                "--tomography", "--tomography-bootstrap", "100", "--tomography-svg", svg])
        #expect(run.status == 0, "\(run.error)")
        let summary = try JSONDecoder().decode(LinkAnalysisSnapshot.self, from: Data(run.output.utf8))
        let tomography = try #require(summary.tomography)
        #expect(tomography.map(\.heraldedState) == [.psiPlus, .psiMinus])
        for t in tomography {
            let state = try #require(t.heraldedState)
            let v = try #require(visibility[state])
            #expect(t.result.target == state && t.result.settings.count == 9 && t.result.accidentalSubtracted == nil)
            #expect(t.result.raw.totalCounts > 9 * 500, "\(state): \(t.result.raw.totalCounts) counts")
            let f = t.result.raw.estimate(\.fidelityToTarget)
            #expect(f.standardError > 0 && abs(f.value - (1 + 3 * v) / 4) <= 3 * f.standardError, "\(state): F \(f), truth \((1 + 3 * v) / 4)")
            let distance = t.result.raw.rho.traceDistance(to: Self.werner(state, visibility: v))
            let spread = try #require(t.result.raw.reconstructionError?.traceDistance)
            #expect(distance <= spread.mean + 3 * spread.standardDeviation, "\(state): T to the truth \(distance), bootstrap \(spread)")
            let picture = try String(contentsOf: directory.appendingPathComponent("rho-\(state.rawValue).svg"), encoding: .utf8)
            #expect(picture.contains("heralded \(state.rawValue)"))
        }
    }
}
