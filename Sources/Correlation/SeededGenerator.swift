/// A small, fast, seeded pseudo-random generator (xoshiro256**) so that resampling is reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var mixer = seed
        func next() -> UInt64 {
            mixer &+= 0x9E37_79B9_7F4A_7C15
            var z = mixer
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform double in `[0, 1)`.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal variate (Box–Muller).
    public mutating func nextGaussian() -> Double {
        let u1 = max(nextUnit(), 0x1p-60)
        let u2 = nextUnit()
        return (-2 * libmLog(u1)).squareRoot() * libmCos(2 * Double.pi * u2)
    }

    /// An exponential variate with mean `mean`.
    public mutating func nextExponential(mean: Double) -> Double {
        -mean * libmLog(max(1 - nextUnit(), 0x1p-60))
    }

    /// A Poisson variate with mean `mean` (exact by multiplication below 30, normal approximation above).
    public mutating func nextPoisson(mean: Double) -> Int64 {
        guard mean > 0 else { return 0 }
        if mean < 30 {
            let limit = libmExp(-mean)
            var product = nextUnit()
            var k: Int64 = 0
            while product > limit { product *= nextUnit(); k += 1 }
            return k
        }
        return max(0, Int64((mean + mean.squareRoot() * nextGaussian()).rounded()))
    }
}
