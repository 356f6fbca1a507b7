import LinkModel

/// Correlation, visibility, Bell-state fidelity and CHSH estimators with Poisson error propagation.
public enum BellEstimators {
    /// Correlation `E = (N_same − N_diff)/N_total` from raw counts; error `√((1 − E²)/N)`.
    public static func correlation(raw counts: JointCounts) throws(CorrelationError) -> Estimate {
        try correlation(cells: counts.cells, variances: counts.cells)
    }

    /// Correlation with accidentals subtracted cell by cell; variances `N_k + σ_acc,k²` propagated.
    public static func correlation(raw counts: JointCounts, accidentals: [Estimate]) throws(CorrelationError) -> Estimate {
        guard accidentals.count == 4 else {
            throw CorrelationError(.invalidParameter, "need one accidental estimate per outcome cell", context: "correlation")
        }
        let raw = counts.cells
        let cells = (0..<4).map { raw[$0] - accidentals[$0].value }
        let variances = (0..<4).map { raw[$0] + pow2(accidentals[$0].standardError) }
        return try correlation(cells: cells, variances: variances)
    }

    static func correlation(cells: [Double], variances: [Double]) throws(CorrelationError) -> Estimate {
        let same = cells[0] + cells[3], different = cells[1] + cells[2]
        let total = same + different
        guard total > 0 else {
            throw CorrelationError(.insufficientData, "no coincidences in this basis", context: "correlation E")
        }
        let value = (same - different) / total
        // ∂E/∂same = 2·different/N², ∂E/∂different = −2·same/N².
        let varSame = variances[0] + variances[3], varDifferent = variances[1] + variances[2]
        let variance = (pow2(2 * different) * varSame + pow2(2 * same) * varDifferent) / pow2(total * total)
        return Estimate(value, standardError: variance.squareRoot())
    }

    /// Fringe visibility `(N_max − N_min)/(N_max + N_min)` with Poisson errors.
    public static func visibility(maximum: Double, minimum: Double) throws(CorrelationError) -> Estimate {
        try correlation(cells: [maximum, minimum, 0, 0], variances: [maximum, minimum, 0, 0])
    }

    /// Fidelity to `state`: `F = (1 + s_z·E_z + s_x·E_x + s_y·E_y)/4`, error `¼·√(Σσ²)`.
    public static func fidelity(to state: BellState, z: Estimate, x: Estimate, y: Estimate) -> Estimate {
        let s = state.signs
        let value = (1 + s.z * z.value + s.x * x.value + s.y * y.value) / 4
        let error = (pow2(z.standardError) + pow2(x.standardError) + pow2(y.standardError)).squareRoot() / 4
        return Estimate(value, standardError: error)
    }

    /// Lower bound on the fidelity from Z and X only: `F ≥ (s_z·E_z + s_x·E_x)/2`, error `½·√(σ_z² + σ_x²)`.
    public static func fidelityLowerBound(to state: BellState, z: Estimate, x: Estimate) -> Estimate {
        let s = state.signs
        return Estimate((s.z * z.value + s.x * x.value) / 2,
                        standardError: (pow2(z.standardError) + pow2(x.standardError)).squareRoot() / 2)
    }

    /// CHSH `S = s₁E(a,b) + s₂E(a,b′) + s₃E(a′,b) + s₄E(a′,b′)` with signs `(+1, −1, +1, +1)` by default.
    public static func chsh(ab: Estimate, abPrime: Estimate, aPrimeB: Estimate, aPrimeBPrime: Estimate,
                            signs: [Double] = [1, -1, 1, 1]) -> Estimate {
        let terms = [ab, abPrime, aPrimeB, aPrimeBPrime]
        let sign = signs.count == 4 ? signs : [1, -1, 1, 1]
        let value = zip(terms, sign).map { $0.value * $1 }.reduce(0, +)
        let error = terms.map { pow2($0.standardError) }.reduce(0, +).squareRoot()
        return Estimate(value, standardError: error)
    }
}

/// Parametric bootstrap: resample each count as Poisson around its observed value and recompute.
public enum Bootstrap {
    /// Adds the bootstrap 95 % interval to `estimate` by re-running `estimator` on `replicates`
    /// Poisson-resampled copies of `counts`. Deterministic for a given `seed`.
    public static func interval(for estimate: Estimate, counts: [Double], replicates: Int = 1000, seed: UInt64 = 1,
                                estimator: ([Double]) -> Double?) -> Estimate {
        var rng = SeededGenerator(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(replicates)
        for _ in 0..<max(0, replicates) {
            let sample = counts.map { Double(rng.nextPoisson(mean: max(0, $0))) }
            if let value = estimator(sample), value.isFinite { values.append(value) }
        }
        var result = estimate
        guard values.count >= 20 else { return result }
        values.sort()
        result.bootstrapLow = values[Int(0.025 * Double(values.count - 1))]
        result.bootstrapHigh = values[Int(0.975 * Double(values.count - 1))]
        return result
    }
}
