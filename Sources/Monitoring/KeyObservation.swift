import Correlation
import Foundation
import LinkModel
import Planner

extension LinkObservation {
    /// Adds the measured QBER (raw counts, Z and X, from the live analysis `snapshot`) and the measured secret key
    /// rate: Σ over the sifted bases b of (sifted coincidence rate of b) × max(0, 1 − f·h(e_b) − h(e_other))
    /// (`KeyRate`, the planner's asymptotic BBM92 key; docs/monitoring.md). The standard error propagates the
    /// Poisson error of the sifted rates and the QBERs' errors to first order. Both are over the analysed run.
    /// On a heralded link the QBER of each basis pools the herald states, each against its own Bell state, so the key
    /// rate counts the heralds whose readouts both labs recorded in the same basis; the per-state QBERs go to
    /// ``LinkObservation/heraldedQber``.
    public mutating func addKey(from snapshot: LinkAnalysisSnapshot, settings: KeySettings = KeySettings()) {
        var perState: [String: [String: Estimate]] = [:]
        for result in snapshot.heralded {
            for q in result.qber ?? [] where q.countBasis == .raw {
                perState[Self.heraldLabel(result.state), default: [:]][q.basis.lowercased()] = q.qber
            }
        }
        if !perState.isEmpty { heraldedQber = perState }
        let raw = snapshot.qber.filter { $0.countBasis == .raw }
        guard !raw.isEmpty else { return }
        qber = Dictionary(raw.map { ($0.basis.lowercased(), $0.qber) }, uniquingKeysWith: { first, _ in first })
        guard let z = raw.first(where: { $0.basis == "Z" }), let x = raw.first(where: { $0.basis == "X" }) else { return }
        let seconds = Double(snapshot.durationPs) * 1e-12
        guard seconds > 0 else { return }
        let f = settings.errorCorrectionEfficiency
        // h′(e) = log₂((1 − e)/e), kept finite at the edges.
        func slope(_ e: Double) -> Double { let c = min(max(e, 1e-9), 1 - 1e-9); return log2((1 - c) / c) }
        var value = 0.0, variance = 0.0, dEz = 0.0, dEx = 0.0
        for (key, other) in [(z, x), (x, z)] {
            let r = KeyRate.secretFraction(bitError: key.qber.value, phaseError: other.qber.value, errorCorrectionEfficiency: f)
            guard r > 0 else { continue }
            value += key.siftedRateHz * r
            variance += pow(r * max(key.siftedCoincidences, 0).squareRoot() / seconds, 2)
            let dKey = -key.siftedRateHz * f * slope(key.qber.value), dOther = -key.siftedRateHz * slope(other.qber.value)
            if key.basis == "Z" { dEz += dKey; dEx += dOther } else { dEx += dKey; dEz += dOther }
        }
        variance += pow(dEz * z.qber.standardError, 2) + pow(dEx * x.qber.standardError, 2)
        keyRateBitsPerS = Estimate(value, standardError: variance.squareRoot())
    }
}

extension LinkObservation {
    /// The label of a heralded state in metrics and observations: `psi_plus`, `psi_minus` (as `qlink_heralds_total`).
    static func heraldLabel(_ state: BellState) -> String {
        switch state {
        case .psiPlus: "psi_plus"
        case .psiMinus: "psi_minus"
        case .phiPlus: "phi_plus"
        case .phiMinus: "phi_minus"
        }
    }
}

extension PlannedPrediction {
    /// The planner's QBER and key rate as `basis → QBER` (`z`, `x`), for showing beside the measured ones.
    public var qberByBasis: [String: Double] {
        var result: [String: Double] = [:]
        if let qberZ { result["z"] = qberZ }
        if let qberX { result["x"] = qberX }
        return result
    }
}
