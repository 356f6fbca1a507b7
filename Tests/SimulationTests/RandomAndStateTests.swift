import Foundation
import Testing
@testable import Simulation
import LinkModel

@Suite("Random samplers and two-qubit states")
struct RandomAndStateTests {
    @Test("xoshiro256** is deterministic per seed and stream")
    func determinism() {
        var a = Xoshiro256StarStar(seed: 42, stream: 3)
        var b = Xoshiro256StarStar(seed: 42, stream: 3)
        var c = Xoshiro256StarStar(seed: 42, stream: 4)
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
    }

    @Test("uniform, normal and exponential samples have the textbook moments and tails")
    func moments() {
        var sampler = DistributionSampler(seed: 9, stream: 1)
        let n = 400_000
        var sum = 0.0, sumSq = 0.0, sum4 = 0.0, beyond2 = 0, beyondTail = 0
        for _ in 0..<n {
            let x = sampler.standardNormal()
            sum += x; sumSq += x * x; sum4 += x * x * x * x
            if abs(x) > 2 { beyond2 += 1 }
            if abs(x) > 3.442619855899 { beyondTail += 1 }
        }
        let mean = sum / Double(n)
        #expect(abs(mean) < 4 / Double(n).squareRoot())
        #expect(abs(sumSq / Double(n) - 1) < 4 * (2 / Double(n)).squareRoot())
        #expect(abs(sum4 / Double(n) - 3) < 4 * (96 / Double(n)).squareRoot())
        // P(|x| > 2) = 0.0455003, P(|x| > 3.4426) = 5.7607e-4 (standard normal table).
        let p2 = 0.0455003
        #expect(within(Double(beyond2), p2 * Double(n), sigma: (p2 * Double(n)).squareRoot()))
        let pt = 5.7607e-4
        #expect(within(Double(beyondTail), pt * Double(n), sigma: (pt * Double(n)).squareRoot()))

        var eSum = 0.0, eSumSq = 0.0, eTail = 0
        for _ in 0..<n {
            let x = sampler.standardExponential()
            eSum += x; eSumSq += x * x
            if x > 8 { eTail += 1 }
        }
        #expect(abs(eSum / Double(n) - 1) < 4 / Double(n).squareRoot())
        #expect(abs(eSumSq / Double(n) - 2) < 4 * (20 / Double(n)).squareRoot())
        let pe = exp(-8.0)
        #expect(within(Double(eTail), pe * Double(n), sigma: (pe * Double(n)).squareRoot()))

        var uSum = 0.0
        for _ in 0..<n { uSum += sampler.uniform() }
        #expect(abs(uSum / Double(n) - 0.5) < 4 * (1 / 12 / Double(n)).squareRoot())
    }

    @Test("geometric skips have mean (1 − p)/p")
    func geometric() {
        var sampler = DistributionSampler(seed: 5, stream: 2)
        let p = 0.01
        let n = 50_000
        var sum = 0.0
        for _ in 0..<n { sum += Double(sampler.geometricFailures(successProbability: p)) }
        let sigma = ((1 - p) / (p * p) / Double(n)).squareRoot()
        #expect(within(sum / Double(n), (1 - p) / p, sigma: sigma))
    }

    @Test("Bell states give the known Pauli correlators")
    func pauliCorrelators() {
        // ⟨XX⟩, ⟨YY⟩, ⟨ZZ⟩ for Φ+, Φ−, Ψ+, Ψ−.
        let expected: [BellState: (Double, Double, Double)] = [
            .phiPlus: (1, -1, 1), .phiMinus: (-1, 1, 1), .psiPlus: (1, 1, -1), .psiMinus: (-1, -1, -1),
        ]
        for (state, (xx, yy, zz)) in expected {
            let rho = ComplexMatrix4.werner(state, p: 1)
            #expect(abs(rho.trace - 1) < 1e-12)
            #expect(abs(rho.correlation(basisA: .x, basisB: .x) - xx) < 1e-12)
            #expect(abs(rho.correlation(basisA: .y, basisB: .y) - yy) < 1e-12)
            #expect(abs(rho.correlation(basisA: .z, basisB: .z) - zz) < 1e-12)
            #expect(abs(rho.correlation(basisA: .z, basisB: .x)) < 1e-12)
            #expect(abs(rho.fidelity(with: state) - 1) < 1e-12)
        }
    }

    @Test("Werner states: E(a,b) = ±V cos 2(a−b), F = (1+3V)/4, S = 2√2 V")
    func wernerState() {
        let v = 0.83
        let phi = ComplexMatrix4.werner(.phiPlus, p: v)
        let psi = ComplexMatrix4.werner(.psiMinus, p: v)
        for (a, b) in [(0.0, 22.5), (10.0, 80.0), (45.0, 0.0), (-30.0, 61.0)] {
            let e = v * cos(2 * (a - b) * Double.pi / 180)
            #expect(abs(phi.correlation(basisA: .linear(analyserAngleDeg: a), basisB: .linear(analyserAngleDeg: b)) - e) < 1e-12)
            #expect(abs(psi.correlation(basisA: .linear(analyserAngleDeg: a), basisB: .linear(analyserAngleDeg: b)) + e) < 1e-12)
            let p = psi.outcomeProbabilities(basisA: .linear(analyserAngleDeg: a), basisB: .linear(analyserAngleDeg: b))
            #expect(abs(p.reduce(0, +) - 1) < 1e-12 && abs(p[0] + p[1] - 0.5) < 1e-12)
        }
        #expect(abs(phi.fidelity(with: .phiPlus) - (1 + 3 * v) / 4) < 1e-12)
        let s = psi.chshValue(basesA: [.linear(analyserAngleDeg: 0), .linear(analyserAngleDeg: 45)],
                              basesB: [.linear(analyserAngleDeg: 22.5), .linear(analyserAngleDeg: 67.5)])
        #expect(abs((s ?? 0) - 2 * 2.0.squareRoot() * v) < 1e-12)
    }
}
