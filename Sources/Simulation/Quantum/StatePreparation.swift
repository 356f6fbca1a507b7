import Foundation
import LinkModel

/// How the simulated two-qubit state departs from a Bell state with white noise: a relative phase, a
/// general initial density matrix, a rotation of one qubit, amplitude and phase damping of either qubit.
///
/// A pair source emits ``state(target:visibility:)``: the initial state (``initial``, else the target Bell
/// state), the phase gate diag(1, e^{iφ}) on lab A's qubit, white noise ρ → Vρ + (1 − V)I/4, the
/// rotation, amplitude damping, phase damping — in this order. A heralded link's heralded states pass
/// through ``apply(to:)`` (phase, rotation, damping; no initial state: the herald sets it).
///
/// Qubit conventions as ``ComplexMatrix4``: |0⟩ = |H⟩, |1⟩ = |V⟩, lab A's qubit first.
public struct StatePreparation: Sendable, Equatable, Codable {
    /// A rotation exp(−iθ n·σ/2) of one qubit.
    public struct Rotation: Sendable, Equatable, Codable {
        /// 0: lab A's qubit, 1: lab B's.
        public var qubit: Int
        /// Unit axis (x, y, z).
        public var axis: [Double]
        /// Rotation angle θ, in radians.
        public var angleRad: Double

        public init(qubit: Int, axis: [Double], angleRad: Double) {
            self.qubit = qubit
            self.axis = axis
            self.angleRad = angleRad
        }
    }

    /// Replaces the target Bell state (pair source only), when set.
    public var initial: ComplexMatrix4?
    /// Relative phase φ (radians): diag(1, e^{iφ}) on lab A's qubit, so Φ+ becomes (|00⟩ + e^{iφ}|11⟩)/√2
    /// and Ψ+ becomes (|01⟩ + e^{iφ}|10⟩)/√2.
    public var phaseRad: Double
    /// A rotation of one qubit, if any.
    public var rotation: Rotation?
    /// Amplitude-damping γ of lab A's and lab B's qubit: Kraus [[1, 0], [0, √(1−γ)]], [[0, √γ], [0, 0]].
    public var amplitudeDamping: [Double]
    /// Phase-damping λ of lab A's and lab B's qubit: Kraus [[1, 0], [0, √(1−λ)]], [[0, 0], [0, √λ]].
    public var phaseDamping: [Double]

    /// A preparation; by default nothing (the Werner state of the target).
    public init(initial: ComplexMatrix4? = nil, phaseRad: Double = 0, rotation: Rotation? = nil,
                amplitudeDamping: [Double] = [0, 0], phaseDamping: [Double] = [0, 0]) {
        self.initial = initial
        self.phaseRad = phaseRad
        self.rotation = rotation
        self.amplitudeDamping = amplitudeDamping
        self.phaseDamping = phaseDamping
    }

    /// Nothing beyond the Werner state.
    public static let none = StatePreparation()

    /// The state a pair source emits for the `target` Bell state and visibility V.
    public func state(target: BellState, visibility: Double) -> ComplexMatrix4 {
        let rho = (initial ?? .bell(target)).applying(Self.phaseGate(phaseRad), toQubit: 0)
        return applyChannels(to: rho.scaled(visibility) + ComplexMatrix4.identity.scaled((1 - visibility) / 4))
    }

    /// A heralded state after the phase, rotation and damping (trace and herald probability unchanged).
    public func apply(to rho: ComplexMatrix4) -> ComplexMatrix4 {
        applyChannels(to: rho.applying(Self.phaseGate(phaseRad), toQubit: 0))
    }

    private func applyChannels(to state: ComplexMatrix4) -> ComplexMatrix4 {
        var rho = state
        if let rotation { rho = rho.applying(Self.rotation(axis: rotation.axis, angleRad: rotation.angleRad), toQubit: rotation.qubit) }
        for qubit in 0..<2 {
            let gamma = amplitudeDamping[qubit]
            if gamma > 0 {
                rho = rho.applyingChannel([[.one, .zero, .zero, Complex((1 - gamma).squareRoot())],
                                           [.zero, Complex(gamma.squareRoot()), .zero, .zero]], toQubit: qubit)
            }
            let lambda = phaseDamping[qubit]
            if lambda > 0 {
                rho = rho.applyingChannel([[.one, .zero, .zero, Complex((1 - lambda).squareRoot())],
                                           [.zero, .zero, .zero, Complex(lambda.squareRoot())]], toQubit: qubit)
            }
        }
        return rho
    }

    /// diag(1, e^{iφ}) as a row-major 2×2.
    static func phaseGate(_ phi: Double) -> [Complex] { [.one, .zero, .zero, .phase(phi)] }

    /// exp(−iθ n·σ/2) = cos(θ/2) I − i sin(θ/2) n·σ, row-major 2×2.
    static func rotation(axis n: [Double], angleRad theta: Double) -> [Complex] {
        let c = cos(theta / 2), s = sin(theta / 2)
        // n·σ = [[nz, nx − i ny], [nx + i ny, −nz]]; −i s (a + ib) = s b − i s a.
        return [Complex(c, -s * n[2]), Complex(-s * n[1], -s * n[0]),
                Complex(s * n[1], -s * n[0]), Complex(c, s * n[2])]
    }

    /// Throws a ``SimulationError`` at `path` for parameters out of range.
    func validate(_ path: String) throws {
        guard amplitudeDamping.count == 2, phaseDamping.count == 2 else {
            throw SimulationError(.invalidParameter, parameter: path, message: "damping needs one value per qubit",
                                  hint: "give two values (lab A's qubit, lab B's)")
        }
        for qubit in 0..<2 {
            try Check.probability(amplitudeDamping[qubit], path + ".amplitudeDamping[\(qubit)]")
            try Check.probability(phaseDamping[qubit], path + ".phaseDamping[\(qubit)]")
        }
        guard phaseRad.isFinite else {
            throw SimulationError(.invalidParameter, parameter: path + ".phaseRad", message: "not finite", hint: "use a finite phase")
        }
        if let rotation {
            let norm = rotation.axis.map { $0 * $0 }.reduce(0, +)
            guard (0...1).contains(rotation.qubit), rotation.axis.count == 3, abs(norm - 1) < 1e-9, rotation.angleRad.isFinite else {
                throw SimulationError(.invalidParameter, parameter: path + ".rotation",
                                      message: "qubit \(rotation.qubit), axis \(rotation.axis), angle \(rotation.angleRad)",
                                      hint: "rotate qubit 0 or 1 about a unit axis by a finite angle")
            }
        }
        if let initial {
            let hermitian = (0..<4).allSatisfy { r in (0..<4).allSatisfy { c in
                let d = initial[complex: r, c] - initial[complex: c, r].conjugate
                return d.magnitudeSquared <= 1e-18
            } }
            guard hermitian, abs(initial.trace - 1) <= 1e-9 else {
                throw SimulationError(.invalidParameter, parameter: path + ".initial", message: "not a Hermitian matrix of trace 1",
                                      hint: "give a density matrix")
            }
        }
    }
}

extension ComplexMatrix4 {
    /// The 4×4 operator `op` (row-major 2×2) acting on `qubit` (0: lab A's, 1: lab B's), identity on the other.
    static func embedded(_ op: [Complex], qubit: Int) -> [Complex] {
        var m = [Complex](repeating: .zero, count: 16)
        for r in 0..<4 {
            for c in 0..<4 {
                // Basis index 2·a + b.
                let (ra, rb, ca, cb) = (r >> 1, r & 1, c >> 1, c & 1)
                if qubit == 0 {
                    if rb == cb { m[4 * r + c] = op[2 * ra + ca] }
                } else if ra == ca {
                    m[4 * r + c] = op[2 * rb + cb]
                }
            }
        }
        return m
    }

    /// K ρ K† for a 4×4 row-major K.
    func conjugated(by k: [Complex]) -> ComplexMatrix4 {
        var kr = [Complex](repeating: .zero, count: 16)
        for r in 0..<4 { for c in 0..<4 { for j in 0..<4 { kr[4 * r + c] += k[4 * r + j] * self[complex: j, c] } } }
        var result = [Complex](repeating: .zero, count: 16)
        for r in 0..<4 { for c in 0..<4 { for j in 0..<4 { result[4 * r + c] += kr[4 * r + j] * k[4 * c + j].conjugate } } }
        return ComplexMatrix4(entries: result)
    }

    /// U ρ U† for a single-qubit unitary `u` (row-major 2×2) on `qubit`.
    func applying(_ u: [Complex], toQubit qubit: Int) -> ComplexMatrix4 {
        conjugated(by: Self.embedded(u, qubit: qubit))
    }

    /// Σ_k K_k ρ K_k† for single-qubit Kraus operators (row-major 2×2) on `qubit`.
    func applyingChannel(_ kraus: [[Complex]], toQubit qubit: Int) -> ComplexMatrix4 {
        var result = ComplexMatrix4.zero
        for k in kraus { result = result + conjugated(by: Self.embedded(k, qubit: qubit)) }
        return result
    }
}
