/// A complex 4×4 matrix, row-major, in the two-qubit basis |00⟩, |01⟩, |10⟩, |11⟩ with lab A's qubit first
/// (|0⟩ = H, |1⟩ = V): the one two-qubit density-matrix type of the project (the tomography's reconstructions,
/// the simulator's emitted and heralded states); JSON keeps the real and
/// imaginary parts as two arrays of 16 numbers (`re[4·row + column]`).
public struct ComplexMatrix4: Sendable, Codable, Equatable {
    /// Real parts, row-major.
    public var re: [Double]
    /// Imaginary parts, row-major.
    public var im: [Double]

    /// A matrix from 16 real and 16 imaginary parts, row-major (any other length gives the zero matrix).
    public init(re: [Double], im: [Double]) {
        if re.count == 16, im.count == 16 { self.re = re; self.im = im } else {
            self.re = [Double](repeating: 0, count: 16); self.im = [Double](repeating: 0, count: 16)
        }
    }

    /// The zero matrix.
    public static var zero: ComplexMatrix4 { ComplexMatrix4(re: [], im: []) }
    /// The identity.
    public static var identity: ComplexMatrix4 {
        var m = zero
        for d in 0..<4 { m.re[5 * d] = 1 }
        return m
    }

    /// |ψ⟩⟨ψ| for four amplitudes given as real and imaginary parts.
    public static func pure(re a: [Double], im b: [Double]) -> ComplexMatrix4 {
        var m = zero
        for r in 0..<4 {
            for c in 0..<4 {
                m.re[4 * r + c] = a[r] * a[c] + b[r] * b[c]
                m.im[4 * r + c] = b[r] * a[c] - a[r] * b[c]
            }
        }
        return m
    }

    /// The Bell state `state` as a density matrix.
    public static func bell(_ state: BellState) -> ComplexMatrix4 {
        let a = state.amplitudes
        return pure(re: a, im: [0, 0, 0, 0])
    }

    /// The Werner state `p·|Ψ⟩⟨Ψ| + (1 − p)·I/4`.
    public static func werner(_ state: BellState, p: Double) -> ComplexMatrix4 {
        bell(state).scaled(p) + identity.scaled((1 - p) / 4)
    }

    /// Real and imaginary part of the entry at `row`, `column`.
    public subscript(row: Int, column: Int) -> (re: Double, im: Double) {
        get { (re[4 * row + column], im[4 * row + column]) }
        set { re[4 * row + column] = newValue.re; im[4 * row + column] = newValue.im }
    }

    /// Tr M (real part).
    public var trace: Double { re[0] + re[5] + re[10] + re[15] }
    /// The matrix divided by its trace (unchanged when the trace is not positive).
    public var normalized: ComplexMatrix4 {
        let t = trace
        return t > 0 ? scaled(1 / t) : self
    }
    /// M†.
    public var adjoint: ComplexMatrix4 {
        var m = ComplexMatrix4.zero
        for r in 0..<4 { for c in 0..<4 { m.re[4 * r + c] = re[4 * c + r]; m.im[4 * r + c] = -im[4 * c + r] } }
        return m
    }
    /// Every entry times `factor`.
    public func scaled(_ factor: Double) -> ComplexMatrix4 {
        ComplexMatrix4(re: re.map { $0 * factor }, im: im.map { $0 * factor })
    }
    public static func + (a: ComplexMatrix4, b: ComplexMatrix4) -> ComplexMatrix4 {
        ComplexMatrix4(re: zip(a.re, b.re).map(+), im: zip(a.im, b.im).map(+))
    }
    public static func - (a: ComplexMatrix4, b: ComplexMatrix4) -> ComplexMatrix4 {
        ComplexMatrix4(re: zip(a.re, b.re).map(-), im: zip(a.im, b.im).map(-))
    }
    public static func * (a: ComplexMatrix4, b: ComplexMatrix4) -> ComplexMatrix4 {
        var m = ComplexMatrix4.zero
        for r in 0..<4 {
            for c in 0..<4 {
                var sr = 0.0, si = 0.0
                for k in 0..<4 {
                    let ar = a.re[4 * r + k], ai = a.im[4 * r + k], br = b.re[4 * k + c], bi = b.im[4 * k + c]
                    sr += ar * br - ai * bi; si += ar * bi + ai * br
                }
                m.re[4 * r + c] = sr; m.im[4 * r + c] = si
            }
        }
        return m
    }

    /// ⟨ψ|M|ψ⟩ (real part) for amplitudes `a + i·b`.
    public func expectation(re a: [Double], im b: [Double]) -> Double {
        var sum = 0.0
        for r in 0..<4 {
            for c in 0..<4 {
                // conj(ψ_r) M_rc ψ_c, real part.
                let mr = re[4 * r + c], mi = im[4 * r + c]
                let pr = mr * a[c] - mi * b[c], pi = mr * b[c] + mi * a[c]
                sum += a[r] * pr + b[r] * pi
            }
        }
        return sum
    }

    /// The partial transpose on lab B's qubit.
    public var partialTransposeB: ComplexMatrix4 {
        var m = ComplexMatrix4.zero
        for a1 in 0..<2 { for b1 in 0..<2 { for a2 in 0..<2 { for b2 in 0..<2 {
            let from = 4 * (2 * a1 + b1) + (2 * a2 + b2), to = 4 * (2 * a1 + b2) + (2 * a2 + b1)
            m.re[to] = re[from]; m.im[to] = im[from]
        } } } }
        return m
    }

    /// Largest |M_ij − M_ji*|: zero for a Hermitian matrix.
    public var hermiticityError: Double {
        var worst = 0.0
        for r in 0..<4 { for c in 0..<4 {
            worst = max(worst, abs(re[4 * r + c] - re[4 * c + r]), abs(im[4 * r + c] + im[4 * c + r]))
        } }
        return worst
    }

    /// The eigen-decomposition of the Hermitian part `(M + M†)/2`: eigenvalues in descending order and
    /// orthonormal eigenvectors (`vectors[k]` belongs to `values[k]`). Jacobi rotations on the real symmetric
    /// 8×8 embedding `[[Re, −Im], [Im, Re]]`, whose spectrum is M's taken twice.
    public func hermitianEigen() -> (values: [Double], vectors: [(re: [Double], im: [Double])]) {
        var s = [Double](repeating: 0, count: 64)
        for r in 0..<4 {
            for c in 0..<4 {
                let hr = (re[4 * r + c] + re[4 * c + r]) / 2, hi = (im[4 * r + c] - im[4 * c + r]) / 2
                s[8 * r + c] = hr; s[8 * (r + 4) + c + 4] = hr
                s[8 * r + c + 4] = -hi; s[8 * (r + 4) + c] = hi
            }
        }
        let (values, vectors) = SymmetricEigen.jacobi(s, n: 8)
        let order = (0..<8).sorted { values[$0] > values[$1] }
        var resultValues: [Double] = []
        var resultVectors: [(re: [Double], im: [Double])] = []
        var used = Set<Int>()
        // Each complex eigenvector appears twice (as v and i·v); a second pass with a lower threshold makes sure
        // four are found even when a degenerate eigenspace's real vectors are badly placed.
        for threshold in [0.5, 1e-3] { for k in order where resultVectors.count < 4 && !used.contains(k) {
            // Column k of the 8×8 eigenvectors is (x, y): the complex vector x + i·y.
            var x = (0..<4).map { vectors[8 * $0 + k] }, y = (0..<4).map { vectors[8 * ($0 + 4) + k] }
            for accepted in resultVectors {
                // Remove the component along each accepted vector: ⟨a|v⟩ = Σ conj(a)·v.
                var pr = 0.0, pi = 0.0
                for i in 0..<4 { pr += accepted.re[i] * x[i] + accepted.im[i] * y[i]; pi += accepted.re[i] * y[i] - accepted.im[i] * x[i] }
                for i in 0..<4 {
                    x[i] -= pr * accepted.re[i] - pi * accepted.im[i]
                    y[i] -= pr * accepted.im[i] + pi * accepted.re[i]
                }
            }
            let norm = (0..<4).reduce(0.0) { $0 + x[$1] * x[$1] + y[$1] * y[$1] }.squareRoot()
            guard norm > threshold else { continue }
            used.insert(k)
            resultVectors.append((x.map { $0 / norm }, y.map { $0 / norm }))
            resultValues.append(values[k])
        } }
        let sorted = resultValues.indices.sorted { resultValues[$0] > resultValues[$1] }
        return (sorted.map { resultValues[$0] }, sorted.map { resultVectors[$0] })
    }

    /// f(M) = V·diag(f(λ))·V† for the Hermitian part of M.
    public func hermitianFunction(_ f: (Double) -> Double) -> ComplexMatrix4 {
        let (values, vectors) = hermitianEigen()
        var m = ComplexMatrix4.zero
        for (value, v) in zip(values, vectors) {
            let fv = f(value)
            m = m + ComplexMatrix4.pure(re: v.re, im: v.im).scaled(fv)
        }
        return m
    }

    /// The trace distance ½‖ρ − σ‖₁ to `other` (both Hermitian).
    public func traceDistance(to other: ComplexMatrix4) -> Double {
        (self - other).hermitianEigen().values.reduce(0) { $0 + abs($1) } / 2
    }

    /// The Uhlmann fidelity `(Tr √(√ρ σ √ρ))²` to `other` (both positive semidefinite, trace 1).
    public func fidelity(to other: ComplexMatrix4) -> Double {
        let root = hermitianFunction { max(0, $0).squareRoot() }
        let sum = (root * other * root).hermitianEigen().values.reduce(0) { $0 + max(0, $1).squareRoot() }
        return sum * sum
    }
}

/// Eigenvalues and eigenvectors of small real symmetric matrices by cyclic Jacobi rotations.
public enum SymmetricEigen {
    /// Eigenvalues (unsorted) and eigenvectors as the columns of a row-major n×n matrix.
    public static func jacobi(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let scale = max(a.reduce(0) { $0 + $1 * $1 }, 1e-300)
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<n where q < n { off += a[p * n + q] * a[p * n + q] } }
            if off <= 1e-34 * scale { break }
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    guard abs(apq) > 1e-300 else { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq; a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk; a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq; v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}
