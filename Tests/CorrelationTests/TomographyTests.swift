import Correlation
import Foundation
import Testing
import LinkModel

@Suite("Two-qubit tomography")
struct TomographyTests {
    typealias R = TomographyReference

    static func isPhysical(_ rho: ComplexMatrix4) -> Bool {
        (rho.hermitianEigen().values.min() ?? -1) >= -1e-12 && abs(rho.trace - 1) <= 1e-12 && rho.hermiticityError <= 1e-12
    }

    @Test("Exact expected counts from a known state give that state back (9 settings, two detectors, unequal efficiencies)")
    func exactCountsNineSettings() throws {
        for (rho, tolerance) in [(R.generalState(), 1e-6), (ComplexMatrix4.werner(.psiMinus, p: 0.7), 1e-6), (ComplexMatrix4.bell(.phiPlus), 2e-4)] {
            let settings = R.expected(rho, labelsA: R.pauli, labelsB: R.pauli, perSetting: 10_000, etaA: 0.8, etaB: 1.1)
            let result = try TwoQubitTomography.reconstruct(settings: settings,
                                                            detectors: TomographyDetectors(perQubit: 2, efficiencyRatioA: 0.8, efficiencyRatioB: 1.1))
            #expect(R.maxDifference(result.raw.linearInversion, rho) < 1e-9)
            #expect(R.maxDifference(result.raw.rho, rho) < tolerance)
            #expect(Self.isPhysical(result.raw.rho))
            #expect(result.accidentalSubtracted == nil)
        }
    }

    @Test("Exact counts of the 16 one-detector settings (James et al.) and of all 36 projections give the state back")
    func exactCountsOneDetector() throws {
        let rho = R.generalState(p: 0.6, theta: -0.9, phi: 2.1)
        for labels in [R.james, ["H", "V", "D", "A", "R", "L"]] {
            let settings = R.expected(rho, labelsA: labels, labelsB: labels, perSetting: 5_000)
            let result = try TwoQubitTomography.reconstruct(settings: settings, detectors: .one)
            #expect(R.maxDifference(result.raw.linearInversion, rho) < 1e-9)
            #expect(R.maxDifference(result.raw.rho, rho) < 1e-6)
        }
    }

    @Test("Maximum likelihood is physical, also where linear inversion is not")
    func alwaysPhysical() throws {
        var unphysicalSeen = 0
        for seed in 1...30 as ClosedRange<UInt64> {
            var rng = SeededGenerator(seed: seed)
            let settings = R.poisson(R.expected(ComplexMatrix4.werner(.phiPlus, p: 0.97), labelsA: R.pauli, labelsB: R.pauli, perSetting: 40), &rng)
            let result = try TwoQubitTomography.reconstruct(settings: settings)
            if result.raw.linearInversionMinEigenvalue < -1e-6 { unphysicalSeen += 1 }
            #expect(Self.isPhysical(result.raw.rho), "seed \(seed): eigenvalues \(result.raw.quantities.eigenvalues)")
            #expect(result.raw.quantities.eigenvalues.allSatisfy { $0 >= -1e-12 })
        }
        #expect(unphysicalSeen >= 5)
    }

    @Test("Maximum likelihood agrees with an independent Nelder–Mead fit of the likelihood: |ΔF| ≤ 1e-4")
    func matchesIndependentReference() throws {
        var rng = SeededGenerator(seed: 77)
        let tables = [
            R.poisson(R.expected(R.generalState(), labelsA: R.pauli, labelsB: R.pauli, perSetting: 1_000), &rng),
            R.poisson(R.expected(ComplexMatrix4.werner(.phiPlus, p: 0.97), labelsA: R.pauli, labelsB: R.pauli, perSetting: 40), &rng),
        ]
        for (index, settings) in tables.enumerated() {
            let engine = try TwoQubitTomography.reconstruct(settings: settings, target: .phiPlus)
            let reference = R.maximumLikelihood(settings)
            let referenceF = R.expectation(reference, BellState.phiPlus.amplitudes.map { R.C($0) })
            #expect(abs(engine.raw.quantities.fidelityToTarget - referenceF) <= 1e-4, "table \(index)")
            let engineLikelihood = R.negativeLogLikelihood(R.matrix(engine.raw.rho), settings)
            #expect(engineLikelihood <= R.negativeLogLikelihood(reference, settings) + 1e-6, "table \(index)")
        }
    }

    @Test("Derived quantities of Bell, Werner and product states match their closed forms")
    func derivedQuantities() {
        for state in BellState.allCases {
            let q = TomographyQuantities(rho: .bell(state), target: state)
            #expect(abs(q.fidelityToTarget - 1) < 1e-12 && abs(q.fidelityMaxEntangled - 1) < 1e-12)
            #expect(abs(q.purity - 1) < 1e-12 && abs(q.concurrence - 1) < 1e-6 && abs(q.negativity - 0.5) < 1e-12)
            #expect(abs(q.chshMax - 2 * 2.0.squareRoot()) < 1e-12)
            #expect(abs(q.eigenvalues[0] - 1) < 1e-12 && q.eigenvalues.dropFirst().allSatisfy { abs($0) < 1e-12 })
        }
        for p in [0.0, 0.2, 1.0 / 3, 0.5, 0.8, 0.95] {
            let q = TomographyQuantities(rho: .werner(.psiMinus, p: p), target: .psiMinus)
            #expect(abs(q.fidelityToTarget - (1 + 3 * p) / 4) < 1e-12)
            #expect(abs(q.fidelityMaxEntangled - (1 + 3 * p) / 4) < 1e-12)
            #expect(abs(q.purity - (1 + 3 * p * p) / 4) < 1e-12)
            #expect(abs(q.concurrence - max(0, (3 * p - 1) / 2)) < 1e-7)
            #expect(abs(q.negativity - max(0, (3 * p - 1) / 4)) < 1e-12)
            #expect(abs(q.chshMax - 2 * 2.0.squareRoot() * p) < 1e-12)
        }
        // |0⟩⊗|+⟩: no entanglement, fully entangled fraction ½, CHSH max 2.
        let h = 1 / 2.0.squareRoot()
        let product = TomographyQuantities(rho: .pure(re: [h, h, 0, 0], im: [0, 0, 0, 0]), target: .phiPlus)
        #expect(abs(product.concurrence) < 1e-7 && abs(product.negativity) < 1e-12)
        #expect(abs(product.fidelityMaxEntangled - 0.5) < 1e-12 && abs(product.chshMax - 2) < 1e-12)
        // A locally rotated Bell state: low fidelity to Φ+, but maximally entangled.
        let rotated = TomographyQuantities(rho: R.generalState(p: 1, theta: 1.1, phi: 0.3).scaled(1 / 0.9)
            - ComplexMatrix4.pure(re: [0, 1, 0, 0], im: [0, 0, 0, 0]).scaled(0.1 / 0.9), target: .phiPlus)
        #expect(rotated.fidelityToTarget < 0.9)
        #expect(abs(rotated.fidelityMaxEntangled - 1) < 1e-9 && abs(rotated.concurrence - 1) < 1e-6)
    }

    @Test("The Hermitian eigen-solver returns orthonormal eigenvectors, also for degenerate spectra")
    func eigenSolver() {
        for rho in [R.generalState(), ComplexMatrix4.werner(.phiMinus, p: 0.4), ComplexMatrix4.identity.scaled(0.25)] {
            let (values, vectors) = rho.hermitianEigen()
            #expect(values.count == 4 && vectors.count == 4)
            var rebuilt = ComplexMatrix4.zero
            for (value, v) in zip(values, vectors) { rebuilt = rebuilt + ComplexMatrix4.pure(re: v.re, im: v.im).scaled(value) }
            #expect(R.maxDifference(rebuilt, rho) < 1e-12)
            #expect(zip(values, values.dropFirst()).allSatisfy { $0 >= $1 })
        }
        let a = R.generalState(), b = ComplexMatrix4.werner(.phiPlus, p: 0.8)
        #expect(abs(a.fidelity(to: a) - 1) < 1e-6 && a.traceDistance(to: a) < 1e-12)
        #expect(abs(b.fidelity(to: .bell(.phiPlus)) - 0.85) < 1e-6)
    }

    @Test("Accidentals subtracted cell by cell give the signal's state; raw counts give the diluted one")
    func accidentalSubtraction() throws {
        let rho = ComplexMatrix4.bell(.psiPlus)
        var settings = R.expected(rho, labelsA: R.pauli, labelsB: R.pauli, perSetting: 4_000)
        for index in settings.indices {
            settings[index].counts = JointCounts(cells: settings[index].counts.cells.map { $0 + 250 })
            settings[index].accidentals = [Estimate](repeating: Estimate(250, standardError: 5), count: 4)
        }
        let result = try TwoQubitTomography.reconstruct(settings: settings, target: .psiPlus)
        let subtracted = try #require(result.accidentalSubtracted)
        #expect(subtracted.countBasis == .accidentalSubtracted && result.raw.countBasis == .raw)
        #expect(abs(subtracted.quantities.fidelityToTarget - 1) < 1e-4)
        // Raw: Werner-like with p = 4000/5000.
        #expect(abs(result.raw.quantities.fidelityToTarget - (1 + 3 * 0.8) / 4) < 1e-6)
    }

    @Test("Missing settings fail loudly, naming what was seen and what is needed")
    func missingSettings() {
        let settings = R.expected(.bell(.phiPlus), labelsA: ["Z", "X"], labelsB: ["Z", "X"], perSetting: 1_000)
        do {
            _ = try TwoQubitTomography.reconstruct(settings: settings)
            Issue.record("incomplete settings reconstructed")
        } catch {
            let text = error.description
            #expect(text.contains("seen ZZ, ZX, XZ, XX") && text.contains("missing: ZY, XY, YZ, YX, YY") && text.contains("all 9"))
        }
        do {
            _ = try TwoQubitTomography.reconstruct(settings: [SettingCounts(basisA: "Q", basisB: "Z", counts: JointCounts(cells: [1, 1, 1, 1]))])
            Issue.record("unknown label accepted")
        } catch {
            #expect(error.description.contains("QZ"))
        }
    }

    @Test("Bootstrap σ matches the spread of the estimate over 150 Poisson seeds within 20 %")
    func bootstrapMatchesSpread() throws {
        let truth = R.expected(R.generalState(), labelsA: R.pauli, labelsB: R.pauli, perSetting: 2_000)
        var rng = SeededGenerator(seed: 2024)
        var fidelities: [Double] = [], purities: [Double] = []
        for _ in 0..<150 {
            let q = try TwoQubitTomography.reconstruct(settings: R.poisson(truth, &rng)).raw.quantities
            fidelities.append(q.fidelityToTarget); purities.append(q.purity)
        }
        var sigmaF: [Double] = [], sigmaP: [Double] = []
        for seed in 1...3 as ClosedRange<UInt64> {
            let result = try TwoQubitTomography.reconstruct(settings: R.poisson(truth, &rng), bootstrapReplicates: 200, seed: seed)
            let errors = try #require(result.raw.standardErrors)
            #expect(result.raw.bootstrapReplicates == 200)
            sigmaF.append(errors.fidelityToTarget); sigmaP.append(errors.purity)
        }
        let bootF = sigmaF.reduce(0, +) / 3, bootP = sigmaP.reduce(0, +) / 3
        let spreadF = R.standardDeviation(fidelities), spreadP = R.standardDeviation(purities)
        #expect(abs(bootF / spreadF - 1) < 0.2, "bootstrap σ_F \(bootF), spread \(spreadF)")
        #expect(abs(bootP / spreadP - 1) < 0.2, "bootstrap σ_purity \(bootP), spread \(spreadP)")
    }

    @Test("Bootstrap σ scales as 1/√N: 16 times the counts, a quarter of the σ (within 20 %)")
    func bootstrapScaling() throws {
        let rho = R.generalState()
        let small = R.expected(rho, labelsA: R.pauli, labelsB: R.pauli, perSetting: 1_000)
        let large = R.expected(rho, labelsA: R.pauli, labelsB: R.pauli, perSetting: 16_000)
        let a = try #require(try TwoQubitTomography.reconstruct(settings: small, bootstrapReplicates: 300, seed: 5).raw.standardErrors)
        let b = try #require(try TwoQubitTomography.reconstruct(settings: large, bootstrapReplicates: 300, seed: 6).raw.standardErrors)
        for (name, ratio) in [("F", a.fidelityToTarget / b.fidelityToTarget), ("concurrence", a.concurrence / b.concurrence),
                              ("CHSH", a.chshMax / b.chshMax)] {
            #expect(abs(ratio / 4 - 1) < 0.2, "\(name): σ ratio \(ratio)")
        }
    }
}

@Suite("Tomography detectors from a link's detector roles")
struct TomographyDetectorRolesTests {
    @Test("Two per qubit with each lab's − / + efficiency ratio; one per qubit without − detectors; per-basis pairs must agree")
    func fromRoles() throws {
        let two = try TomographyDetectors(roles: [
            DetectorRole(channel: 1, side: .a, outcome: .plus, efficiency: 0.8), DetectorRole(channel: 2, side: .a, outcome: .minus, efficiency: 0.6),
            DetectorRole(channel: 3, side: .b, outcome: .plus, efficiency: 0.5), DetectorRole(channel: 4, side: .b, outcome: .minus, efficiency: 0.55),
        ])
        #expect(two.perQubit == 2 && abs(two.efficiencyRatioA - 0.75) < 1e-12 && abs(two.efficiencyRatioB - 1.1) < 1e-12, "\(two)")
        let one = try TomographyDetectors(roles: [DetectorRole(channel: 1, side: .a, outcome: .plus), DetectorRole(channel: 3, side: .b, outcome: .plus),
                                                  DetectorRole(channel: 4, side: .b, outcome: .minus)])
        #expect(one == .one)
        // Passive choice: H/V and D/A pairs with the same ratio resolve; different ratios are an error naming them.
        func passive(_ etaA: Double) -> [DetectorRole] {
            [DetectorRole(channel: 1, side: .a, outcome: .plus, basis: "Z", efficiency: 1), DetectorRole(channel: 2, side: .a, outcome: .minus, basis: "Z", efficiency: 0.9),
             DetectorRole(channel: 3, side: .a, outcome: .plus, basis: "X", efficiency: 0.5), DetectorRole(channel: 4, side: .a, outcome: .minus, basis: "X", efficiency: etaA),
             DetectorRole(channel: 5, side: .b, outcome: .plus), DetectorRole(channel: 6, side: .b, outcome: .minus)]
        }
        #expect(abs(try TomographyDetectors(roles: passive(0.45)).efficiencyRatioA - 0.9) < 1e-12)
        #expect(throws: CorrelationError.self) { try TomographyDetectors(roles: passive(0.5)) }
    }
}
