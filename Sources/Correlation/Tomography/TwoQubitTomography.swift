import LinkModel

/// The detectors behind each qubit's measurement.
public struct TomographyDetectors: Sendable, Codable, Equatable {
    /// 1: one detector per qubit, only the + outcome of each setting is seen (the settings are projections
    /// such as H, V, D, R; all settings share one unknown pair rate). 2: two detectors per qubit, all four
    /// outcome cells of each setting (each setting's total is free).
    public var perQubit: Int
    /// Efficiency of lab A's − detector relative to its + detector (two detectors only).
    public var efficiencyRatioA: Double
    /// Efficiency of lab B's − detector relative to its + detector (two detectors only).
    public var efficiencyRatioB: Double

    public init(perQubit: Int, efficiencyRatioA: Double = 1, efficiencyRatioB: Double = 1) {
        self.perQubit = perQubit; self.efficiencyRatioA = efficiencyRatioA; self.efficiencyRatioB = efficiencyRatioB
    }

    /// One detector per qubit.
    public static let one = TomographyDetectors(perQubit: 1)
    /// Two detectors per qubit of equal efficiency.
    public static let two = TomographyDetectors(perQubit: 2)
}

/// One eigenvalue of a reconstructed state with its eigenvector (amplitudes on |00⟩, |01⟩, |10⟩, |11⟩).
public struct TomographyEigenvector: Sendable, Codable, Equatable {
    public var value: Double
    public var re: [Double]
    public var im: [Double]
}

/// A reconstruction from one set of counts (raw, or with accidentals subtracted).
public struct TomographyEstimate: Sendable, Codable, Equatable {
    /// Which counts: raw or accidental-subtracted.
    public var countBasis: CountBasis
    /// Linear inversion (least squares over the settings); may have negative eigenvalues.
    public var linearInversion: ComplexMatrix4
    /// The smallest eigenvalue of ``linearInversion`` (negative: unphysical).
    public var linearInversionMinEigenvalue: Double
    /// The maximum-likelihood state: positive semidefinite, trace one.
    public var rho: ComplexMatrix4
    /// Eigen-decomposition of ``rho``, eigenvalues descending.
    public var eigenvectors: [TomographyEigenvector]
    /// Derived quantities of ``rho``.
    public var quantities: TomographyQuantities
    /// Bootstrap standard errors of ``quantities`` (nil without a bootstrap).
    public var standardErrors: TomographyQuantities?
    /// The bootstrap's estimate of the distance to the true state (nil without a bootstrap).
    public var reconstructionError: TomographyReconstructionError?
    /// Bootstrap replicates used (those whose fit failed are left out and counted in ``bootstrapFailures``).
    public var bootstrapReplicates: Int = 0
    public var bootstrapFailures: Int = 0
    /// −log L at the optimum (Poisson, each group's total free; up to a constant).
    public var negativeLogLikelihood: Double
    /// L-BFGS iterations to convergence.
    public var iterations: Int
    /// Counts that entered the fit.
    public var totalCounts: Double

    /// A quantity with its bootstrap standard error (0 without a bootstrap).
    public func estimate(_ key: KeyPath<TomographyQuantities, Double>) -> Estimate {
        Estimate(quantities[keyPath: key], standardError: standardErrors?[keyPath: key] ?? 0)
    }
}

/// The spread of one bootstrap quantity: mean, standard deviation and the 2.5 % and 97.5 % percentiles of the
/// replicates (asymmetric: quantities such as 1 − F and a trace distance are skewed, bounded by 0).
public struct BootstrapSpread: Sendable, Codable, Equatable {
    public var mean: Double
    public var standardDeviation: Double
    /// 2.5 % and 97.5 % percentiles of the replicates.
    public var lower95: Double
    public var upper95: Double

    /// The spread of `values` (at least two).
    init(_ values: [Double]) {
        let sorted = values.sorted(), n = Double(values.count)
        let m = values.reduce(0, +) / n
        mean = m
        standardDeviation = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot()
        func percentile(_ p: Double) -> Double {
            let x = p * (n - 1), k = Int(x.rounded(.down)), f = x - Double(k)
            return k + 1 < sorted.count ? sorted[k] * (1 - f) + sorted[k + 1] * f : sorted[k]
        }
        lower95 = percentile(0.025); upper95 = percentile(0.975)
    }
}

/// How far the reconstruction is from the true state, as the bootstrap sees it: each replicate is refitted from
/// counts drawn around the data, so the replicate's deviation stands for the reconstruction's deviation from the
/// (unknown) true state. Their spread is the error statement for "how close is ρ̂ to the truth"; unlike the σ of
/// the fidelity to a fixed target, it stays right for a pure state (docs/correlation.md "Errors near the boundary").
public struct TomographyReconstructionError: Sendable, Codable, Equatable {
    /// Uhlmann fidelity of each replicate's deviation, placed at the bias-corrected reconstruction, to that
    /// state: `F(ρ̃ + ρ* − ρ̄*, ρ̃)` (see ``TwoQubitTomography/distances(replicates:estimate:)``).
    public var fidelity: BootstrapSpread
    /// Trace distance of the replicates to the reconstructed state, `½‖ρ* − ρ̂‖₁`.
    public var traceDistance: BootstrapSpread
}

/// Two-qubit tomography from the counts per setting (``SettingCounts``), raw and accidental-subtracted.
public struct TomographyResult: Sendable, Codable, Equatable {
    public var target: BellState
    public var detectors: TomographyDetectors
    /// The settings used, as `AB` labels.
    public var settings: [String]
    public var raw: TomographyEstimate
    /// With the accidentals per cell subtracted (counts clamped at zero); nil when a setting has no accidentals.
    public var accidentalSubtracted: TomographyEstimate?
    /// Convergence tolerance of the maximum likelihood on −log L (absolute).
    public var tolerance: Double
}

/// Two-qubit state tomography: linear inversion and maximum likelihood (physical, Cholesky parameterisation,
/// L-BFGS), derived quantities and parametric-bootstrap standard errors. Conventions and likelihood:
/// `docs/correlation.md#two-qubit-tomography`.
///
/// Settings are ``SettingCounts`` whose basis labels name each qubit's + projection: Z or H = |0⟩, X or D =
/// (|0⟩+|1⟩)/√2, Y or R = (|0⟩+i|1⟩)/√2 and the opposites V, A, L; the − outcome is the orthogonal state.
/// Two detectors per qubit use all four cells (the standard 9 settings Z/X/Y × Z/X/Y); one detector per qubit
/// uses the ++ cell only (e.g. the 16 settings H/V/D/R × H/V/D/R of James et al. 2001).
public enum TwoQubitTomography {
    /// Reconstructs the state from `settings`, raw and (when every setting has accidentals) with accidentals
    /// subtracted; with `bootstrapReplicates` > 0 adds bootstrap standard errors (Poisson resampling of the
    /// counts, seeded by `seed`). Throws when the settings do not determine the state (saying which were
    /// seen and which are needed), when a label is not a known projection, or when there are no counts.
    public static func reconstruct(settings: [SettingCounts], detectors: TomographyDetectors = .two,
                                   target: BellState = .phiPlus, bootstrapReplicates: Int = 0,
                                   seed: UInt64 = 1) throws(CorrelationError) -> TomographyResult {
        let raw = try data(settings, detectors: detectors, subtractAccidentals: false)
        var rawEstimate = try estimate(raw, basis: .raw, target: target)
        var subtracted: TomographyEstimate?
        var subtractedData: TomographyData?
        if settings.allSatisfy({ $0.accidentals?.count == 4 }) {
            subtractedData = try data(settings, detectors: detectors, subtractAccidentals: true)
        }
        if let subtractedData { subtracted = try estimate(subtractedData, basis: .accidentalSubtracted, target: target) }
        if bootstrapReplicates > 0 {
            try bootstrap(&rawEstimate, data: raw, target: target, replicates: bootstrapReplicates, seed: seed)
            if let subtractedData, var s = subtracted {
                try bootstrap(&s, data: subtractedData, target: target, replicates: bootstrapReplicates, seed: seed &+ 1)
                subtracted = s
            }
        }
        return TomographyResult(target: target, detectors: detectors, settings: settings.map { $0.basisA + $0.basisB },
                                raw: rawEstimate, accidentalSubtracted: subtracted, tolerance: MaximumLikelihood.tolerance)
    }

    /// Adds bootstrap standard errors to `estimate` (made from `data`): `replicates` Poisson resamplings of the
    /// observed counts (accidentals: raw counts resampled around signal + accidentals, the accidental estimate
    /// drawn from its normal error, then subtracted), each refitted; σ is the replicates' standard deviation.
    /// Resampling around the counts rather than around the counts the fitted state predicts keeps a cell that
    /// saw nothing at nothing, as it is for the data near a pure state: drawn around a fitted ρ̂ slightly off the
    /// truth, such cells get counts the data never has and the fidelity's σ doubles (docs/correlation.md).
    static func bootstrap(_ estimate: inout TomographyEstimate, data: TomographyData, target: BellState,
                          replicates: Int, seed: UInt64) throws(CorrelationError) {
        var rng = SeededGenerator(seed: seed)
        let means = data.cells.map { max(0, $0.count) }
        var samples: [TomographyQuantities] = []
        var fits: [ComplexMatrix4] = []
        var failures = 0
        for _ in 0..<replicates {
            var replicate = data
            for m in replicate.cells.indices {
                if let accidental = replicate.cells[m].accidental {
                    let rawCount = Double(rng.nextPoisson(mean: means[m] + max(0, accidental.value)))
                    let drawn = accidental.value + accidental.standardError * rng.nextGaussian()
                    replicate.cells[m].count = max(0, rawCount - drawn)
                } else {
                    replicate.cells[m].count = Double(rng.nextPoisson(mean: means[m]))
                }
            }
            guard let fit = try? MaximumLikelihood(data: replicate).fit(start: estimate.rho) else { failures += 1; continue }
            samples.append(TomographyQuantities(rho: fit.rho, target: target))
            fits.append(fit.rho)
        }
        guard samples.count >= 2 else {
            throw CorrelationError(.insufficientData, "the bootstrap fits failed (\(failures) of \(replicates))", context: "tomography bootstrap")
        }
        func sigma(_ values: [Double]) -> Double {
            let mean = values.reduce(0, +) / Double(values.count)
            return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
        }
        var errors = estimate.quantities
        errors.fidelityToTarget = sigma(samples.map(\.fidelityToTarget))
        errors.fidelityMaxEntangled = sigma(samples.map(\.fidelityMaxEntangled))
        errors.purity = sigma(samples.map(\.purity))
        errors.concurrence = sigma(samples.map(\.concurrence))
        errors.negativity = sigma(samples.map(\.negativity))
        errors.chshMax = sigma(samples.map(\.chshMax))
        errors.eigenvalues = (0..<4).map { k in sigma(samples.map { $0.eigenvalues[k] }) }
        estimate.standardErrors = errors
        estimate.reconstructionError = distances(replicates: fits, estimate: estimate.rho)
        estimate.bootstrapReplicates = samples.count
        estimate.bootstrapFailures = failures
    }

    /// The bootstrap's distance to the true state from the replicates `ρ*` refitted around the data of `ρ̂`.
    ///
    /// Trace distance: `½‖ρ* − ρ̂‖₁`, which does not depend on where the difference sits.
    ///
    /// Fidelity: `F(ρ̃ + ρ* − ρ̄*, ρ̃)`, not `F(ρ*, ρ̂)`. The Uhlmann infidelity is a quadratic form in the deviation
    /// whose weights, `1/(λ_j + λ_k)` in the reference state's eigenbasis, come from the state it is measured at.
    /// Over seeds that state is the truth; ρ̂'s small eigenvalues scatter around the truth's and sit further apart
    /// (a degenerate triplet spreads), so weights taken at ρ̂ are too large and the σ of `F(ρ*, ρ̂)` was 1.1–1.3×
    /// the spread over seeds at mixed states. Hence: the reference is ρ̃, ρ̂ with its spectrum bias-corrected by
    /// the replicates (`2λ̂_k − mean λ*_k`, eigenvalues in descending order, clamped at 0, trace 1), and the deviation
    /// placed there is the replicate's from the replicates' mean ρ̄*, which is central (near the boundary the refits
    /// sit at the likelihood's bias from ρ̂, and measuring from ρ̂ adds that offset to every replicate). Seed families
    /// in docs/correlation.md "Against the simulator's true state".
    static func distances(replicates: [ComplexMatrix4], estimate rho: ComplexMatrix4) -> TomographyReconstructionError {
        let n = Double(replicates.count)
        var mean = ComplexMatrix4.zero, meanSpectrum = [Double](repeating: 0, count: 4)
        for replicate in replicates {
            mean = mean + replicate.scaled(1 / n)
            for (k, value) in replicate.hermitianEigen().values.enumerated() { meanSpectrum[k] += value / n }
        }
        let (values, vectors) = rho.hermitianEigen()
        var reference = ComplexMatrix4.zero
        for k in 0..<4 {
            reference = reference + ComplexMatrix4.pure(re: vectors[k].re, im: vectors[k].im).scaled(max(0, 2 * values[k] - meanSpectrum[k]))
        }
        reference = reference.normalized
        let fidelities = replicates.map { replicate in
            // The deviation placed at ρ̃ may leave the physical set near the boundary: clamped and renormalised.
            (reference + replicate - mean).hermitianFunction { max(0, $0) }.normalized.fidelity(to: reference)
        }
        return TomographyReconstructionError(fidelity: BootstrapSpread(fidelities),
                                             traceDistance: BootstrapSpread(replicates.map { $0.traceDistance(to: rho) }))
    }

    static func estimate(_ data: TomographyData, basis: CountBasis, target: BellState) throws(CorrelationError) -> TomographyEstimate {
        let linear = try data.linearInversion()
        let model = MaximumLikelihood(data: data)
        let fit = try model.fit(start: linear)
        let (values, vectors) = fit.rho.hermitianEigen()
        return TomographyEstimate(
            countBasis: basis, linearInversion: linear, linearInversionMinEigenvalue: linear.hermitianEigen().values.min() ?? 0,
            rho: fit.rho, eigenvectors: zip(values, vectors).map { TomographyEigenvector(value: $0, re: $1.re, im: $1.im) },
            quantities: TomographyQuantities(rho: fit.rho, target: target),
            negativeLogLikelihood: fit.negativeLogLikelihood, iterations: fit.iterations,
            totalCounts: data.cells.reduce(0) { $0 + $1.count })
    }

    /// The settings as the engine's cells, after checking that they determine the state.
    static func data(_ settings: [SettingCounts], detectors: TomographyDetectors,
                     subtractAccidentals: Bool) throws(CorrelationError) -> TomographyData {
        guard detectors.perQubit == 1 || detectors.perQubit == 2 else {
            throw CorrelationError(.invalidParameter, "detectors per qubit must be 1 or 2, not \(detectors.perQubit)", context: "tomography")
        }
        guard detectors.efficiencyRatioA > 0, detectors.efficiencyRatioB > 0,
              detectors.efficiencyRatioA.isFinite, detectors.efficiencyRatioB.isFinite else {
            throw CorrelationError(.invalidParameter, "detector efficiency ratios must be positive", context: "tomography")
        }
        var cells: [TomographyCell] = []
        for (index, setting) in settings.enumerated() {
            guard let a = QubitProjection(label: setting.basisA), let b = QubitProjection(label: setting.basisB) else {
                throw CorrelationError(.invalidParameter, "setting \(setting.basisA)\(setting.basisB) is not a tomographic projection",
                                       context: "tomography", hint: "label bases Z, X, Y (or H, V, D, A, R, L)")
            }
            let raw = setting.counts.cells
            func count(_ k: Int) -> Double {
                guard subtractAccidentals, let accidentals = setting.accidentals else { return raw[k] }
                return max(0, raw[k] - accidentals[k].value)
            }
            let accidental = { (k: Int) in subtractAccidentals ? setting.accidentals?[k] : nil }
            if detectors.perQubit == 1 {
                cells.append(TomographyCell(a: a, b: b, group: 0, weight: 1, count: count(0), accidental: accidental(0)))
            } else {
                let etaA = [1, detectors.efficiencyRatioA], etaB = [1, detectors.efficiencyRatioB]
                for k in 0..<4 {
                    let oa = k / 2, ob = k % 2
                    cells.append(TomographyCell(a: oa == 0 ? a : a.flipped, b: ob == 0 ? b : b.flipped, group: index,
                                                weight: etaA[oa] * etaB[ob], count: count(k), accidental: accidental(k)))
                }
            }
        }
        let data = TomographyData(cells: cells, groups: detectors.perQubit == 1 ? 1 : settings.count)
        if (try? data.linearInversion()) == nil || cells.allSatisfy({ $0.count == 0 }) {
            throw incomplete(settings, detectors: detectors)
        }
        return data
    }

    /// The error for settings that do not determine the state: which were seen, which are needed.
    static func incomplete(_ settings: [SettingCounts], detectors: TomographyDetectors) -> CorrelationError {
        let seen = settings.filter { $0.counts.total > 0 }.map { $0.basisA + $0.basisB }
        let seenText = seen.isEmpty ? "none with counts" : seen.joined(separator: ", ")
        let axisName = ["", "X", "Y", "Z"]
        var covered = Set<Int>()
        for setting in settings where setting.counts.total > 0 {
            if let a = QubitProjection(label: setting.basisA), let b = QubitProjection(label: setting.basisB) { covered.insert(4 * a.axis + b.axis) }
        }
        let order = [3, 1, 2]
        var missing: [String] = []
        for i in order {
            for j in order where !covered.contains(4 * i + j) { missing.append(axisName[i] + axisName[j]) }
        }
        let needed = detectors.perQubit == 2
            ? "Z, X and Y on each lab, all 9 combinations (ZZ, ZX, ZY, XZ, XX, XY, YZ, YX, YY)"
            : "projections spanning each qubit, e.g. the 16 settings H, V, D, R × H, V, D, R"
        let missingText = detectors.perQubit == 2 && !missing.isEmpty ? "; missing: \(missing.joined(separator: ", "))" : ""
        return CorrelationError(.insufficientData, "the measured settings do not determine the two-qubit state: seen \(seenText)\(missingText)",
                                context: "tomography", hint: "tomography needs \(needed)")
    }
}
