import Foundation
import LinkModel

/// The simulator's Born rule on the shared two-qubit state ``ComplexMatrix4`` (basis |00⟩, |01⟩, |10⟩, |11⟩
/// with lab A's qubit first). The arithmetic runs on ``Complex`` entries in a fixed order so that the outcome
/// tables the generators draw from, and with them every seeded run, stay bit for bit what they are.
extension ComplexMatrix4 {
    /// ⟨ψ|ρ|ψ⟩ for four complex amplitudes.
    public func expectation(ofPure amplitudes: [Complex]) -> Double {
        var sum = Complex.zero
        for r in 0..<4 { for c in 0..<4 { sum += amplitudes[r].conjugate * self[complex: r, c] * amplitudes[c] } }
        return sum.re
    }

    /// Fidelity with a Bell state, ⟨Ψ|ρ|Ψ⟩ (ρ normalised first).
    public func fidelity(with state: BellState) -> Double {
        normalized.expectation(ofPure: state.amplitudes.map { Complex($0) })
    }

    /// Cumulative outcome probabilities (P₀, P₀+P₁, P₀+P₁+P₂) for every pair of `basesA` × `basesB`,
    /// in that order: the table the generators draw joint outcomes from with one uniform number.
    func cumulativeOutcomeTable(basesA: [MeasurementBasis], basesB: [MeasurementBasis]) -> [Double] {
        var table: [Double] = []
        for a in basesA {
            for b in basesB {
                let p = outcomeProbabilities(basisA: a, basisB: b)
                table += [p[0], p[0] + p[1], p[0] + p[1] + p[2]]
            }
        }
        return table
    }

    /// Born-rule probabilities of the four joint outcomes (index 2·a + b, a and b the outcome
    /// indices 0 ↔ +1, 1 ↔ −1) when lab A measures `basisA` and lab B `basisB`.
    public func outcomeProbabilities(basisA: MeasurementBasis, basisB: MeasurementBasis) -> [Double] {
        let rho = normalized
        var result = [Double](repeating: 0, count: 4)
        for a in 0..<2 {
            let (a0, a1) = basisA.eigenvector(outcome: a)
            for b in 0..<2 {
                let (b0, b1) = basisB.eigenvector(outcome: b)
                // |a⟩ ⊗ |b⟩ in the |00⟩, |01⟩, |10⟩, |11⟩ basis.
                let product = [a0 * b0, a0 * b1, a1 * b0, a1 * b1]
                result[2 * a + b] = max(0, rho.expectation(ofPure: product))
            }
        }
        let total = result.reduce(0, +)
        return total > 0 ? result.map { $0 / total } : [0.25, 0.25, 0.25, 0.25]
    }

    /// The correlator E(a, b) = P(same) − P(different) for the two bases.
    public func correlation(basisA: MeasurementBasis, basisB: MeasurementBasis) -> Double {
        let p = outcomeProbabilities(basisA: basisA, basisB: basisB)
        return p[0] + p[3] - p[1] - p[2]
    }

    /// The CHSH value S = max over the position of the minus sign of
    /// |E(a,b) + E(a,b') + E(a',b) + E(a',b') − 2E(·)| for analyser settings a, a' (lab A) and
    /// b, b' (lab B).
    public func chshValue(basesA: [MeasurementBasis], basesB: [MeasurementBasis]) -> Double? {
        guard basesA.count == 2, basesB.count == 2 else { return nil }
        let e = [
            correlation(basisA: basesA[0], basisB: basesB[0]), correlation(basisA: basesA[0], basisB: basesB[1]),
            correlation(basisA: basesA[1], basisB: basesB[0]), correlation(basisA: basesA[1], basisB: basesB[1]),
        ]
        let total = e.reduce(0, +)
        return (0..<4).map { abs(total - 2 * e[$0]) }.max()
    }
}

/// Codes a ``ComplexMatrix4`` in ground truth as `{"entries": [{"re", "im"} × 16]}` (row-major), the shape
/// `ground_truth.json` has always had.
@propertyWrapper
public struct EntriesCoded: Sendable, Equatable, Codable {
    /// The state.
    public var wrappedValue: ComplexMatrix4

    /// Wraps `wrappedValue`.
    public init(wrappedValue: ComplexMatrix4) { self.wrappedValue = wrappedValue }

    private enum CodingKeys: String, CodingKey { case entries }

    /// Decodes 16 `{re, im}` entries.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let entries = try container.decode([Complex].self, forKey: .entries)
        guard entries.count == 16 else {
            throw DecodingError.dataCorruptedError(forKey: .entries, in: container, debugDescription: "a two-qubit state has 16 entries, not \(entries.count)")
        }
        wrappedValue = ComplexMatrix4(entries: entries)
    }

    /// Encodes the 16 entries as `{re, im}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(wrappedValue.entries, forKey: .entries)
    }
}
