import Foundation

/// The mapping form of `simulation.state`: the two-qubit state a pair source emits (or the channel the
/// heralded states pass through) when it is more than a Bell state with white noise.
///
/// YAML (every key optional):
/// ```yaml
/// state:
///   bell: phi_plus                         # the Bell state (and target of the fidelity); default phi_plus
///   phase_deg: 30                          # relative phase φ: e^{iφ} on lab A's |1⟩ (|00⟩ + e^{iφ}|11⟩)/√2
///   rotation: { qubit: b, axis: y, angle_deg: 20 }   # exp(−iθ n·σ/2) on one qubit; axis x, y, z or [nx, ny, nz]
///   amplitude_damping: { a: 0.1, b: 0.05 } # γ per qubit: |1⟩ (V) decays to |0⟩ (H)
///   phase_damping: { b: 0.2 }              # λ per qubit: coherences × √(1 − λ)
///   density_matrix:                        # instead of bell/phase_deg: a general ρ (rows of |00⟩,|01⟩,|10⟩,|11⟩)
///     re: [[0.5, 0, 0, 0.4], [0, 0, 0, 0], [0, 0, 0, 0], [0.4, 0, 0, 0.5]]
///     im: [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
/// ```
/// The emitted state is built in this order: the Bell state with its phase (or the density matrix), the
/// model's white noise (visibility), the rotation, amplitude damping, phase damping.
public struct SimulatedState: Decodable, Sendable, Equatable {
    /// The Bell state spelling (`phi_plus`, …); the target of the fidelity.
    public var bell: String
    /// Relative phase φ in degrees: the phase gate diag(1, e^{iφ}) on lab A's qubit.
    public var phaseDeg: Double
    /// A rotation of one qubit, if any.
    public var rotation: SimulatedRotation?
    /// Amplitude-damping probability γ of lab A's and lab B's qubit, 0…1.
    public var amplitudeDamping: SimulatedQubitPair
    /// Phase-damping probability λ of lab A's and lab B's qubit, 0…1.
    public var phaseDamping: SimulatedQubitPair
    /// A general density matrix replacing the Bell state and its phase.
    public var densityMatrix: SimulatedDensityMatrix?

    /// A state; by default Φ+ with nothing applied.
    public init(bell: String = "phi_plus", phaseDeg: Double = 0, rotation: SimulatedRotation? = nil,
                amplitudeDamping: SimulatedQubitPair = SimulatedQubitPair(), phaseDamping: SimulatedQubitPair = SimulatedQubitPair(),
                densityMatrix: SimulatedDensityMatrix? = nil) {
        self.bell = bell
        self.phaseDeg = phaseDeg
        self.rotation = rotation
        self.amplitudeDamping = amplitudeDamping
        self.phaseDamping = phaseDamping
        self.densityMatrix = densityMatrix
    }

    enum CodingKeys: String, CodingKey {
        case bell, phaseDeg, rotation, amplitudeDamping, phaseDamping, densityMatrix
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bell = try c.decodeIfPresent(String.self, forKey: .bell) ?? "phi_plus"
        guard SimulationSettings.stateNames.contains(bell) else {
            throw c.invalid(.bell, "'\(bell)' is not a Bell state; expected one of \(SimulationSettings.stateNames.joined(separator: ", "))")
        }
        phaseDeg = try c.decode(Double.self, forKey: .phaseDeg, in: -3_600...3_600, default: 0, what: "a phase in degrees")
        rotation = try c.decodeIfPresent(SimulatedRotation.self, forKey: .rotation)
        amplitudeDamping = try c.decodeIfPresent(SimulatedQubitPair.self, forKey: .amplitudeDamping) ?? SimulatedQubitPair()
        phaseDamping = try c.decodeIfPresent(SimulatedQubitPair.self, forKey: .phaseDamping) ?? SimulatedQubitPair()
        densityMatrix = try c.decodeIfPresent(SimulatedDensityMatrix.self, forKey: .densityMatrix)
        if densityMatrix != nil, c.contains(.bell) || phaseDeg != 0 {
            throw c.invalid(.densityMatrix, "density_matrix replaces bell and phase_deg; give either density_matrix or bell/phase_deg (rotation and damping may follow either)")
        }
    }
}

/// A number per qubit (`{ a: …, b: … }`, each 0…1, default 0).
public struct SimulatedQubitPair: Decodable, Sendable, Equatable {
    /// Lab A's qubit.
    public var a: Double
    /// Lab B's qubit.
    public var b: Double

    public init(a: Double = 0, b: Double = 0) {
        self.a = a
        self.b = b
    }

    enum CodingKeys: String, CodingKey { case a, b }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        a = try c.decode(Double.self, forKey: .a, in: 0...1, default: 0, what: "a damping probability of lab A's qubit")
        b = try c.decode(Double.self, forKey: .b, in: 0...1, default: 0, what: "a damping probability of lab B's qubit")
    }
}

/// A rotation exp(−iθ n·σ/2) of one qubit: `{ qubit: a|b, axis: x|y|z or [nx, ny, nz], angle_deg: θ }`.
public struct SimulatedRotation: Decodable, Sendable, Equatable {
    /// `a` (lab A's qubit) or `b`.
    public var qubit: String
    /// The unit rotation axis (x, y, z components).
    public var axis: [Double]
    /// Rotation angle θ on the Bloch sphere, in degrees.
    public var angleDeg: Double

    public init(qubit: String, axis: [Double], angleDeg: Double) {
        self.qubit = qubit
        self.axis = axis
        self.angleDeg = angleDeg
    }

    enum CodingKeys: String, CodingKey { case qubit, axis, angleDeg }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        qubit = try c.decode(String.self, forKey: .qubit)
        guard qubit == "a" || qubit == "b" else {
            throw c.invalid(.qubit, "'\(qubit)' is not a qubit; expected a (lab A's) or b (lab B's)")
        }
        angleDeg = try c.decode(Double.self, forKey: .angleDeg, in: -3_600...3_600, what: "a rotation angle in degrees")
        if let name = try? c.decode(String.self, forKey: .axis) {
            switch name.lowercased() {
            case "x": axis = [1, 0, 0]
            case "y": axis = [0, 1, 0]
            case "z": axis = [0, 0, 1]
            default: throw c.invalid(.axis, "'\(name)' is not an axis; expected x, y, z or a vector [nx, ny, nz]")
            }
        } else {
            let vector = try c.decode([Double].self, forKey: .axis)
            let norm = vector.map { $0 * $0 }.reduce(0, +).squareRoot()
            guard vector.count == 3, vector.allSatisfy(\.isFinite), norm > 1e-9 else {
                throw c.invalid(.axis, "\(vector) is not an axis; expected x, y, z or a non-zero vector [nx, ny, nz]")
            }
            axis = vector.map { $0 / norm }
        }
    }
}

/// A general two-qubit density matrix in the configuration: `re` and `im` are four rows of four numbers
/// (basis |00⟩, |01⟩, |10⟩, |11⟩, lab A's qubit first; `im` defaults to zeros). Decoding checks that it
/// is Hermitian, has trace 1 and no eigenvalue below −1e-9 (each within 1e-9).
public struct SimulatedDensityMatrix: Decodable, Sendable, Equatable {
    /// Real parts, row-major, 16 entries.
    public var re: [Double]
    /// Imaginary parts, row-major, 16 entries.
    public var im: [Double]

    /// Tolerance of the Hermiticity, trace and positivity checks.
    public static let tolerance = 1e-9

    /// A matrix from 16 row-major real and imaginary parts; throws a message when it is not a density matrix.
    public init(re: [Double], im: [Double]) throws(SimulatedDensityMatrix.Invalid) {
        guard re.count == 16, im.count == 16 else { throw Invalid("expected 16 entries, found \(re.count) and \(im.count)") }
        self.re = re
        self.im = im
        try check()
    }

    /// Why a matrix is not a density matrix.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    enum CodingKeys: String, CodingKey { case re, im }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func rows(_ key: CodingKeys) throws -> [Double]? {
            guard let rows = try c.decodeIfPresent([[Double]].self, forKey: key) else { return nil }
            guard rows.count == 4, rows.allSatisfy({ $0.count == 4 }) else {
                throw c.invalid(key, "expected 4 rows of 4 numbers (basis |00⟩, |01⟩, |10⟩, |11⟩), found \(rows.count) rows of \(rows.map(\.count)) numbers")
            }
            guard rows.joined().allSatisfy(\.isFinite) else { throw c.invalid(key, "every entry must be a finite number") }
            return Array(rows.joined())
        }
        guard let real = try rows(.re) else {
            throw c.invalid(.re, "a density matrix needs re: 4 rows of 4 numbers (and optionally im:)")
        }
        re = real
        im = try rows(.im) ?? [Double](repeating: 0, count: 16)
        do { try check() } catch { throw c.invalid(.re, "\(error.description); give a Hermitian, positive semidefinite matrix of trace 1") }
    }

    private func check() throws(Invalid) {
        let tol = Self.tolerance
        for r in 0..<4 {
            for col in r..<4 {
                let dRe = re[4 * r + col] - re[4 * col + r], dIm = im[4 * r + col] + im[4 * col + r]
                if abs(dRe) > tol || abs(dIm) > tol {
                    throw Invalid("not Hermitian: entry [\(r)][\(col)] = \(re[4 * r + col]) + \(im[4 * r + col])i is not the conjugate of [\(col)][\(r)] = \(re[4 * col + r]) + \(im[4 * col + r])i")
                }
            }
        }
        let trace = re[0] + re[5] + re[10] + re[15]
        guard abs(trace - 1) <= tol else { throw Invalid("the trace is \(String(format: "%.10g", trace)), not 1") }
        let smallest = eigenvalues.min() ?? 0
        guard smallest >= -tol else {
            throw Invalid("not positive semidefinite: its smallest eigenvalue is \(String(format: "%.3g", smallest))")
        }
    }

    /// The four eigenvalues, ascending (Jacobi on the real 8×8 form [[Re, −Im], [Im, Re]], whose
    /// eigenvalues are those of the Hermitian matrix, each twice).
    public var eigenvalues: [Double] {
        var a = [[Double]](repeating: [Double](repeating: 0, count: 8), count: 8)
        for r in 0..<4 {
            for c in 0..<4 {
                let x = (re[4 * r + c] + re[4 * c + r]) / 2, y = (im[4 * r + c] - im[4 * c + r]) / 2
                a[r][c] = x; a[r + 4][c + 4] = x
                a[r + 4][c] = y; a[r][c + 4] = -y
            }
        }
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<8 { for q in (p + 1)..<8 { off += a[p][q] * a[p][q] } }
            if off < 1e-30 { break }
            for p in 0..<8 {
                for q in (p + 1)..<8 where abs(a[p][q]) > 1e-300 {
                    let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let cs = 1 / (t * t + 1).squareRoot(), sn = t * cs
                    for k in 0..<8 {
                        let akp = a[k][p], akq = a[k][q]
                        a[k][p] = cs * akp - sn * akq
                        a[k][q] = sn * akp + cs * akq
                    }
                    for k in 0..<8 {
                        let apk = a[p][k], aqk = a[q][k]
                        a[p][k] = cs * apk - sn * aqk
                        a[q][k] = sn * apk + cs * aqk
                    }
                }
            }
        }
        let doubled = (0..<8).map { a[$0][$0] }.sorted()
        return stride(from: 0, to: 8, by: 2).map { (doubled[$0] + doubled[$0 + 1]) / 2 }
    }
}
