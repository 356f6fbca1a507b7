import LinkModel

/// What a two-qubit density matrix says about entanglement: fidelities, purity, concurrence, negativity, the
/// maximal CHSH value and the spectrum. Computed from any Hermitian trace-one matrix (for an unphysical one the
/// numbers are not meaningful; ``TwoQubitTomography`` computes them from the maximum-likelihood state only).
public struct TomographyQuantities: Sendable, Codable, Equatable {
    /// ⟨Ψ|ρ|Ψ⟩ for the target Bell state.
    public var fidelityToTarget: Double
    /// The fidelity to the closest maximally entangled state (the fully entangled fraction), maximised over
    /// local unitaries in closed form: `(1 + s₁ + s₂ − sign(det T)·s₃)/4`, `sᵢ` the singular values of the
    /// correlation matrix `T_ij = Tr(ρ σ_i⊗σ_j)` (i, j ∈ X, Y, Z).
    public var fidelityMaxEntangled: Double
    /// Tr ρ².
    public var purity: Double
    /// Wootters' concurrence `max(0, λ₁ − λ₂ − λ₃ − λ₄)`, λ the decreasing square roots of the eigenvalues of
    /// `√ρ ρ̃ √ρ`, `ρ̃ = (σ_y⊗σ_y) ρ* (σ_y⊗σ_y)`.
    public var concurrence: Double
    /// The negativity `Σ |negative eigenvalues of ρ^{T_B}|` (0.5 for a Bell state).
    public var negativity: Double
    /// Horodecki's maximal CHSH value over all settings, `2√(m₁ + m₂)`, m the two largest eigenvalues of TᵀT.
    public var chshMax: Double
    /// Eigenvalues of ρ, descending.
    public var eigenvalues: [Double]

    /// The quantities of `rho` with fidelity to `target`.
    public init(rho: ComplexMatrix4, target: BellState) {
        let stokes = StokesParameters.parameters(rho)
        fidelityToTarget = rho.expectation(re: target.amplitudes, im: [0, 0, 0, 0])
        purity = zip(rho.re, rho.im).reduce(0) { $0 + $1.0 * $1.0 + $1.1 * $1.1 }
        // Correlation matrix T (3×3) and TᵀT.
        let t: [Double] = (0..<9).map { (k: Int) -> Double in stokes[4 * (1 + k / 3) + 1 + k % 3] }
        var ttt = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { ttt[3 * i + j] += t[3 * k + i] * t[3 * k + j] } } }
        let m = SymmetricEigen.jacobi(ttt, n: 3).values.map { max(0, $0) }.sorted(by: >)
        let singular = m.map { $0.squareRoot() }
        let minor0: Double = t[4] * t[8] - t[5] * t[7]
        let minor1: Double = t[3] * t[8] - t[5] * t[6]
        let minor2: Double = t[3] * t[7] - t[4] * t[6]
        let det: Double = t[0] * minor0 - t[1] * minor1 + t[2] * minor2
        fidelityMaxEntangled = (1 + singular[0] + singular[1] - (det > 0 ? 1 : -1) * singular[2]) / 4
        chshMax = 2 * (m[0] + m[1]).squareRoot()
        let (values, vectors) = rho.hermitianEigen()
        eigenvalues = values
        negativity = rho.partialTransposeB.hermitianEigen().values.reduce(0) { $0 + max(0, -$1) }
        // √ρ from the eigen-decomposition; ρ̃ = YY ρ* YY.
        var root = ComplexMatrix4.zero
        for (value, v) in zip(values, vectors) { root = root + ComplexMatrix4.pure(re: v.re, im: v.im).scaled(max(0, value).squareRoot()) }
        let yy = StokesParameters.product(2, 2)
        let conjugate = ComplexMatrix4(re: rho.re, im: rho.im.map { -$0 })
        let flipped = yy * conjugate * yy
        let lambdas = (root * flipped * root).hermitianEigen().values.map { max(0, $0).squareRoot() }.sorted(by: >)
        concurrence = max(0, lambdas[0] - lambdas[1] - lambdas[2] - lambdas[3])
    }
}
