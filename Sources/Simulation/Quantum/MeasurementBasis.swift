import Foundation
import LinkModel

/// A projective single-qubit measurement with two outcomes, +1 (index 0) and −1 (index 1).
///
/// Qubit convention: |0⟩ = |H⟩ (horizontal polarisation, the "bright"/"up" state's partner as the
/// protocol defines), |1⟩ = |V⟩. Outcome +1 projects onto the Bloch vector direction `n`, −1 onto
/// `−n`.
public enum MeasurementBasis: Sendable, Equatable, Hashable, Codable {
    /// Pauli Z: +1 ↔ |0⟩ (|H⟩), −1 ↔ |1⟩ (|V⟩).
    case z
    /// Pauli X: +1 ↔ (|0⟩+|1⟩)/√2 (diagonal polarisation).
    case x
    /// Pauli Y: +1 ↔ (|0⟩+i|1⟩)/√2 (circular polarisation).
    case y
    /// A linear polarisation analyser at `analyserAngleDeg` from H: +1 ↔ cos θ|H⟩ + sin θ|V⟩
    /// (Bloch polar angle 2θ in the X–Z plane). CHSH settings are given this way.
    case linear(analyserAngleDeg: Double)
    /// A general direction on the Bloch sphere: polar angle from +Z and azimuth from +X, in degrees.
    case bloch(polarDeg: Double, azimuthDeg: Double)

    /// The Bloch polar and azimuthal angles in radians.
    public var blochAnglesRad: (polar: Double, azimuth: Double) {
        switch self {
        case .z: return (0, 0)
        case .x: return (Double.pi / 2, 0)
        case .y: return (Double.pi / 2, Double.pi / 2)
        case .linear(let angle): return (2 * angle * Double.pi / 180, 0)
        case .bloch(let polar, let azimuth): return (polar * Double.pi / 180, azimuth * Double.pi / 180)
        }
    }

    /// The eigenvector of outcome `index` (0 → +1, 1 → −1) as amplitudes on |0⟩, |1⟩.
    public func eigenvector(outcome index: Int) -> (Complex, Complex) {
        let (theta, phi) = blochAnglesRad
        if index == 0 {
            return (Complex(cos(theta / 2)), sin(theta / 2) * Complex.phase(phi))
        }
        return (Complex(sin(theta / 2)), -cos(theta / 2) * Complex.phase(phi))
    }

    /// Whether all parameters are finite.
    var isFinite: Bool {
        switch self {
        case .z, .x, .y: return true
        case .linear(let a): return a.isFinite
        case .bloch(let p, let a): return p.isFinite && a.isFinite
        }
    }
}
