/// The outcome of one attempt in the form the planner needs: how often it heralds, and the heralded
/// two-qubit state's overlap with the target Bell state split into its two parts.
///
/// For a target |Ψ⟩ = (|01⟩ + e^{iφ}|10⟩)/√2 the fidelity is
/// F = ½(ρ₀₁,₀₁ + ρ₁₀,₁₀) + |ρ₀₁,₁₀| = ``population`` + ``coherence``.
/// Memory dephasing shrinks only the coherence, so keeping the parts apart lets it be applied exactly.
public struct HeraldedState: Sendable, Equatable, Encodable {
    /// Probability that an attempt heralds success.
    public var successProbability: Double
    /// ½(ρ₀₁,₀₁ + ρ₁₀,₁₀) of the heralded state.
    public var population: Double
    /// |ρ₀₁,₁₀| of the heralded state.
    public var coherence: Double

    public init(successProbability: Double, population: Double, coherence: Double) {
        self.successProbability = successProbability
        self.population = population
        self.coherence = coherence
    }

    /// Fidelity to the target Bell state.
    public var fidelity: Double { population + coherence }

    /// The state after the coherence has shrunk by `factor` (memory decoherence while waiting).
    public func dephased(by factor: Double) -> HeraldedState {
        HeraldedState(successProbability: successProbability, population: population, coherence: coherence * factor)
    }

    /// An attempt that never heralds.
    public static let never = HeraldedState(successProbability: 0, population: 0, coherence: 0)
}
