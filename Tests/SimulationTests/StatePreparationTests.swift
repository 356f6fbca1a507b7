import Foundation
import LinkModel
import Testing
@testable import Simulation

/// States other than Werner states: Born-rule probabilities against closed forms written here, the
/// configuration's validation, and simulated counts per setting pair against the ground truth.
@Suite("Configured states: phase, rotation, damping, density matrix")
struct StatePreparationTests {
    static let z = MeasurementBasis.z, x = MeasurementBasis.x, y = MeasurementBasis.y

    /// P(s_a, s_b) = (1 + s_a⟨A⟩ + s_b⟨B⟩ + s_a s_b E)/4 in the order (+,+), (+,−), (−,+), (−,−).
    static func probabilities(e: Double, meanA: Double = 0, meanB: Double = 0) -> [Double] {
        [(1 + meanA + meanB + e) / 4, (1 + meanA - meanB - e) / 4, (1 - meanA + meanB - e) / 4, (1 - meanA - meanB + e) / 4]
    }

    static func expectProbabilities(_ rho: ComplexMatrix4, _ a: MeasurementBasis, _ b: MeasurementBasis, _ expected: [Double],
                                    _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let p = rho.outcomeProbabilities(basisA: a, basisB: b)
        for k in 0..<4 {
            #expect(abs(p[k] - expected[k]) < 1e-12, "\(label) outcome \(k): \(p[k]) vs \(expected[k])", sourceLocation: sourceLocation)
        }
    }

    static func expectEntry(_ rho: ComplexMatrix4, _ r: Int, _ c: Int, _ re: Double, _ im: Double = 0,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(abs(rho[r, c].re - re) < 1e-12 && abs(rho[r, c].im - im) < 1e-12,
                "ρ[\(r)][\(c)] = \(rho[r, c]) vs \(re) + \(im)i", sourceLocation: sourceLocation)
    }

    @Test("Y is R/L with R = (|0⟩ + i|1⟩)/√2 and outcome + for H, D, R; Φ+ gives E_ZZ = E_XX = 1, E_YY = −1")
    func conventions() {
        let (r0, r1) = MeasurementBasis.y.eigenvector(outcome: 0)
        #expect(abs(r0.re - 0.5.squareRoot()) < 1e-15 && abs(r0.im) < 1e-15)
        #expect(abs(r1.re) < 1e-15 && abs(r1.im - 0.5.squareRoot()) < 1e-15)
        let phi = StatePreparation.none.state(target: .phiPlus, visibility: 1)
        Self.expectProbabilities(phi, Self.z, Self.z, [0.5, 0, 0, 0.5], "ZZ")
        Self.expectProbabilities(phi, Self.x, Self.x, [0.5, 0, 0, 0.5], "XX")
        Self.expectProbabilities(phi, Self.y, Self.y, [0, 0.5, 0.5, 0], "YY")
        // Lab A's qubit first: |01⟩ is A in H, B in V.
        let product = ComplexMatrix4.pure(re: [0, 1, 0, 0], im: [0, 0, 0, 0])
        Self.expectProbabilities(product, Self.z, Self.z, [0, 1, 0, 0], "|01⟩ ZZ")
    }

    @Test("a relative phase φ: (|00⟩ + e^{iφ}|11⟩)/√2 gives E_XX = cos φ, E_YY = −cos φ, E_XY = E_YX = sin φ")
    func phase() {
        for phiDeg in [0.0, 30, 90, 135, -60] {
            let phi = phiDeg * Double.pi / 180
            let v = 0.9
            let rho = StatePreparation(phaseRad: phi).state(target: .phiPlus, visibility: v)
            Self.expectEntry(rho, 0, 3, v * cos(phi) / 2, -v * sin(phi) / 2)
            Self.expectEntry(rho, 3, 0, v * cos(phi) / 2, v * sin(phi) / 2)
            Self.expectEntry(rho, 0, 0, (1 + v) / 4)
            Self.expectProbabilities(rho, Self.z, Self.z, Self.probabilities(e: v), "ZZ \(phiDeg)")
            Self.expectProbabilities(rho, Self.x, Self.x, Self.probabilities(e: v * cos(phi)), "XX \(phiDeg)")
            Self.expectProbabilities(rho, Self.y, Self.y, Self.probabilities(e: -v * cos(phi)), "YY \(phiDeg)")
            Self.expectProbabilities(rho, Self.x, Self.y, Self.probabilities(e: v * sin(phi)), "XY \(phiDeg)")
            Self.expectProbabilities(rho, Self.y, Self.x, Self.probabilities(e: v * sin(phi)), "YX \(phiDeg)")
            // Linear analysers at a, b (X–Z plane): E = V(cos 2a cos 2b + cos φ sin 2a sin 2b).
            let a = 22.5 * Double.pi / 180, b = -10 * Double.pi / 180
            Self.expectProbabilities(rho, .linear(analyserAngleDeg: 22.5), .linear(analyserAngleDeg: -10),
                                     Self.probabilities(e: v * (cos(2 * a) * cos(2 * b) + cos(phi) * sin(2 * a) * sin(2 * b))), "linear \(phiDeg)")
        }
        // Ψ+ with a phase: (|01⟩ + e^{iφ}|10⟩)/√2.
        let psi = StatePreparation(phaseRad: Double.pi / 3).state(target: .psiPlus, visibility: 1)
        Self.expectEntry(psi, 1, 2, cos(Double.pi / 3) / 2, -sin(Double.pi / 3) / 2)
    }

    @Test("amplitude damping γ_A, γ_B on Φ+: ρ entries by hand and the Z, X, Y statistics they give")
    func amplitudeDamping() {
        let gA = 0.3, gB = 0.1
        let rho = StatePreparation(amplitudeDamping: [gA, gB]).state(target: .phiPlus, visibility: 1)
        Self.expectEntry(rho, 0, 0, (1 + gA * gB) / 2)
        Self.expectEntry(rho, 1, 1, gA * (1 - gB) / 2)          // |01⟩: A's excitation decayed, B's not
        Self.expectEntry(rho, 2, 2, (1 - gA) * gB / 2)
        Self.expectEntry(rho, 3, 3, (1 - gA) * (1 - gB) / 2)
        let c = ((1 - gA) * (1 - gB)).squareRoot() / 2
        Self.expectEntry(rho, 0, 3, c)
        Self.expectEntry(rho, 3, 0, c)
        Self.expectEntry(rho, 1, 2, 0)
        #expect(abs(rho.trace - 1) < 1e-12)
        Self.expectProbabilities(rho, Self.z, Self.z, [(1 + gA * gB) / 2, gA * (1 - gB) / 2, (1 - gA) * gB / 2, (1 - gA) * (1 - gB) / 2], "ZZ")
        Self.expectProbabilities(rho, Self.x, Self.x, Self.probabilities(e: 2 * c), "XX")
        Self.expectProbabilities(rho, Self.y, Self.y, Self.probabilities(e: -2 * c), "YY")
        // ⟨Z_A⟩ = ρ₀₀ + ρ₁₁ − ρ₂₂ − ρ₃₃ = γ_A, ⟨Z_B⟩ = γ_B; X and Y marginals vanish.
        Self.expectProbabilities(rho, Self.z, Self.x, Self.probabilities(e: 0, meanA: gA), "ZX")
        Self.expectProbabilities(rho, Self.x, Self.z, Self.probabilities(e: 0, meanB: gB), "XZ")
    }

    @Test("phase damping λ on lab B's qubit of Φ+ scales the coherence by √(1 − λ) and leaves Z alone")
    func phaseDamping() {
        let lambda = 0.36
        let rho = StatePreparation(phaseDamping: [0, lambda]).state(target: .phiPlus, visibility: 1)
        Self.expectEntry(rho, 0, 3, 0.8 / 2)
        Self.expectEntry(rho, 0, 0, 0.5)
        Self.expectEntry(rho, 3, 3, 0.5)
        Self.expectProbabilities(rho, Self.z, Self.z, [0.5, 0, 0, 0.5], "ZZ")
        Self.expectProbabilities(rho, Self.x, Self.x, Self.probabilities(e: 0.8), "XX")
        Self.expectProbabilities(rho, Self.y, Self.y, Self.probabilities(e: -0.8), "YY")
    }

    @Test("a rotation of lab B's qubit by θ about y: E_ZZ = E_XX = cos θ, E_ZX = sin θ, E_XZ = −sin θ, E_YY = −1")
    func rotation() {
        let theta = 40 * Double.pi / 180
        let rho = StatePreparation(rotation: .init(qubit: 1, axis: [0, 1, 0], angleRad: theta)).state(target: .phiPlus, visibility: 1)
        Self.expectProbabilities(rho, Self.z, Self.z, Self.probabilities(e: cos(theta)), "ZZ")
        Self.expectProbabilities(rho, Self.x, Self.x, Self.probabilities(e: cos(theta)), "XX")
        Self.expectProbabilities(rho, Self.z, Self.x, Self.probabilities(e: sin(theta)), "ZX")
        Self.expectProbabilities(rho, Self.x, Self.z, Self.probabilities(e: -sin(theta)), "XZ")
        Self.expectProbabilities(rho, Self.y, Self.y, Self.probabilities(e: -1), "YY")
        // A z rotation of lab A's qubit by φ is the phase φ up to a global phase.
        let rz = StatePreparation(rotation: .init(qubit: 0, axis: [0, 0, 1], angleRad: 1.1)).state(target: .phiPlus, visibility: 1)
        let phase = StatePreparation(phaseRad: 1.1).state(target: .phiPlus, visibility: 1)
        for i in 0..<16 { #expect((rz.entries[i] - phase.entries[i]).magnitudeSquared < 1e-24) }
    }

    @Test("a general density matrix from the configuration: E_ZZ = ρ₀₀ − ρ₁₁ − ρ₂₂ + ρ₃₃, E_XY = −2 Im ρ₀₃ + 2 Im ρ₁₂")
    func densityMatrix() throws {
        let settings = try StrictYAMLDecoder().decode(SimulationSettings.self, from: """
            state:
              density_matrix:
                re: [[0.4, 0, 0, 0.3], [0, 0.1, 0.05, 0], [0, 0.05, 0.1, 0], [0.3, 0, 0, 0.4]]
                im: [[0, 0, 0, 0.1], [0, 0, 0, 0], [0, 0, 0, 0], [-0.1, 0, 0, 0]]
            """)
        #expect(settings.state == "phi_plus")
        let preparation = try LinkModelMapping.preparation(settings.stateDetail, heralded: false)
        let rho = preparation.state(target: .phiPlus, visibility: 1)
        Self.expectEntry(rho, 0, 3, 0.3, 0.1)
        Self.expectEntry(rho, 3, 0, 0.3, -0.1)
        Self.expectProbabilities(rho, Self.z, Self.z, [0.4, 0.1, 0.1, 0.4], "ZZ")
        Self.expectProbabilities(rho, Self.x, Self.x, Self.probabilities(e: 2 * 0.3 + 2 * 0.05), "XX")
        Self.expectProbabilities(rho, Self.y, Self.y, Self.probabilities(e: -2 * 0.3 + 2 * 0.05), "YY")
        Self.expectProbabilities(rho, Self.x, Self.y, Self.probabilities(e: -2 * 0.1), "XY")
        // White noise V mixes the given matrix too: ρ → Vρ + (1 − V)I/4.
        let mixed = preparation.state(target: .phiPlus, visibility: 0.5)
        Self.expectEntry(mixed, 0, 3, 0.15, 0.05)
        Self.expectEntry(mixed, 1, 1, 0.05 + 0.125)
        // The eigenvalues of the 2×2 blocks: 0.4 ± √0.1 and 0.1 ± 0.05.
        let eigen = try #require(settings.stateDetail.densityMatrix).eigenvalues
        let expected = [0.05, 0.4 - 0.1.squareRoot(), 0.15, 0.4 + 0.1.squareRoot()]
        for k in 0..<4 { #expect(abs(eigen[k] - expected[k]) < 1e-12, "\(eigen)") }
        // The same checks in code: a pure state passes, a matrix of trace 2 does not.
        let zeros = [Double](repeating: 0, count: 16)
        #expect(throws: Never.self) { try SimulatedDensityMatrix(re: [0.5, 0, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 0, 0, 0.5], im: zeros) }
        #expect(throws: SimulatedDensityMatrix.Invalid.self) { try SimulatedDensityMatrix(re: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], im: zeros) }
    }

    @Test("configuration errors name the key, say what is wrong and what to do")
    func validation() {
        func error(_ yaml: String) -> ConfigurationError? {
            do {
                _ = try StrictYAMLDecoder().decode(SimulationSettings.self, from: yaml, file: "link.yaml")
                return nil
            } catch { return error }
        }
        let nonHermitian = error("state: { density_matrix: { re: [[0.5, 0.2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0.5]] } }")
        #expect(nonHermitian?.keyPath == "state.density_matrix.re")
        #expect(nonHermitian?.message.contains("not Hermitian: entry [0][1]") == true, "\(String(describing: nonHermitian))")
        #expect(nonHermitian?.message.contains("give a Hermitian, positive semidefinite matrix of trace 1") == true)
        let complexNonHermitian = error("state: { density_matrix: { re: [[0.5, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0.5]], im: [[0, 0, 0, 0.1], [0, 0, 0, 0], [0, 0, 0, 0], [0.1, 0, 0, 0]] } }")
        #expect(complexNonHermitian?.message.contains("not Hermitian: entry [0][3]") == true, "\(String(describing: complexNonHermitian))")
        let trace = error("state: { density_matrix: { re: [[0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 0.5, 0], [0, 0, 0, 0]] } }")
        #expect(trace?.message.contains("the trace is 1.5, not 1") == true, "\(String(describing: trace))")
        // Trace 1 and Hermitian, but the coherence 0.6 exceeds √(ρ₀₀ρ₃₃) = 0.5: eigenvalue −0.1.
        let negative = error("state: { density_matrix: { re: [[0.5, 0, 0, 0.6], [0, 0, 0, 0], [0, 0, 0, 0], [0.6, 0, 0, 0.5]] } }")
        #expect(negative?.message.contains("not positive semidefinite: its smallest eigenvalue is -0.1") == true, "\(String(describing: negative))")
        let shape = error("state: { density_matrix: { re: [[1, 0, 0], [0, 0, 0]] } }")
        #expect(shape?.keyPath == "state.density_matrix.re")
        #expect(shape?.message.contains("expected 4 rows of 4 numbers") == true)
        let both = error("state: { bell: psi_minus, density_matrix: { re: [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]] } }")
        #expect(both?.keyPath == "state.density_matrix")
        #expect(both?.message.contains("give either density_matrix or bell/phase_deg") == true)
        let axis = error("state: { rotation: { qubit: b, axis: w, angle_deg: 10 } }")
        #expect(axis?.keyPath == "state.rotation.axis")
        #expect(axis?.message.contains("expected x, y, z or a vector") == true)
        let qubit = error("state: { rotation: { qubit: c, axis: x, angle_deg: 10 } }")
        #expect(qubit?.keyPath == "state.rotation.qubit")
        let damping = error("state: { amplitude_damping: { a: 1.5 } }")
        #expect(damping?.keyPath == "state.amplitude_damping.a")
        #expect(damping?.message.contains("expected a damping probability of lab A's qubit between 0.0 and 1.0") == true, "\(String(describing: damping))")
        let misspelt = error("state: { phase_damping: { c: 0.1 } }")
        #expect(misspelt?.kind == .unknownKey)
        let name = error("state: phi_pluss")
        #expect(name?.keyPath == "state")
        #expect(name?.message.contains("'phi_pluss' is not a Bell state") == true)
        let tomography = error("labs: [{ lab: a, bases: { tomography: true, settings: [z, x] } }, { lab: b }]")
        #expect(tomography?.keyPath == "labs[0].bases.tomography")
        #expect(tomography?.message.contains("remove settings: or tomography:") == true)
        // The plain spellings still load.
        #expect(error("state: psi_minus") == nil)
        #expect(error("state: { bell: psi_minus, phase_deg: 45, rotation: { qubit: a, axis: [1, 1, 0], angle_deg: 30 }, amplitude_damping: { a: 0.1 }, phase_damping: { b: 0.2 } }") == nil)
    }

    @Test("tomography: true measures Z, X, Y in random order with markers")
    func tomographyBases() throws {
        let settings = try StrictYAMLDecoder().decode(SimulatedBases.self, from: "tomography: true\nmarker_base: 10")
        #expect(settings.settings == ["z", "x", "y"])
        #expect(settings.order == "random")
        #expect(settings.markers)
        #expect(settings.markerBase == 10)
        let cyclic = try StrictYAMLDecoder().decode(SimulatedBases.self, from: "tomography: true\norder: cyclic")
        #expect(cyclic.order == "cyclic")
    }

    @Test("heralded links: phase, rotation and damping act on the heralded states; a density matrix is refused")
    func heralded() throws {
        let state = try StrictYAMLDecoder().decode(SimulationSettings.self, from: "state: { density_matrix: { re: [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]] } }")
        #expect(throws: SimulationError.self) { try LinkModelMapping.preparation(state.stateDetail, heralded: true) }
        do {
            _ = try LinkModelMapping.preparation(state.stateDetail, heralded: true)
        } catch let error as SimulationError {
            #expect(error.parameter == "simulation.state.density_matrix")
            #expect(error.hint.contains("phase_deg, rotation, amplitude_damping and phase_damping apply to the heralded states"))
        }
        let phi = 0.7, lambda = 0.19
        let preparation = StatePreparation(phaseRad: phi, phaseDamping: [lambda, 0])
        func truth(_ preparation: StatePreparation) throws -> HeraldedTruthSegment {
            let scenario = HeraldedLinkScenario(
                attemptRateHz: 1e6, heraldingProtocol: .barrettKok(roundSeparationPs: 200_000), visibility: 0.9,
                nodeA: HeraldedNode(armEfficiency: 0.1), nodeB: HeraldedNode(armEfficiency: 0.1), preparation: preparation)
            var simulator = try LinkSimulator(scenario: .heraldedLink(scenario), options: SimulationOptions(durationPs: 1_000_000_000, seed: 1))
            while simulator.next() != nil {}
            return try #require(simulator.groundTruth().heraldedSegments?.first)
        }
        let plain = try truth(.none), changed = try truth(preparation)
        #expect(abs(plain.heraldProbability - changed.heraldProbability) < 1e-15)
        // Ψ± coherence ρ₁₂ gains e^{−iφ} (e^{iφ} on lab A's |1⟩) and the factor √(1 − λ).
        for (before, after) in [(plain.statePsiPlus, changed.statePsiPlus), (plain.statePsiMinus, changed.statePsiMinus)] {
            let expected = Complex(cos(phi), -sin(phi)) * before[complex: 1, 2]
            #expect(abs(after[1, 2].re - (1 - lambda).squareRoot() * expected.re) < 1e-12)
            #expect(abs(after[1, 2].im - (1 - lambda).squareRoot() * expected.im) < 1e-12)
            for d in 0..<4 { #expect(abs(after[d, d].re - before[d, d].re) < 1e-12) }
        }
    }

    @Test("configs/tomography.yaml: counts per setting pair and outcome match the ground truth's Born probabilities over seeds",
          arguments: [UInt64(1), 2, 3])
    func countsAgainstTruth(seed: UInt64) throws {
        let path = simulationProjectRoot.appendingPathComponent("configs/tomography.yaml").path
        let configuration = try LinkConfiguration.load(from: path)
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: 400_000_000_000, seed: seed)
        guard case .pairSource(var scenario) = simulation.scenario else {
            Issue.record("configs/tomography.yaml is not a pair-source link")
            return
        }
        // Counting is exact without dark counts and jitter: every coincidence is one pair.
        for lab in [\PairSourceScenario.labA, \.labB] {
            scenario[keyPath: lab].detector = DetectorModel(efficiency: scenario[keyPath: lab].detector.efficiency)
        }
        scenario.labB.clock = .ideal
        let (streams, truth) = try runSimulation(.pairSource(scenario), durationPs: simulation.options.durationPs, seed: seed)
        let a = try #require(streams[.labA]), b = try #require(streams[.labB])
        let segment = try #require(truth.pairSourceSegments?.first)
        let truthA = try #require(truth.stream(.labA)), truthB = try #require(truth.stream(.labB))
        #expect(truthA.bases == [.z, .x, .y] && truthB.bases == [.z, .x, .y])
        // The emitted state: Φ+ with a 30° phase, V from F = 0.97, then damping (closed forms as above).
        let v = (4 * 0.97 - 1) / 3, gB = 0.1, lA = 0.05, phi = Double.pi / 6
        let coherence = v / 2 * (1 - gB).squareRoot() * (1 - lA).squareRoot()
        #expect(abs(segment.state[0, 3].re - coherence * cos(phi)) < 1e-12 && abs(segment.state[0, 3].im + coherence * sin(phi)) < 1e-12)
        #expect(abs(segment.state[3, 3].re - ((1 + v) / 4) * (1 - gB)) < 1e-12)

        var counts = [[Double]](repeating: [0, 0, 0, 0], count: 9)
        let delayPs = truthB.delayPs - truthA.delayPs
        for (i, j) in coincidences(a.times, b.times, offsetPs: delayPs, windowPs: 100) {
            guard let ma = a.marker(at: a.times[i]), let mb = b.marker(at: b.times[j]) else { continue }
            let outcomeA = a.channels[i] == 1 ? 0 : 1, outcomeB = b.channels[j] == 3 ? 0 : 1
            counts[Int(ma) * 3 + Int(mb - 10)][2 * outcomeA + outcomeB] += 1
        }
        // χ² of each cell's four outcome counts against the truth (3 degrees of freedom per cell), and
        // each cell's E within 3σ.
        var chiSquare = 0.0
        for truthCell in segment.correlations {
            let cell = truthCell.basisA * 3 + truthCell.basisB
            let n = counts[cell].reduce(0, +)
            #expect(n > 3_000, "cell \(cell): \(n) coincidences")
            for k in 0..<4 where truthCell.probabilities[k] > 0 {
                let expected = n * truthCell.probabilities[k]
                chiSquare += (counts[cell][k] - expected) * (counts[cell][k] - expected) / expected
            }
            let e = (counts[cell][0] + counts[cell][3] - counts[cell][1] - counts[cell][2]) / n
            let sigma = ((1 - truthCell.correlation * truthCell.correlation) / n).squareRoot()
            #expect(within(e, truthCell.correlation, sigma: sigma, k: 3), "cell \(cell): E \(e) vs \(truthCell.correlation)")
        }
        let dof = 27.0
        #expect(within(chiSquare, dof, sigma: (2 * dof).squareRoot(), k: 3), "χ² \(chiSquare) for \(dof) degrees of freedom")
    }
}
