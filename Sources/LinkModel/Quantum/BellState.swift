/// The four Bell states. Basis order |q_A q_B⟩: |00⟩, |01⟩, |10⟩, |11⟩ with |0⟩ = H, |1⟩ = V; the raw values
/// (`phiPlus` …) are the names configuration files, JSON and reports use.
public enum BellState: String, Sendable, Codable, CaseIterable {
    /// |Φ+⟩ = (|00⟩ + |11⟩)/√2.
    case phiPlus
    /// |Φ−⟩ = (|00⟩ − |11⟩)/√2.
    case phiMinus
    /// |Ψ+⟩ = (|01⟩ + |10⟩)/√2.
    case psiPlus
    /// |Ψ−⟩ = (|01⟩ − |10⟩)/√2.
    case psiMinus

    /// Real amplitudes on |00⟩, |01⟩, |10⟩, |11⟩.
    public var amplitudes: [Double] {
        let h = 1 / 2.0.squareRoot()
        switch self {
        case .phiPlus: return [h, 0, 0, h]
        case .phiMinus: return [h, 0, 0, -h]
        case .psiPlus: return [0, h, h, 0]
        case .psiMinus: return [0, h, -h, 0]
        }
    }

    /// Expected ⟨ZZ⟩, ⟨XX⟩, ⟨YY⟩ of the ideal state.
    public var signs: (z: Double, x: Double, y: Double) {
        switch self {
        case .phiPlus: (1, 1, -1)
        case .phiMinus: (1, -1, 1)
        case .psiPlus: (-1, 1, 1)
        case .psiMinus: (-1, -1, -1)
        }
    }
}
