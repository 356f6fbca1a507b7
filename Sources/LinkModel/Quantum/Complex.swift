import Foundation

/// A complex number in Cartesian form (only what the two-qubit state code needs: ``ComplexMatrix4``'s entries
/// one at a time, single-qubit operators and amplitudes).
public struct Complex: Sendable, Equatable, Codable {
    /// Real part.
    public var re: Double
    /// Imaginary part.
    public var im: Double

    /// The number `re + i·im`.
    public init(_ re: Double, _ im: Double = 0) {
        self.re = re
        self.im = im
    }

    /// Zero.
    public static let zero = Complex(0, 0)
    /// One.
    public static let one = Complex(1, 0)

    /// e^{iφ}.
    public static func phase(_ angleRad: Double) -> Complex { Complex(cos(angleRad), sin(angleRad)) }

    /// Complex conjugate.
    public var conjugate: Complex { Complex(re, -im) }

    /// |z|².
    public var magnitudeSquared: Double { re * re + im * im }

    /// a + b.
    public static func + (a: Complex, b: Complex) -> Complex { Complex(a.re + b.re, a.im + b.im) }
    /// a − b.
    public static func - (a: Complex, b: Complex) -> Complex { Complex(a.re - b.re, a.im - b.im) }
    /// a · b.
    public static func * (a: Complex, b: Complex) -> Complex {
        Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
    }
    /// A real multiple s · a.
    public static func * (s: Double, a: Complex) -> Complex { Complex(s * a.re, s * a.im) }
    /// a = a + b.
    public static func += (a: inout Complex, b: Complex) { a = a + b }
}

extension ComplexMatrix4 {
    /// A matrix from 16 row-major complex entries (any other number gives the zero matrix).
    public init(entries: [Complex]) {
        self.init(re: entries.map(\.re), im: entries.map(\.im))
    }

    /// The 16 entries as complex numbers, row-major: `entries[4 * row + column]`.
    public var entries: [Complex] { (0..<16).map { Complex(re[$0], im[$0]) } }

    /// The entry at `row`, `column` as a ``Complex``.
    public subscript(complex row: Int, column: Int) -> Complex {
        get { Complex(re[4 * row + column], im[4 * row + column]) }
        set { re[4 * row + column] = newValue.re; im[4 * row + column] = newValue.im }
    }
}
