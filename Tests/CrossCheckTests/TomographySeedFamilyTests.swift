import Correlation
import Foundation
import LinkModel
import QLinkTestSupport
import Simulation
import Testing
import TimeTags

/// Issue 16 "What must hold": the tomography of simulated links over ≥ 100 seeds, for five states, against the
/// simulator's TRUE state (its ground-truth ρ).
///
/// How the seeds are made. A full simulate → count → reconstruct run per seed × 200 seeds × 5 states would take
/// minutes, so the family draws each seed's counts from the simulator's own ground truth: the Born probabilities
/// per setting pair (``BasisPairTruth/probabilities``) that the simulator itself samples outcomes from, each
/// cell Poisson with mean `n · p` (a random setting per pair, as `bases: {tomography: true}` does, makes each
/// setting's total Poisson; each cell is then Poisson too). A few full simulator runs per state tie the two
/// together: their reconstructions must fall in the family's band at their own counts.
///
/// The criteria, stated honestly:
/// - "Expectation" is the mean over seeds. Maximum likelihood is biased (F < 1 even for unbiased counts; a
///   near-pure truth sits on the boundary of the physical set), so the mean itself is tested against a bias
///   bound derived from the counts: the linear inversion's expected squared Hilbert–Schmidt error is
///   `E‖Δ‖²₂ = ¼ Σ_{(i,j)≠(0,0)} Var r̂_ij` with `Var r̂_ij = (1 − r_ij²)/n` for the nine correlators (one
///   setting each, n pairs) and `(1 − r²)/(3n)` for the six local Stokes parameters (three settings each); the
///   maximum-likelihood state is the linear inversion pulled into the physical set, which does not increase
///   that error (assumed, not proved: checked here). For a Hermitian Δ of rank ≤ 4, `‖Δ‖₁ ≤ 2‖Δ‖₂`, so the trace
///   distance `T = ½‖Δ‖₁ ≤ ‖Δ‖₂` and `E T ≤ b_T = √(E‖Δ‖²₂)`; Fuchs–van de Graaf, `1 − √F ≤ T`, gives
///   `E(1 − F) ≤ 2 b_T`. The test: mean T ≤ b_T + 3 σ_mean and mean (1 − F) ≤ 2 b_T + 3 σ_mean.
/// - Each seed's F and T lie within 3σ of the family mean (σ the spread over seeds) on the Wilson–Hilferty scale,
///   (1 − F)^⅓ and T^⅔, the cube roots of χ²-like quantities, close to normal: T in all but at most 2 of 200 seeds
///   (what a Gaussian's 99.73 % allows, 0.54 expected; observed 3 of 1000 over the five states), F in all but at most
///   3 (observed 8 of 1000: "3σ" covers ≈ 99.2 % for F). On the linear scale 1 − F and T are skewed, with one-sided
///   tails, and more seeds fall beyond 3σ (F 12, T 6 of 1000), so a symmetric "3σ" there overstates the coverage.
/// - The bootstrap's distance to the true state (``TomographyReconstructionError``: replicates refitted from counts
///   drawn around the data; their trace distance to ρ̂, and the fidelity of their deviation from the replicates'
///   mean placed at ρ̂ with a bias-corrected spectrum): the σ of both is within 20 % of the spread over seeds of T
///   and F to the truth for all five states, the pure one included (8 bootstrapped seeds of 100 replicates).
///   The bootstrap σ of the fidelity to the target Bell state and of the purity is within 20 % of their spread
///   except at the pure Bell state, on the boundary: every ML estimate and every replicate is pure (purity σ and
///   spread at rounding level) and the fidelity to the fixed target of replicates around ρ̂ is non-central
///   (1 − F* ≈ |ε + ε*|² against the seeds' central |ε|²), so its σ exceeds the spread (1.6×); there it is checked
///   to be conservative (docs/correlation.md "Errors near the boundary").
@Suite("Tomography over seed families against the simulator's true state")
struct TomographySeedFamilyTests {
    /// Pairs per setting in the family (≈ 9 000 coincidences per seed).
    static let pairsPerSetting = 1_000.0
    static let seeds = 200
    static let bootstrapSeeds = 8
    static let bootstrapReplicates = 100
    static let names = ["Z", "X", "Y"]

    /// The five states: a pure Bell state, a Werner state, a phase-rotated one, an amplitude-damped one and a
    /// general mixed state (an initial density matrix, rotated and phase-damped).
    static let states: [(name: String, visibility: Double, preparation: StatePreparation)] = [
        ("pure Φ+", 1, .none),
        ("Werner Φ+, V = 0.8", 0.8, .none),
        ("Φ+ with a 40° phase and a 25° Y rotation of B", 0.95,
         StatePreparation(phaseRad: 40 * .pi / 180, rotation: .init(qubit: 1, axis: [0, 1, 0], angleRad: 25 * .pi / 180))),
        ("amplitude-damped Φ+ (γ_B = 0.3)", 0.97, StatePreparation(amplitudeDamping: [0, 0.3])),
        ("general mixed state", 1, StatePreparation(initial: generalMixed(), phaseDamping: [0.1, 0]))
    ]

    /// A full-rank state with complex coherences: 0.6·|ψ⟩⟨ψ| + 0.25·|01⟩⟨01| + 0.15·I/4, ψ = (|00⟩ + 0.6 e^{0.7i}|10⟩ + 0.8 i|11⟩)/‖·‖.
    static func generalMixed() -> ComplexMatrix4 {
        let psi = [Complex(1, 0), Complex(0, 0), Complex(0.6 * cos(0.7), 0.6 * sin(0.7)), Complex(0, 0.8)]
        let norm = psi.reduce(0) { $0 + $1.magnitudeSquared }.squareRoot()
        let pure = ComplexMatrix4.pure(re: psi.map { $0.re / norm }, im: psi.map { $0.im / norm })
        var rho = ComplexMatrix4.zero
        for r in 0..<4 {
            for c in 0..<4 {
                var v = Complex(0.6 * pure[r, c].re, 0.6 * pure[r, c].im)
                if r == c { v.re += 0.15 / 4 + (r == 1 ? 0.25 : 0) }
                rho[complex: r, c] = v
            }
        }
        return rho
    }

    /// The pair-source scenario of configs/tomography.yaml with `visibility` and `preparation`, ideal detectors
    /// apart from efficiency (no dark counts, jitter or dead time: every coincidence is one pair) and an ideal clock.
    static func scenario(visibility: Double, preparation: StatePreparation) throws -> PairSourceScenario {
        let path = TestEnvironment.projectRoot.appendingPathComponent("configs/tomography.yaml").path
        let simulation = try ConfiguredSimulation(configuration: try LinkConfiguration.load(from: path))
        guard case .pairSource(var scenario) = simulation.scenario else { throw CancellationError() }
        for lab in [\PairSourceScenario.labA, \.labB] {
            scenario[keyPath: lab].detector = DetectorModel(efficiency: scenario[keyPath: lab].detector.efficiency)
        }
        scenario.labB.clock = .ideal
        scenario.visibility = visibility
        scenario.preparation = preparation
        return scenario
    }

    /// The simulator's ground truth for a scenario (a 1 µs run: the truth does not depend on the duration).
    static func truth(_ scenario: PairSourceScenario) throws -> PairSourceTruthSegment {
        var simulator = try LinkSimulator(scenario: .pairSource(scenario), options: SimulationOptions(durationPs: 1_000_000, seed: 1))
        while simulator.next() != nil {}
        guard let segment = simulator.groundTruth().pairSourceSegments?.first else { throw CancellationError() }
        return segment
    }

    /// Counts drawn from the truth's Born probabilities: cell (setting, outcome) Poisson with mean n·p.
    static func draw(_ truth: PairSourceTruthSegment, perSetting n: [Double], rng: inout SeededGenerator) -> [SettingCounts] {
        truth.correlations.map { cell in
            let k = cell.basisA * 3 + cell.basisB
            return SettingCounts(basisA: names[cell.basisA], basisB: names[cell.basisB],
                                 counts: JointCounts(cells: cell.probabilities.map { Double(rng.nextPoisson(mean: n[k] * $0)) }))
        }
    }

    /// Uhlmann fidelity and trace distance of the reconstruction to the truth (``ComplexMatrix4``'s own).
    static func fidelityAndTraceDistance(_ rho: ComplexMatrix4, _ truth: ComplexMatrix4) -> (f: Double, t: Double) {
        (rho.fidelity(to: truth), rho.traceDistance(to: truth))
    }

    /// b_T = √(¼ Σ Var r̂_ij) for n pairs per setting (see the suite's documentation).
    static func traceDistanceBound(_ truth: ComplexMatrix4, perSetting n: Double) -> Double {
        // Stokes parameters r_ij = Tr(ρ σ_i ⊗ σ_j) from the Pauli expectations.
        func stokes(_ i: Int, _ j: Int) -> Double {
            let sigma: [(re: [Double], im: [Double])] = [([1, 0, 0, 1], [0, 0, 0, 0]), ([0, 1, 1, 0], [0, 0, 0, 0]),
                                                         ([0, 0, 0, 0], [0, -1, 1, 0]), ([1, 0, 0, -1], [0, 0, 0, 0])]
            var sum = 0.0
            for r in 0..<4 {
                for c in 0..<4 {
                    let a = sigma[i], b = sigma[j]
                    let ar = a.re[2 * (c >> 1) + (r >> 1)], ai = a.im[2 * (c >> 1) + (r >> 1)]
                    let br = b.re[2 * (c & 1) + (r & 1)], bi = b.im[2 * (c & 1) + (r & 1)]
                    let pr = ar * br - ai * bi, pi = ar * bi + ai * br
                    sum += truth.re[4 * r + c] * pr - truth.im[4 * r + c] * pi
                }
            }
            return sum
        }
        var variance = 0.0
        for i in 0..<4 {
            for j in 0..<4 where i + j > 0 {
                let r = stokes(i, j)
                variance += (1 - r * r) / (i == 0 || j == 0 ? 3 * n : n)
            }
        }
        return (variance / 4).squareRoot()
    }

    static func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
    static func standardDeviation(_ x: [Double]) -> Double {
        let m = mean(x)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)).squareRoot()
    }

    /// The Wilson–Hilferty scale: 1 − F and T² are quadratic in the count errors (χ²-like, skewed, bounded by 0);
    /// their cube roots, (1 − F)^⅓ and T^⅔, are close to normal, so "within 3σ" there means what it says for a
    /// Gaussian (99.73 %).
    static func wilsonHilferty(_ oneMinusF: Double) -> Double { Foundation.cbrt(max(0, oneMinusF)) }

    /// Seeds beyond 3σ of the family mean.
    static func outliers(_ x: [Double]) -> Int {
        let m = mean(x), s = standardDeviation(x)
        return x.filter { abs($0 - m) > 3 * s }.count
    }

    /// What one state's family yields (computed off the cooperative pool).
    struct Family: Sendable {
        var settings: Int
        var bound: Double
        var fidelities: [Double] = [], distances: [Double] = [], targetF: [Double] = [], purities: [Double] = []
        var bootF: [Double] = [], bootP: [Double] = [], bootTruthF: [Double] = [], bootTruthT: [Double] = []
        var bootMeanF: [Double] = [], bootMeanT: [Double] = []
    }

    @Test("Five states × 200 seeds: F and T to the true state within their bias bound and, on the Wilson–Hilferty scale, within 3σ of the family mean (T ≤ 2, F ≤ 3 of 200 outside); the bootstrap σ of the trace distance and of the fidelity to the true state within 20 % of the spread for every state, of F to the target and the purity too except at the pure state's boundary",
          arguments: 0..<5)
    func seedFamily(stateIndex: Int) async throws {
        let state = Self.states[stateIndex]
        // The reconstructions run on their own thread so they never hold the cooperative pool that
        // the service suites beside them need (200 × 5 fits and 20 bootstraps take minutes on a loaded machine).
        let family = try await offPool { () throws -> Family in
            let truthSegment = try Self.truth(try Self.scenario(visibility: state.visibility, preparation: state.preparation))
            let truth = truthSegment.state
            let n = [Double](repeating: Self.pairsPerSetting, count: 9)
            var rng = SeededGenerator(seed: 1_600 + UInt64(stateIndex))
            var family = Family(settings: truthSegment.correlations.count,
                                bound: Self.traceDistanceBound(truth, perSetting: Self.pairsPerSetting))
            for _ in 0..<Self.seeds {
                let result = try TwoQubitTomography.reconstruct(settings: Self.draw(truthSegment, perSetting: n, rng: &rng))
                let (f, t) = Self.fidelityAndTraceDistance(result.raw.rho, truth)
                family.fidelities.append(f); family.distances.append(t)
                family.targetF.append(result.raw.quantities.fidelityToTarget); family.purities.append(result.raw.quantities.purity)
            }
            for seed in 1...Self.bootstrapSeeds {
                let result = try TwoQubitTomography.reconstruct(settings: Self.draw(truthSegment, perSetting: n, rng: &rng),
                                                                bootstrapReplicates: Self.bootstrapReplicates, seed: UInt64(seed))
                guard let errors = result.raw.standardErrors, let distance = result.raw.reconstructionError else { continue }
                family.bootF.append(errors.fidelityToTarget); family.bootP.append(errors.purity)
                family.bootMeanF.append(distance.fidelity.mean); family.bootMeanT.append(distance.traceDistance.mean)
                family.bootTruthF.append(distance.fidelity.standardDeviation); family.bootTruthT.append(distance.traceDistance.standardDeviation)
            }
            return family
        }
        #expect(family.settings == 9)
        #expect(family.bootF.count == Self.bootstrapSeeds, "every bootstrapped reconstruction states its errors")
        let (fidelities, distances, targetF, purities) = (family.fidelities, family.distances, family.targetF, family.purities)
        let (bootF, bootP, bootTruthF, bootTruthT) = (family.bootF, family.bootP, family.bootTruthF, family.bootTruthT)
        let label = state.name
        // (a) The bias: mean against the truth (F = 1, T = 0) within the bound from the counts.
        let bound = family.bound
        let meanF = Self.mean(fidelities), meanT = Self.mean(distances)
        let sigmaF = Self.standardDeviation(fidelities), sigmaT = Self.standardDeviation(distances)
        let sem = 3 / Double(Self.seeds).squareRoot()
        #expect(meanT <= bound + sem * sigmaT, "\(label): mean T \(meanT) against the bound \(bound)")
        #expect(1 - meanF <= 2 * bound + sem * sigmaF, "\(label): mean 1 − F \(1 - meanF) against the bound \(2 * bound)")
        #expect(meanF < 1 && meanT > 0, "\(label): the estimator is biased; mean F \(meanF), mean T \(meanT)")
        // (b) Each seed within 3σ of the family mean on the Wilson–Hilferty scale: T at most 2 of 200 outside (a
        // Gaussian puts 0.27 % = 0.54 seeds there; observed 0, 0, 1, 1, 1), F at most 3 (observed 0, 2, 3, 2, 1: 99.2 %
        // pooled, so "3σ" for F means ≈ 99 %). On the linear scale the skewed tail puts more outside (F 12, T 6 of 1000).
        let outliersF = Self.outliers(fidelities.map { Self.wilsonHilferty(1 - $0) })
        let outliersT = Self.outliers(distances.map { Self.wilsonHilferty($0 * $0) })
        print("seed family \(label): beyond 3σ of 200 — linear F \(Self.outliers(fidelities)), T \(Self.outliers(distances)); Wilson–Hilferty F \(outliersF), T \(outliersT)")
        #expect(outliersF <= 3, "\(label): \(outliersF) of \(Self.seeds) seeds' (1 − F)^⅓ beyond 3σ")
        #expect(outliersT <= 2, "\(label): \(outliersT) of \(Self.seeds) seeds' T^⅔ beyond 3σ")
        // (c) The bootstrap against the spread over seeds.
        let spreadF = Self.standardDeviation(targetF), spreadP = Self.standardDeviation(purities)
        print("seed family \(label): means seeds 1-F \(1 - meanF) T \(meanT); bootstrap 1-F \(1 - Self.mean(family.bootMeanF)) T \(Self.mean(family.bootMeanT))")
        print("seed family \(label): bootstrap/spread — F to truth \(Self.mean(bootTruthF) / sigmaF), T \(Self.mean(bootTruthT) / sigmaT), F to target \(Self.mean(bootF) / spreadF), purity \(Self.mean(bootP) / spreadP)")
        // The distance to the true state: the bootstrap's replicates against the reconstruction stand for the
        // reconstruction against the truth. Observed over 8 bootstrapped seeds, in the order of `states`: T 0.94, 1.00,
        // 0.96, 0.98, 0.97; F 0.91, 0.93, 0.95, 0.97, 1.05 (measured at ρ̂ itself, F(ρ*, ρ̂), it was 0.90, 1.26, 1.13, 1.28,
        // 1.39: the Uhlmann fidelity weights errors by the inverse of the reference's small eigenvalues, and ρ̂'s
        // scatter further apart than the truth's; see `TwoQubitTomography.distances`). The bootstrap's MEAN 1 − F is
        // not calibrated near the boundary (≈ 0.5× the seeds' at the rotated and amplitude-damped states): printed only.
        #expect(abs(Self.mean(bootTruthT) / sigmaT - 1) <= 0.2, "\(label): bootstrap σ of T to the truth \(Self.mean(bootTruthT)), spread \(sigmaT)")
        #expect(abs(Self.mean(bootTruthF) / sigmaF - 1) <= 0.2, "\(label): bootstrap σ of F to the truth \(Self.mean(bootTruthF)), spread \(sigmaF)")
        if state.visibility == 1 && state.preparation == .none {
            // A pure truth: the σ of quantities against a fixed target is not the spread (docs/correlation.md "Errors
            // near the boundary"): every estimate and every replicate is pure (purity σ and spread ~1e-14), and the
            // fidelity to the target Φ+ of replicates drawn around the data of ρ̂ = |ψ̂⟩⟨ψ̂| is 1 − |ε + ε*|²
            // (non-central) where the seeds' is 1 − |ε|² (central), so its σ is larger (observed 1.6×): conservative only.
            #expect(Self.mean(bootF) >= spreadF, "\(label): bootstrap σ_F \(Self.mean(bootF)) (spread \(spreadF))")
            #expect(Self.mean(bootP) <= 1e-9 && spreadP <= 1e-9,
                    "\(label): purity σ \(Self.mean(bootP)), spread \(spreadP): every estimate and replicate pure")
        } else {
            #expect(abs(Self.mean(bootF) / spreadF - 1) <= 0.2, "\(label): bootstrap σ_F \(Self.mean(bootF)), spread \(spreadF)")
            #expect(abs(Self.mean(bootP) / spreadP - 1) <= 0.2, "\(label): bootstrap σ_purity \(Self.mean(bootP)), spread \(spreadP)")
        }
    }

    @Test("Full simulator runs per state (0.08 s of link time each) reconstruct within the family's 3σ band at their own counts",
          arguments: 0..<5)
    func fullSimulation(stateIndex: Int) async throws {
        let state = Self.states[stateIndex]
        struct Run: Sendable {
            var seed: UInt64, perSetting: [Double], f: Double, t: Double
            var meanF: Double, meanT: Double, sigmaF: Double, sigmaT: Double
        }
        // Simulation and fits run off the cooperative pool (see seedFamily).
        let runs = try await offPool { () throws -> [Run] in
            let scenario = try Self.scenario(visibility: state.visibility, preparation: state.preparation)
            let truthSegment = try Self.truth(scenario)
            let truth = truthSegment.state
            var runs: [Run] = []
            for seed in [UInt64(31), 32] {
                let (streams, groundTruth) = try record(.pairSource(scenario), durationPs: 80_000_000_000, seed: seed)
                guard let a = streams[.labA], let b = streams[.labB], let streamA = groundTruth.stream(.labA),
                      let streamB = groundTruth.stream(.labB) else { throw CancellationError() }
                let delayPs = streamB.delayPs - streamA.delayPs
                // Counts per setting and outcome: coincidences within ±100 ps at the true delay, settings from the markers.
                var cells = [[Double]](repeating: [0, 0, 0, 0], count: 9)
                var j = 0
                for i in a.times.indices {
                    let t = a.times[i] + delayPs
                    while j < b.times.count, b.times[j] < t - 100 { j += 1 }
                    guard j < b.times.count, b.times[j] <= t + 100,
                          let ma = a.marker(at: a.times[i]), let mb = b.marker(at: b.times[j]) else { continue }
                    let outcomeA = a.channels[i] == scenario.labA.channels.plus ? 0 : 1
                    let outcomeB = b.channels[j] == scenario.labB.channels.plus ? 0 : 1
                    cells[Int(ma) * 3 + Int(mb - 10)][2 * outcomeA + outcomeB] += 1
                }
                let settings = (0..<9).map { k in
                    SettingCounts(basisA: Self.names[k / 3], basisB: Self.names[k % 3], counts: JointCounts(cells: cells[k]))
                }
                let perSetting = cells.map { $0.reduce(0, +) }
                let simulated = Self.fidelityAndTraceDistance(try TwoQubitTomography.reconstruct(settings: settings).raw.rho, truth)
                // The family at the same per-setting totals, from the truth's Born probabilities.
                var rng = SeededGenerator(seed: 7_000 + seed)
                var fidelities: [Double] = [], distances: [Double] = []
                for _ in 0..<60 {
                    let result = try TwoQubitTomography.reconstruct(settings: Self.draw(truthSegment, perSetting: perSetting, rng: &rng))
                    let (f, t) = Self.fidelityAndTraceDistance(result.raw.rho, truth)
                    fidelities.append(f); distances.append(t)
                }
                runs.append(Run(seed: seed, perSetting: perSetting, f: simulated.f, t: simulated.t,
                                meanF: Self.mean(fidelities), meanT: Self.mean(distances),
                                sigmaF: Self.standardDeviation(fidelities), sigmaT: Self.standardDeviation(distances)))
            }
            return runs
        }
        #expect(runs.count == 2)
        for run in runs {
            #expect(run.perSetting.allSatisfy { $0 > 150 }, "seed \(run.seed): \(run.perSetting)")
            #expect(abs(run.f - run.meanF) <= 3 * run.sigmaF, "\(state.name), seed \(run.seed): F \(run.f), family \(run.meanF) ± \(run.sigmaF)")
            #expect(abs(run.t - run.meanT) <= 3 * run.sigmaT, "\(state.name), seed \(run.seed): T \(run.t), family \(run.meanT) ± \(run.sigmaT)")
        }
    }
}
