import Foundation

/// A complex number in Cartesian form (only what the 4×4 density-matrix code needs).
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

    public static func + (a: Complex, b: Complex) -> Complex { Complex(a.re + b.re, a.im + b.im) }
    public static func - (a: Complex, b: Complex) -> Complex { Complex(a.re - b.re, a.im - b.im) }
    public static func * (a: Complex, b: Complex) -> Complex {
        Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
    }
    public static func * (s: Double, a: Complex) -> Complex { Complex(s * a.re, s * a.im) }
    public static func += (a: inout Complex, b: Complex) { a = a + b }
}
