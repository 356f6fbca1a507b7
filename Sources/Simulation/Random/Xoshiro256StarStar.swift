/// SplitMix64: a tiny generator used only to expand one 64-bit seed into well-mixed state words.
public struct SplitMix64: Sendable {
    /// Current state.
    public private(set) var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 pseudo-random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A stateless 64-bit mix of `value` (one SplitMix64 step from `value`).
    @inlinable public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The xoshiro256** pseudo-random generator (Blackman and Vigna): 256 bits of state, period
/// 2^256 − 1, about a nanosecond per 64-bit output. Deterministic for a seed.
///
/// The simulator gives every physical process (pair emission, each lab's detectors, each clock)
/// its own generator derived from the run seed and a stream number, so that changing one part of
/// a scenario does not reshuffle the randomness of the others.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64
    @usableFromInline var s1: UInt64
    @usableFromInline var s2: UInt64
    @usableFromInline var s3: UInt64

    /// A generator whose state is expanded from `seed` with SplitMix64.
    public init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }  // the all-zero state is a fixed point
    }

    /// A generator for sub-stream `stream` of the run seeded with `seed`.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: SplitMix64.mix(seed ^ SplitMix64.mix(stream &+ 0x5851_F42D_4C95_7F2D)))
    }

    @inline(__always) @usableFromInline static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 &- k))
    }

    /// The next 64 pseudo-random bits.
    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inlinable @inline(__always)
    public mutating func nextUniform() -> Double {
        Double(Int64(bitPattern: next() >> 11)) * 0x1.0p-53
    }

    /// Two independent uniform doubles in [0, 1) with 32 random bits each, from one output
    /// (for comparisons against probabilities, where 2⁻³² resolution is ample).
    @inlinable @inline(__always)
    public mutating func nextUniformPair() -> (Double, Double) {
        let word = next()
        return (Double(Int64(bitPattern: word >> 32)) * 0x1.0p-32,
                Double(Int64(bitPattern: word & 0xFFFF_FFFF)) * 0x1.0p-32)
    }

    /// A uniform double in (0, 1] (never zero, safe for `log`).
    @inlinable @inline(__always)
    public mutating func nextUniformPositive() -> Double {
        Double(Int64(bitPattern: (next() >> 11) &+ 1)) * 0x1.0p-53
    }
}
