import Correlation
import Foundation
import LinkModel

/// Test-only, independent of the engine's tomography code: complex arithmetic, the Born rule for product
/// projections, count tables from a known state, and a maximum-likelihood reference written from the
/// likelihood directly (ρ = A·A†/Tr with A lower triangular, 16 real parameters, Nelder–Mead with restarts).
enum TomographyReference {
    struct C { var re: Double, im: Double
        init(_ re: Double, _ im: Double = 0) { self.re = re; self.im = im }
        static func + (a: C, b: C) -> C { C(a.re + b.re, a.im + b.im) }
        static func * (a: C, b: C) -> C { C(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re) }
        var conj: C { C(re, -im) }
    }
    typealias Matrix = [[C]]

    /// The state a label's + outcome projects on (H = |0⟩, D = (|0⟩+|1⟩)/√2, R = (|0⟩+i|1⟩)/√2, …).
    static func ket(_ label: String, minus: Bool = false) -> [C] {
        let h = 1 / 2.0.squareRoot()
        let plus: [String: [C]] = ["Z": [C(1), C(0)], "H": [C(1), C(0)], "V": [C(0), C(1)],
                                   "X": [C(h), C(h)], "D": [C(h), C(h)], "A": [C(h), C(-h)],
                                   "Y": [C(h), C(0, h)], "R": [C(h), C(0, h)], "L": [C(h), C(0, -h)]]
        let opposite = ["Z": "V", "H": "V", "V": "H", "X": "A", "D": "A", "A": "D", "Y": "L", "R": "L", "L": "R"]
        return plus[minus ? opposite[label]! : label]!
    }

    /// ⟨ψ|ρ|ψ⟩.
    static func expectation(_ rho: Matrix, _ psi: [C]) -> Double {
        var sum = C(0)
        for r in 0..<4 { for c in 0..<4 { sum = sum + psi[r].conj * rho[r][c] * psi[c] } }
        return sum.re
    }

    /// Born-rule probabilities of the four cells (++, +−, −+, −−) for labels `a`, `b`.
    static func cells(_ rho: Matrix, _ a: String, _ b: String) -> [Double] {
        (0..<4).map { k in
            let ka = ket(a, minus: k / 2 == 1), kb = ket(b, minus: k % 2 == 1)
            return expectation(rho, [ka[0] * kb[0], ka[0] * kb[1], ka[1] * kb[0], ka[1] * kb[1]])
        }
    }

    static func matrix(_ m: ComplexMatrix4) -> Matrix { (0..<4).map { r in (0..<4).map { c in C(m.re[4 * r + c], m.im[4 * r + c]) } } }

    /// Expected counts: `perSetting` pairs per setting, cells weighted by detector efficiencies (− detector
    /// of lab A at `etaA`, of lab B at `etaB`, relative to the + detectors).
    static func expected(_ rho: ComplexMatrix4, labelsA: [String], labelsB: [String], perSetting: Double,
                         etaA: Double = 1, etaB: Double = 1) -> [SettingCounts] {
        let m = matrix(rho)
        return labelsA.flatMap { a in labelsB.map { b in
            let p = cells(m, a, b)
            let w = [1, etaB, etaA, etaA * etaB]
            return SettingCounts(basisA: a, basisB: b, counts: JointCounts(cells: (0..<4).map { perSetting * p[$0] * w[$0] }))
        } }
    }

    /// Every cell replaced by a Poisson draw around it.
    static func poisson(_ settings: [SettingCounts], _ rng: inout SeededGenerator) -> [SettingCounts] {
        settings.map { s in
            var s = s
            s.counts = JointCounts(cells: s.counts.cells.map { Double(rng.nextPoisson(mean: $0)) })
            return s
        }
    }

    static let pauli = ["Z", "X", "Y"]
    static let james = ["H", "V", "D", "R"]

    /// ρ = A·A†/Tr(A·A†), A lower triangular from 16 parameters.
    static func rho(_ x: [Double]) -> Matrix {
        var a = Matrix(repeating: [C](repeating: C(0), count: 4), count: 4)
        var k = 4
        for i in 0..<4 {
            a[i][i] = C(x[i])
            for j in 0..<i { a[i][j] = C(x[k], x[k + 1]); k += 2 }
        }
        var m = Matrix(repeating: [C](repeating: C(0), count: 4), count: 4)
        var trace = 0.0
        for i in 0..<4 { for j in 0..<4 {
            var s = C(0)
            for l in 0..<4 { s = s + a[i][l] * a[j][l].conj }
            m[i][j] = s
        } ; trace += m[i][i].re }
        return m.map { $0.map { C($0.re / trace, $0.im / trace) } }
    }

    /// −log L, multinomial per setting (two detectors) — written from the Born rule.
    static func negativeLogLikelihood(_ rho: Matrix, _ settings: [SettingCounts]) -> Double {
        var value = 0.0
        for s in settings {
            let p = cells(rho, s.basisA, s.basisB)
            let total = p.reduce(0, +)
            for (k, n) in s.counts.cells.enumerated() where n > 0 {
                guard p[k] > 0 else { return .infinity }
                value -= n * log(p[k] / total)
            }
        }
        return value
    }

    /// The maximum-likelihood state by Nelder–Mead on the 16 parameters, restarted until −log L stops improving.
    static func maximumLikelihood(_ settings: [SettingCounts]) -> Matrix {
        func f(_ x: [Double]) -> Double { negativeLogLikelihood(rho(x), settings) }
        var best = [1.0, 1, 1, 1] + [Double](repeating: 0, count: 12)
        var bestValue = f(best)
        var size = 0.3
        for _ in 0..<40 {
            let (x, value) = nelderMead(f, start: best, size: size, evaluations: 20_000)
            let improvement = bestValue - value
            if value < bestValue { best = x; bestValue = value }
            if improvement < 1e-11 { if size < 1e-4 { break }; size /= 10 }
        }
        return rho(best)
    }

    static func nelderMead(_ f: ([Double]) -> Double, start: [Double], size: Double, evaluations: Int) -> ([Double], Double) {
        let n = start.count
        var simplex = [start] + (0..<n).map { i in var x = start; x[i] += size * max(1, abs(x[i])); return x }
        var values = simplex.map(f)
        var count = n + 1
        while count < evaluations {
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }; values = order.map { values[$0] }
            if values[n] - values[0] <= 1e-13 * (1 + abs(values[0])) { break }
            var centroid = [Double](repeating: 0, count: n)
            for i in 0..<n { for k in 0..<n { centroid[k] += simplex[i][k] / Double(n) } }
            func along(_ t: Double) -> [Double] { (0..<n).map { centroid[$0] + t * (simplex[n][$0] - centroid[$0]) } }
            let reflected = along(-1), fr = f(reflected); count += 1
            if fr < values[0] {
                let expanded = along(-2), fe = f(expanded); count += 1
                (simplex[n], values[n]) = fe < fr ? (expanded, fe) : (reflected, fr)
            } else if fr < values[n - 1] {
                (simplex[n], values[n]) = (reflected, fr)
            } else {
                let contracted = fr < values[n] ? along(-0.5) : along(0.5), fc = f(contracted); count += 1
                if fc < min(fr, values[n]) {
                    (simplex[n], values[n]) = (contracted, fc)
                } else {
                    for i in 1...n {
                        simplex[i] = (0..<n).map { simplex[0][$0] + 0.5 * (simplex[i][$0] - simplex[0][$0]) }
                        values[i] = f(simplex[i]); count += 1
                    }
                }
            }
        }
        let i = values.indices.min { values[$0] < values[$1] }!
        return (simplex[i], values[i])
    }

    /// A full-rank mixed state with complex coherences: a Werner state of Φ+ (p) rotated on lab B's qubit by
    /// exp(−iθY/2)·exp(−iφZ/2), mixed with a little |01⟩⟨01|.
    static func generalState(p: Double = 0.8, theta: Double = 0.4, phi: Double = 0.7) -> ComplexMatrix4 {
        let w = matrix(ComplexMatrix4.werner(.phiPlus, p: p))
        // U_B = Ry(θ)·Rz(φ).
        let rz = [[C(cos(phi / 2), -sin(phi / 2)), C(0)], [C(0), C(cos(phi / 2), sin(phi / 2))]]
        let ry = [[C(cos(theta / 2)), C(-sin(theta / 2))], [C(sin(theta / 2)), C(cos(theta / 2))]]
        var u = [[C]](repeating: [C](repeating: C(0), count: 2), count: 2)
        for i in 0..<2 { for j in 0..<2 { for k in 0..<2 { u[i][j] = u[i][j] + ry[i][k] * rz[k][j] } } }
        var full = Matrix(repeating: [C](repeating: C(0), count: 4), count: 4)
        for a in 0..<2 { for b in 0..<2 { for b2 in 0..<2 { full[2 * a + b][2 * a + b2] = u[b][b2] } } }
        var out = Matrix(repeating: [C](repeating: C(0), count: 4), count: 4)
        for r in 0..<4 { for c in 0..<4 { for k in 0..<4 { for l in 0..<4 {
            out[r][c] = out[r][c] + full[r][k] * w[k][l] * full[c][l].conj
        } } } }
        var result = ComplexMatrix4.zero
        for r in 0..<4 { for c in 0..<4 { result.re[4 * r + c] = 0.9 * out[r][c].re; result.im[4 * r + c] = 0.9 * out[r][c].im } }
        result.re[5] += 0.1
        return result
    }

    static func maxDifference(_ a: ComplexMatrix4, _ b: ComplexMatrix4) -> Double {
        zip(a.re + a.im, b.re + b.im).map { abs($0 - $1) }.max()!
    }

    static func standardDeviation(_ values: [Double]) -> Double {
        let mean = values.reduce(0, +) / Double(values.count)
        return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
    }
}
