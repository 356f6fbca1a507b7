import Correlation
import Foundation
import Planner
import Testing
@testable import Monitoring

/// The measured QBER and secret key rate taken from the live analysis, beside the planner's (docs/monitoring.md).
@Suite("Measured QBER and key rate beside the planned ones")
struct KeyObservationTests {
    /// 10 s of analysis: Z sifted at 1 kHz with 2 % errors, X at 800 Hz with 4 %, plus accidental-subtracted rows.
    static func snapshot() -> LinkAnalysisSnapshot {
        var snapshot = LinkAnalysisSnapshot(durationPs: 10_000_000_000_000)
        snapshot.qber = [
            QBERResult(basis: "Z", countBasis: .raw, qber: Estimate(0.02, standardError: 0.0014), siftedCoincidences: 10_000, siftedRateHz: 1_000),
            QBERResult(basis: "Z", countBasis: .accidentalSubtracted, qber: Estimate(0.015, standardError: 0.0014),
                       siftedCoincidences: 9_900, siftedRateHz: 990),
            QBERResult(basis: "X", countBasis: .raw, qber: Estimate(0.04, standardError: 0.0022), siftedCoincidences: 8_000, siftedRateHz: 800),
        ]
        return snapshot
    }

    /// Σ over the bases of sifted rate × max(0, 1 − f h(e_key) − h(e_other)).
    static func rate(z: Double, x: Double, rateZ: Double = 1_000, rateX: Double = 800) -> Double {
        let h = KeyRate.binaryEntropy
        return rateZ * max(0, 1 - 1.1 * h(z) - h(x)) + rateX * max(0, 1 - 1.1 * h(x) - h(z))
    }

    @Test("the key rate is the sifted rates times the secret fractions of the raw QBERs, with first-order errors")
    func keyRate() throws {
        var observation = LinkObservation(timePs: 0)
        observation.addKey(from: Self.snapshot())
        let qber = try #require(observation.qber)
        #expect(qber["z"] == Estimate(0.02, standardError: 0.0014))
        #expect(qber["x"] == Estimate(0.04, standardError: 0.0022))
        let key = try #require(observation.keyRateBitsPerS)
        #expect(abs(key.value - Self.rate(z: 0.02, x: 0.04)) < 1e-9)
        // The error against numerical derivatives: Poisson on the sifted counts, then the two QBERs.
        let step = 1e-7
        let dz = (Self.rate(z: 0.02 + step, x: 0.04) - Self.rate(z: 0.02 - step, x: 0.04)) / (2 * step)
        let dx = (Self.rate(z: 0.02, x: 0.04 + step) - Self.rate(z: 0.02, x: 0.04 - step)) / (2 * step)
        let h = KeyRate.binaryEntropy
        let rZ = 1 - 1.1 * h(0.02) - h(0.04), rX = 1 - 1.1 * h(0.04) - h(0.02)
        let poisson = pow(rZ * 100 / 10, 2) + pow(rX * 8_000.0.squareRoot() / 10, 2)
        let expected = (poisson + pow(dz * 0.0014, 2) + pow(dx * 0.0022, 2)).squareRoot()
        #expect(abs(key.standardError - expected) / expected < 1e-5, "\(key.standardError) vs \(expected)")
    }

    @Test("without both bases there is a QBER but no key rate; above the threshold the key rate is zero")
    func partial() throws {
        var snapshot = Self.snapshot()
        snapshot.qber.removeAll { $0.basis == "X" }
        var observation = LinkObservation(timePs: 0)
        observation.addKey(from: snapshot)
        #expect(observation.qber?["z"] != nil)
        #expect(observation.keyRateBitsPerS == nil)
        snapshot.qber = Self.snapshot().qber.map { var q = $0; q.qber.value = 0.2; return q }
        observation.addKey(from: snapshot)
        #expect(observation.keyRateBitsPerS?.value == 0)
        var empty = LinkObservation(timePs: 0)
        empty.addKey(from: LinkAnalysisSnapshot(durationPs: 1))
        #expect(empty.qber == nil && empty.keyRateBitsPerS == nil)
    }

    @Test("qlink status prints the measured QBER and key rate with the planned ones; the metrics carry both")
    func shown() throws {
        var observation = LinkObservation(timePs: 10_000_000_000_000)
        observation.addKey(from: Self.snapshot())
        let planned = PlannedPrediction(pairRateHz: 2_000, fidelity: 0.96, qberZ: 0.021, qberX: 0.039, keyRateBitsPerS: 700)
        let status = LinkStatus(link: "loopback", state: "running", role: "coordinator", timePs: observation.timePs, uptimeSeconds: 10,
                                observation: observation, planned: planned)
        let text = StatusText.render(status)
        #expect(text.contains("QBER:          Z 0.0200 ± 0.0014 (planned 0.0210) · X 0.0400 ± 0.0022 (planned 0.0390)"), "\(text)")
        let keyLine = try #require(text.split(separator: "\n").first { $0.contains("secret key:") })
        #expect(keyLine.contains(String(format: "%.4g", Self.rate(z: 0.02, x: 0.04))) && keyLine.contains("(planned 700 bit/s)"), "\(keyLine)")
        // The status JSON carries them too.
        let json = String(decoding: try JSONEncoder().encode(status), as: UTF8.self)
        #expect(json.contains("\"keyRateBitsPerS\"") && json.contains("\"qberZ\""))
        let metrics = LinkMetrics(link: "loopback", role: "coordinator")
        metrics.update(with: observation)
        metrics.setPlanned(planned)
        let exposition = metrics.exposition()
        #expect(exposition.contains("qlink_qber{basis=\"z\"} 0.02"))
        #expect(exposition.contains("qlink_planned_qber{basis=\"x\"} 0.039"))
        #expect(exposition.contains("qlink_planned_secret_key_rate_hertz 700"))
        #expect(exposition.contains("qlink_secret_key_rate_hertz "))
    }
}
