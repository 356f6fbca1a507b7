import LinkModel

/// Maximum-likelihood two-qubit state: ρ = T†T / Tr(T†T) with T upper triangular (4 real diagonal and 6 complex
/// off-diagonal entries: 16 real parameters), found by L-BFGS on the negative log-likelihood with its analytic
/// gradient.
///
/// Likelihood: each count is Poisson with mean `N_g·w·Tr(ρP)`, `N_g` the free total of its group (one setting
/// with two detectors per qubit; all settings with one) and `w` the detector-efficiency weight. With each `N_g`
/// at its optimum this is, up to a constant,
/// `−log L = Σ_g n_g·log(Σ_{m∈g} w_m q_m) − Σ_m n_m·log q_m`, `q_m = Tr(T†T P_m) = ‖T v_m‖²` — the multinomial
/// likelihood per group. It does not change when T is scaled; a penalty `(Tr T†T − 1)²` fixes the scale.
struct MaximumLikelihood {
    /// Convergence: the decrease of −log L over an iteration below `tolerance` (absolute, in units of log L) on
    /// `stableIterations` iterations in a row.
    static let tolerance = 1e-10
    static let stableIterations = 3
    static let maxIterations = 5000

    let cells: [TomographyCell]
    let groups: Int
    private let groupTotals: [Double]
    private let vre: [Double], vim: [Double], weights: [Double], counts: [Double], groupOf: [Int]

    init(data: TomographyData) {
        cells = data.cells
        groups = data.groups
        var totals = [Double](repeating: 0, count: data.groups)
        for cell in data.cells { totals[cell.group] += cell.count }
        groupTotals = totals
        vre = data.cells.flatMap(\.vectorRe); vim = data.cells.flatMap(\.vectorIm)
        weights = data.cells.map(\.weight); counts = data.cells.map(\.count); groupOf = data.cells.map(\.group)
    }

    /// Indices of the off-diagonal parameters: (row, column) with row < column, parameters 4 + 2k (re), 5 + 2k (im).
    static let offDiagonal = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]

    /// T from the parameters (row-major re, im).
    static func triangle(_ t: [Double]) -> (re: [Double], im: [Double]) {
        var re = [Double](repeating: 0, count: 16), im = re
        for d in 0..<4 { re[5 * d] = t[d] }
        for (k, (r, c)) in offDiagonal.enumerated() { re[4 * r + c] = t[4 + 2 * k]; im[4 * r + c] = t[5 + 2 * k] }
        return (re, im)
    }

    /// ρ = T†T / Tr(T†T).
    static func density(_ t: [Double]) -> ComplexMatrix4 {
        let (re, im) = triangle(t)
        let tm = ComplexMatrix4(re: re, im: im)
        let rho = tm.adjoint * tm
        var result = rho.scaled(1 / rho.trace)
        // Exactly Hermitian.
        for r in 0..<4 {
            result.im[5 * r] = 0
            for c in (r + 1)..<4 where c < 4 {
                let hr = (result.re[4 * r + c] + result.re[4 * c + r]) / 2, hi = (result.im[4 * r + c] - result.im[4 * c + r]) / 2
                result.re[4 * r + c] = hr; result.re[4 * c + r] = hr; result.im[4 * r + c] = hi; result.im[4 * c + r] = -hi
            }
        }
        return result
    }

    /// Parameters of a positive definite ρ: T = L† with ρ = L·L† (Cholesky).
    static func parameters(of rho: ComplexMatrix4) -> [Double]? {
        var lre = [Double](repeating: 0, count: 16), lim = lre
        for j in 0..<4 {
            var d = rho.re[5 * j]
            for k in 0..<j { d -= lre[4 * j + k] * lre[4 * j + k] + lim[4 * j + k] * lim[4 * j + k] }
            guard d > 0 else { return nil }
            let ljj = d.squareRoot()
            lre[5 * j] = ljj
            for i in (j + 1)..<4 where i < 4 {
                // L_ij = (ρ_ij − Σ_k L_ik conj(L_jk)) / L_jj
                var sr = rho.re[4 * i + j], si = rho.im[4 * i + j]
                for k in 0..<j {
                    let ar = lre[4 * i + k], ai = lim[4 * i + k], br = lre[4 * j + k], bi = -lim[4 * j + k]
                    sr -= ar * br - ai * bi; si -= ar * bi + ai * br
                }
                lre[4 * i + j] = sr / ljj; lim[4 * i + j] = si / ljj
            }
        }
        // T = L†: T_rc = conj(L_cr).
        var t = [Double](repeating: 0, count: 16)
        for d in 0..<4 { t[d] = lre[5 * d] }
        for (k, (r, c)) in offDiagonal.enumerated() { t[4 + 2 * k] = lre[4 * c + r]; t[5 + 2 * k] = -lim[4 * c + r] }
        return t
    }

    /// −log L (up to a constant) and its gradient at `t`; infinite when a counted cell has zero probability.
    func objective(_ t: [Double], gradient: inout [Double]) -> Double {
        let (tre, tim) = Self.triangle(t)
        let n = counts.count
        var q = [Double](repeating: 0, count: n)
        var ure = [Double](repeating: 0, count: 4 * n), uim = ure
        var sums = [Double](repeating: 0, count: groups)
        for m in 0..<n {
            var total = 0.0
            for r in 0..<4 {
                var sr = 0.0, si = 0.0
                for c in r..<4 {
                    let ar = tre[4 * r + c], ai = tim[4 * r + c], br = vre[4 * m + c], bi = vim[4 * m + c]
                    sr += ar * br - ai * bi; si += ar * bi + ai * br
                }
                ure[4 * m + r] = sr; uim[4 * m + r] = si
                total += sr * sr + si * si
            }
            q[m] = total
            sums[groupOf[m]] += weights[m] * total
        }
        var value = 0.0
        for g in 0..<groups where groupTotals[g] > 0 {
            guard sums[g] > 0 else { return .infinity }
            value += groupTotals[g] * libmLog(sums[g])
        }
        for m in 0..<n where counts[m] > 0 {
            guard q[m] > 0 else { return .infinity }
            value -= counts[m] * libmLog(q[m])
        }
        let norm = t.reduce(0) { $0 + $1 * $1 }
        value += (norm - 1) * (norm - 1)
        for k in 0..<16 { gradient[k] = 4 * (norm - 1) * t[k] }
        for m in 0..<n {
            let g = groupOf[m]
            var dq = groupTotals[g] > 0 ? groupTotals[g] * weights[m] / sums[g] : 0
            if counts[m] > 0 { dq -= counts[m] / q[m] }
            guard dq != 0 else { continue }
            // ∂q/∂Re T_rc = 2 Re(conj(u_r) v_c), ∂q/∂Im T_rc = −2 Im(conj(u_r) v_c).
            for d in 0..<4 {
                let pr = ure[4 * m + d] * vre[4 * m + d] + uim[4 * m + d] * vim[4 * m + d]
                gradient[d] += dq * 2 * pr
            }
            for (k, (r, c)) in Self.offDiagonal.enumerated() {
                let ur = ure[4 * m + r], ui = uim[4 * m + r], vr = vre[4 * m + c], vi = vim[4 * m + c]
                let pr = ur * vr + ui * vi, pi = ur * vi - ui * vr
                gradient[4 + 2 * k] += dq * 2 * pr
                gradient[5 + 2 * k] -= dq * 2 * pi
            }
        }
        return value
    }

    /// The result of a fit.
    struct Fit {
        var rho: ComplexMatrix4
        var negativeLogLikelihood: Double
        var iterations: Int
    }

    /// L-BFGS (memory 8, backtracking Armijo line search) from `start`.
    func fit(start: ComplexMatrix4) throws(CorrelationError) -> Fit {
        // A positive definite start: the start's eigenvalues clipped at zero, mixed with 1 % of I/4.
        let clipped = start.hermitianFunction { max(0, $0) }
        let trace = clipped.trace
        let mixed = (trace > 0 ? clipped.scaled(0.99 / trace) : .zero) + ComplexMatrix4.identity.scaled(trace > 0 ? 0.0025 : 0.25)
        guard var t = Self.parameters(of: mixed) else {
            throw CorrelationError(.insufficientData, "no positive starting point for maximum likelihood", context: "tomography")
        }
        let scale = t.reduce(0) { $0 + $1 * $1 }.squareRoot()
        t = t.map { $0 / scale }
        var gradient = [Double](repeating: 0, count: 16)
        var value = objective(t, gradient: &gradient)
        guard value.isFinite else {
            throw CorrelationError(.insufficientData, "the starting point has zero likelihood", context: "tomography")
        }
        var history: [(s: [Double], y: [Double], rho: Double)] = []
        var stable = 0
        var next = [Double](repeating: 0, count: 16)
        for iteration in 1...Self.maxIterations {
            // Two-loop recursion for the search direction.
            var direction = gradient.map { -$0 }
            var alphas = [Double](repeating: 0, count: history.count)
            for (i, h) in history.enumerated().reversed() {
                alphas[i] = h.rho * dot(h.s, direction)
                for k in 0..<16 { direction[k] -= alphas[i] * h.y[k] }
            }
            if let last = history.last {
                let gamma = dot(last.s, last.y) / dot(last.y, last.y)
                direction = direction.map { $0 * gamma }
            }
            for (i, h) in history.enumerated() {
                let beta = h.rho * dot(h.y, direction)
                for k in 0..<16 { direction[k] += h.s[k] * (alphas[i] - beta) }
            }
            var slope = dot(gradient, direction)
            if slope >= 0 {
                history.removeAll()
                direction = gradient.map { -$0 }
                slope = dot(gradient, direction)
            }
            if slope == 0 { return Fit(rho: Self.density(t), negativeLogLikelihood: value, iterations: iteration) }
            var step = history.isEmpty ? min(1, 0.1 / max(1e-300, dot(direction, direction).squareRoot())) : 1.0
            var trial = t, trialValue = Double.infinity
            var accepted = false
            for _ in 0..<60 {
                for k in 0..<16 { trial[k] = t[k] + step * direction[k] }
                trialValue = objective(trial, gradient: &next)
                if trialValue.isFinite, trialValue <= value + 1e-4 * step * slope { accepted = true; break }
                step /= 2
            }
            guard accepted else {
                // No decrease along the direction within rounding: converged as far as doubles allow.
                if history.isEmpty { return Fit(rho: Self.density(t), negativeLogLikelihood: value, iterations: iteration) }
                history.removeAll()
                continue
            }
            let s = (0..<16).map { trial[$0] - t[$0] }, y = (0..<16).map { next[$0] - gradient[$0] }
            let sy = dot(s, y)
            if sy > 1e-300 {
                history.append((s, y, 1 / sy))
                if history.count > 8 { history.removeFirst() }
            }
            let decrease = value - trialValue
            t = trial; value = trialValue; gradient = next
            stable = decrease < Self.tolerance ? stable + 1 : 0
            if stable >= Self.stableIterations {
                return Fit(rho: Self.density(t), negativeLogLikelihood: value, iterations: iteration)
            }
        }
        throw CorrelationError(.insufficientData, "maximum likelihood did not converge in \(Self.maxIterations) iterations",
                               context: "tomography", hint: "check the counts; this should not happen for valid count tables")
    }
}

@inline(__always) private func dot(_ a: [Double], _ b: [Double]) -> Double {
    var sum = 0.0
    for k in a.indices { sum += a[k] * b[k] }
    return sum
}
