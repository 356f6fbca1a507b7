import Foundation

/// The four Bell states. Basis order |q_A q_B⟩: |00⟩, |01⟩, |10⟩, |11⟩.
public enum BellState: String, Sendable, Codable, CaseIterable {
    /// |Φ+⟩ = (|00⟩ + |11⟩)/√2.
    case phiPlus
    /// |Φ−⟩ = (|00⟩ − |11⟩)/√2.
    case phiMinus
    /// |Ψ+⟩ = (|01⟩ + |10⟩)/√2.
    case psiPlus
    /// |Ψ−⟩ = (|01⟩ − |10⟩)/√2.
    case psiMinus

    /// State amplitudes on |00⟩, |01⟩, |10⟩, |11⟩.
    public var amplitudes: [Complex] {
        let h = 1 / 2.0.squareRoot()
        switch self {
        case .phiPlus: return [Complex(h), .zero, .zero, Complex(h)]
        case .phiMinus: return [Complex(h), .zero, .zero, Complex(-h)]
        case .psiPlus: return [.zero, Complex(h), Complex(h), .zero]
        case .psiMinus: return [.zero, Complex(h), Complex(-h), .zero]
        }
    }
}

/// A two-qubit density matrix (4×4, row-major, basis |00⟩, |01⟩, |10⟩, |11⟩ with lab A's qubit
/// first). Outcome statistics of the simulator are computed from it with the Born rule.
public struct TwoQubitDensityMatrix: Sendable, Equatable, Codable {
    /// The 16 entries, row-major: `entries[4 * row + column]`.
    public var entries: [Complex]

    /// A matrix from 16 row-major entries (not checked for positivity); any other number of
    /// entries gives the zero matrix.
    public init(entries: [Complex]) {
        self.entries = entries.count == 16 ? entries : [Complex](repeating: .zero, count: 16)
    }

    /// The all-zero matrix (used to accumulate unnormalised states).
    public static var zero: TwoQubitDensityMatrix { TwoQubitDensityMatrix(entries: []) }

    /// The pure state |ψ⟩⟨ψ| for four amplitudes.
    public static func pure(_ amplitudes: [Complex]) -> TwoQubitDensityMatrix {
        var m = TwoQubitDensityMatrix.zero
        for r in 0..<4 { for c in 0..<4 { m[r, c] = amplitudes[r] * amplitudes[c].conjugate } }
        return m
    }

    /// The Werner-type state ρ = V|Ψ⟩⟨Ψ| + (1 − V) I/4 for a Bell state and visibility V.
    public static func werner(_ state: BellState, visibility: Double) -> TwoQubitDensityMatrix {
        var m = pure(state.amplitudes).scaled(by: visibility)
        for d in 0..<4 { m[d, d] += Complex((1 - visibility) / 4) }
        return m
    }

    /// Entry at `row`, `column`.
    public subscript(row: Int, column: Int) -> Complex {
        get { entries[4 * row + column] }
        set { entries[4 * row + column] = newValue }
    }

    /// The trace (real part).
    public var trace: Double { (0..<4).reduce(0) { $0 + self[$1, $1].re } }

    /// Every entry times `factor`.
    public func scaled(by factor: Double) -> TwoQubitDensityMatrix {
        TwoQubitDensityMatrix(entries: entries.map { factor * $0 })
    }

    /// The matrix divided by its trace (unchanged when the trace is not positive).
    public var normalized: TwoQubitDensityMatrix {
        let t = trace
        return t > 0 ? scaled(by: 1 / t) : self
    }

    /// ⟨ψ|ρ|ψ⟩ for four amplitudes.
    public func expectation(ofPure amplitudes: [Complex]) -> Double {
        var sum = Complex.zero
        for r in 0..<4 { for c in 0..<4 { sum += amplitudes[r].conjugate * self[r, c] * amplitudes[c] } }
        return sum.re
    }

    /// Fidelity with a Bell state, ⟨Ψ|ρ|Ψ⟩ (ρ normalised first).
    public func fidelity(with state: BellState) -> Double {
        normalized.expectation(ofPure: state.amplitudes)
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
}

extension TwoQubitDensityMatrix {
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
