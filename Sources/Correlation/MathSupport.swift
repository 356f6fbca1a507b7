#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The module calls libm through these names only.
@inline(__always) func libmLog(_ x: Double) -> Double { log(x) }
@inline(__always) func libmExp(_ x: Double) -> Double { exp(x) }
@inline(__always) func libmCos(_ x: Double) -> Double { cos(x) }
@inline(__always) func libmSin(_ x: Double) -> Double { sin(x) }

/// ⌊x⌋ as an `Int`, exactly `Int(x.rounded(.down))` without its libm call (x within `Int`'s range).
@inline(__always) func floorToInt(_ x: Double) -> Int {
    let truncated = Int(x)
    return Double(truncated) > x ? truncated &- 1 : truncated
}

/// `x.rounded()` (to nearest, halves away from zero) without its libm call (|x| < 2⁶³): x minus its truncation
/// is exact, so the comparison with one half is too.
@inline(__always) func roundedToNearest(_ x: Double) -> Double {
    let truncated = Double(Int64(x))
    let fraction = x - truncated
    return fraction >= 0.5 ? truncated + 1 : (fraction <= -0.5 ? truncated - 1 : truncated)
}
