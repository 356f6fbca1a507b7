import Foundation
import LinkModel

/// A single-qubit operator, row-major [m₀₀, m₀₁, m₁₀, m₁₁].
struct QubitGate: Sendable {
    var m: [Complex]

    static let identity = QubitGate(m: [.one, .zero, .zero, .one])
    static let x = QubitGate(m: [.zero, .one, .one, .zero])
    static let y = QubitGate(m: [.zero, Complex(0, -1), Complex(0, 1), .zero])
    static let z = QubitGate(m: [.one, .zero, .zero, Complex(-1)])
    /// The four Paulis I, X, Y, Z.
    static let paulis = [identity, x, y, z]
    /// Rx(π/2) = (I − iX)/√2.
    static let rxHalfPi: QubitGate = {
        let h = 1 / 2.0.squareRoot()
        return QubitGate(m: [Complex(h), Complex(0, -h), Complex(0, -h), Complex(h)])
    }()
    /// Rz(π/2) = diag(e^{−iπ/4}, e^{iπ/4}).
    static let rzHalfPi = QubitGate(m: [.phase(-Double.pi / 4), .zero, .zero, .phase(Double.pi / 4)])

    /// The product self·other.
    func times(_ other: QubitGate) -> QubitGate {
        var out = [Complex](repeating: .zero, count: 4)
        for r in 0..<2 { for c in 0..<2 { for k in 0..<2 { out[2 * r + c] += m[2 * r + k] * other.m[2 * k + c] } } }
        return QubitGate(m: out)
    }

    /// Entry-wise complex conjugate.
    var conjugate: QubitGate { QubitGate(m: m.map(\.conjugate)) }
    /// The adjoint.
    var adjoint: QubitGate { QubitGate(m: [m[0].conjugate, m[2].conjugate, m[1].conjugate, m[3].conjugate]) }
}

/// Two-qubit operations on a pair's density matrix (lab A's qubit first, ``ComplexMatrix4``), written from the
/// circuits: local gates as Kronecker products, memory dephasing on the coherences of one qubit, and the
/// bilateral CNOT with the target pair measured in Z.
extension ComplexMatrix4 {
    /// The operator a ⊗ b.
    static func local(_ a: QubitGate, _ b: QubitGate) -> ComplexMatrix4 {
        var out = ComplexMatrix4.zero
        for i in 0..<2 { for j in 0..<2 { for k in 0..<2 { for l in 0..<2 {
            out[complex: 2 * i + j, 2 * k + l] = a.m[2 * i + k] * b.m[2 * j + l]
        } } } }
        return out
    }

    /// G ⊗ G*: lab A applies `gate`, lab B its complex conjugate. It keeps |Φ⁺⟩ and maps the error Pauli P of
    /// the Bell state (P ⊗ I)|Φ⁺⟩ to G P G†: the labs' way to relabel the three error Bell states.
    static func bilateral(_ gate: QubitGate) -> ComplexMatrix4 { local(gate, gate.conjugate) }

    /// U ρ U†.
    func conjugated(by unitary: ComplexMatrix4) -> ComplexMatrix4 { unitary * self * unitary.adjoint }

    /// The state after lab A's qubit kept `factorA` and lab B's `factorB` of its coherence (phase damping: the
    /// entries between different values of that qubit shrink).
    func dephased(factorA: Double, factorB: Double) -> ComplexMatrix4 {
        var out = self
        for r in 0..<4 {
            for c in 0..<4 {
                var factor = 1.0
                if (r >> 1) != (c >> 1) { factor *= factorA }
                if (r & 1) != (c & 1) { factor *= factorB }
                out.re[4 * r + c] *= factor
                out.im[4 * r + c] *= factor
            }
        }
        return out
    }

    /// The bilateral CNOT from this pair (the source, kept) onto `target` (each lab's qubit of this pair controls
    /// its qubit of `target`), then both labs measure their target qubit in Z. For outcome m = 2·m_A + m_B the
    /// unnormalised state of the source pair is σ_m(s, s′) = ρ(s, s′)·τ(m ⊕ s, m ⊕ s′) (the CNOTs map
    /// |s, t⟩ to |s, t ⊕ s⟩); its trace is the outcome's probability.
    /// - Returns: σ₀ … σ₃.
    func bilateralCNOTMeasured(target: ComplexMatrix4) -> [ComplexMatrix4] {
        (0..<4).map { m in
            var sigma = ComplexMatrix4.zero
            for s in 0..<4 {
                for t in 0..<4 {
                    sigma[complex: s, t] = self[complex: s, t] * target[complex: m ^ s, m ^ t]
                }
            }
            return sigma
        }
    }

    /// The Bell-state weights (⟨Φ⁺|ρ|Φ⁺⟩, ⟨Ψ⁻|ρ|Ψ⁻⟩, ⟨Ψ⁺|ρ|Ψ⁺⟩, ⟨Φ⁻|ρ|Φ⁻⟩) of a normalised state.
    var bellWeights: [Double] {
        [BellState.phiPlus, .psiMinus, .psiPlus, .phiMinus].map { expectation(ofPure: $0.amplitudes.map { Complex($0) }) }
    }

    /// The Bell-diagonal state with weights (Φ⁺, Ψ⁻, Ψ⁺, Φ⁻).
    static func bellDiagonal(_ weights: [Double]) -> ComplexMatrix4 {
        zip([BellState.phiPlus, .psiMinus, .psiPlus, .phiMinus], weights).reduce(ComplexMatrix4.zero) {
            $0 + ComplexMatrix4.bell($1.0).scaled($1.1)
        }
    }
}
