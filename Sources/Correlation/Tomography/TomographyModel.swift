import LinkModel

/// One projection of one qubit: the + eigenstate of ±X, ±Y or ±Z.
struct QubitProjection: Equatable, Sendable {
    /// Pauli index 1 = X, 2 = Y, 3 = Z.
    var axis: Int
    /// +1 or −1.
    var sign: Double

    /// The projection a basis label's + outcome stands for: Z/H, X/D, Y/R and their opposites V, A, L.
    init?(label: String) {
        switch label.uppercased() {
        case "Z", "H": (axis, sign) = (3, 1)
        case "V": (axis, sign) = (3, -1)
        case "X", "D": (axis, sign) = (1, 1)
        case "A": (axis, sign) = (1, -1)
        case "Y", "R": (axis, sign) = (2, 1)
        case "L": (axis, sign) = (2, -1)
        default: return nil
        }
    }

    init(axis: Int, sign: Double) { self.axis = axis; self.sign = sign }

    /// The opposite projection (the − outcome).
    var flipped: QubitProjection { QubitProjection(axis: axis, sign: -sign) }

    /// Amplitudes on |0⟩, |1⟩: H = |0⟩, V = |1⟩, D = (|0⟩+|1⟩)/√2, A = (|0⟩−|1⟩)/√2, R = (|0⟩+i|1⟩)/√2,
    /// L = (|0⟩−i|1⟩)/√2.
    var state: (re: [Double], im: [Double]) {
        let h = 1 / 2.0.squareRoot()
        switch (axis, sign > 0) {
        case (3, true): return ([1, 0], [0, 0])
        case (3, false): return ([0, 1], [0, 0])
        case (1, true): return ([h, h], [0, 0])
        case (1, false): return ([h, -h], [0, 0])
        case (2, true): return ([h, 0], [0, h])
        default: return ([h, 0], [0, -h])
        }
    }
}

/// One count of the tomography: a product projection, the group whose total is free (one setting with two
/// detectors per qubit, all settings with one), the detector-efficiency weight, the count and its accidentals.
struct TomographyCell: Sendable {
    var a: QubitProjection
    var b: QubitProjection
    var group: Int
    var weight: Double
    var count: Double
    var accidental: Estimate?
    /// |a⟩⊗|b⟩: real and imaginary parts.
    var vectorRe: [Double]
    var vectorIm: [Double]

    init(a: QubitProjection, b: QubitProjection, group: Int, weight: Double, count: Double, accidental: Estimate?) {
        self.a = a; self.b = b; self.group = group; self.weight = weight; self.count = count; self.accidental = accidental
        let sa = a.state, sb = b.state
        var re = [Double](repeating: 0, count: 4), im = re
        for i in 0..<2 {
            for j in 0..<2 {
                re[2 * i + j] = sa.re[i] * sb.re[j] - sa.im[i] * sb.im[j]
                im[2 * i + j] = sa.re[i] * sb.im[j] + sa.im[i] * sb.re[j]
            }
        }
        vectorRe = re; vectorIm = im
    }

    /// Coefficients of Tr(ρ·P) on the Stokes parameters r_ij = Tr(ρ σ_i⊗σ_j), index 4i + j (Pauli order I, X, Y, Z):
    /// P = (I + s_a σ_a)/2 ⊗ (I + s_b σ_b)/2, so Tr(ρP) = ¼ Σ α_i β_j r_ij.
    var stokesRow: [Double] {
        var alpha = [1.0, 0, 0, 0], beta = [1.0, 0, 0, 0]
        alpha[a.axis] = a.sign; beta[b.axis] = b.sign
        var row = [Double](repeating: 0, count: 16)
        for i in 0..<4 { for j in 0..<4 { row[4 * i + j] = alpha[i] * beta[j] / 4 } }
        return row
    }
}

/// The counts of a tomography in the engine's form, raw or with accidentals subtracted.
struct TomographyData: Sendable {
    var cells: [TomographyCell]
    var groups: Int

    /// The ρ (as Stokes parameters r_ij, r_00 = 1) minimising Σ (model − data)² over the cells: per group, the
    /// efficiency-corrected frequencies (two detectors) or the efficiency-corrected counts up to one common
    /// scale (one detector). Throws when the settings do not determine ρ.
    func linearInversion() throws(CorrelationError) -> ComplexMatrix4 {
        var totals = [Double](repeating: 0, count: groups)
        for cell in cells { totals[cell.group] += cell.count / cell.weight }
        var normal = [Double](repeating: 0, count: 256), rhs = [Double](repeating: 0, count: 16)
        for cell in cells {
            let row = cell.stokesRow
            let target = groups == 1 ? cell.count / cell.weight : (totals[cell.group] > 0 ? cell.count / cell.weight / totals[cell.group] : 0)
            guard groups == 1 || totals[cell.group] > 0 else { continue }
            for i in 0..<16 where row[i] != 0 {
                rhs[i] += row[i] * target
                for j in 0..<16 where row[j] != 0 { normal[16 * i + j] += row[i] * row[j] }
            }
        }
        guard let solution = LinearSolve.symmetric(normal, rhs, n: 16) else {
            throw CorrelationError(.insufficientData, "the settings do not determine the two-qubit state", context: "tomography")
        }
        guard solution[0] > 0 else {
            throw CorrelationError(.insufficientData, "no counts to reconstruct from", context: "tomography")
        }
        return StokesParameters.matrix(solution.map { $0 / solution[0] })
    }
}

/// Conversions between a two-qubit matrix and its Stokes parameters r_ij = Tr(ρ σ_i⊗σ_j) (Pauli order I, X, Y, Z;
/// lab A's index first).
enum StokesParameters {
    /// Pauli matrices σ_0…σ_3 as (re, im) row-major 2×2.
    static let pauli: [(re: [Double], im: [Double])] = [
        ([1, 0, 0, 1], [0, 0, 0, 0]), ([0, 1, 1, 0], [0, 0, 0, 0]), ([0, 0, 0, 0], [0, -1, 1, 0]), ([1, 0, 0, -1], [0, 0, 0, 0]),
    ]

    /// σ_i ⊗ σ_j.
    static func product(_ i: Int, _ j: Int) -> ComplexMatrix4 {
        var m = ComplexMatrix4.zero
        let a = pauli[i], b = pauli[j]
        for a1 in 0..<2 { for a2 in 0..<2 { for b1 in 0..<2 { for b2 in 0..<2 {
            let ar = a.re[2 * a1 + a2], ai = a.im[2 * a1 + a2], br = b.re[2 * b1 + b2], bi = b.im[2 * b1 + b2]
            let index = 4 * (2 * a1 + b1) + (2 * a2 + b2)
            m.re[index] = ar * br - ai * bi; m.im[index] = ar * bi + ai * br
        } } } }
        return m
    }

    /// ρ = ¼ Σ r_ij σ_i⊗σ_j.
    static func matrix(_ r: [Double]) -> ComplexMatrix4 {
        var m = ComplexMatrix4.zero
        for i in 0..<4 { for j in 0..<4 where r[4 * i + j] != 0 { m = m + product(i, j).scaled(r[4 * i + j] / 4) } }
        return m
    }

    /// r_ij = Re Tr(ρ σ_i⊗σ_j).
    static func parameters(_ rho: ComplexMatrix4) -> [Double] {
        (0..<16).map { k in
            let p = product(k / 4, k % 4)
            var sum = 0.0
            for r in 0..<4 { for c in 0..<4 { sum += rho.re[4 * r + c] * p.re[4 * c + r] - rho.im[4 * r + c] * p.im[4 * c + r] } }
            return sum
        }
    }
}

/// Solves small symmetric positive semidefinite systems.
enum LinearSolve {
    /// The solution of `A x = b` (A n×n symmetric, row-major) by Gaussian elimination with partial pivoting;
    /// nil when A is singular relative to its size.
    static func symmetric(_ matrix: [Double], _ rhs: [Double], n: Int) -> [Double]? {
        var a = matrix, b = rhs
        let scale = matrix.map(abs).max() ?? 0
        guard scale > 0 else { return nil }
        for col in 0..<n {
            var pivot = col
            for row in col..<n where abs(a[row * n + col]) > abs(a[pivot * n + col]) { pivot = row }
            guard abs(a[pivot * n + col]) > 1e-10 * scale else { return nil }
            if pivot != col {
                for k in 0..<n { a.swapAt(col * n + k, pivot * n + k) }
                b.swapAt(col, pivot)
            }
            for row in (col + 1)..<n where row < n {
                let factor = a[row * n + col] / a[col * n + col]
                guard factor != 0 else { continue }
                for k in col..<n { a[row * n + k] -= factor * a[col * n + k] }
                b[row] -= factor * b[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var sum = b[row]
            for k in (row + 1)..<n where k < n { sum -= a[row * n + k] * x[k] }
            x[row] = sum / a[row * n + row]
        }
        return x
    }
}
