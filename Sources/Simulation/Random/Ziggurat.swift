import Foundation

/// Tables of the ziggurat method (Marsaglia and Tsang, in the formulation of Doornik) for the
/// standard normal and the unit exponential distribution.
///
/// Layer `i` of a ziggurat is a horizontal strip; `x[i]` is its right edge and `f[i]` the density
/// there. A sample first picks a layer with 7 or 8 random bits; most samples fall inside the
/// rectangle under the curve and cost one multiplication.
///
/// The fast path reads `fast`, the pairs (ratio[i], x[i]) side by side in one allocation made
/// once per table (the tables are process-wide constants and never freed). Its index is a layer
/// number masked with `mask` = layers − 1, so it is in bounds by construction; that is why the
/// table is `@unchecked Sendable` (immutable after `init`).
@usableFromInline
struct ZigguratTable: @unchecked Sendable {
    @usableFromInline let x: [Double]
    @usableFromInline let ratio: [Double]
    @usableFromInline let density: [Double]
    @usableFromInline let tailStart: Double
    @usableFromInline let mask: UInt64
    /// 2 · layers values: ratio[i] at 2i, x[i] at 2i + 1.
    @usableFromInline let fast: UnsafePointer<Double>

    /// Builds the table for a decreasing density `f` with inverse `inverse`, `layers` layers,
    /// tail start `r` and common layer area `v`.
    init(layers: Int, r: Double, v: Double, f: (Double) -> Double, inverse: (Double) -> Double) {
        var x = [Double](repeating: 0, count: layers + 1)
        x[0] = v / f(r)
        x[1] = r
        for i in 2..<layers {
            x[i] = inverse(v / x[i - 1] + f(x[i - 1]))
        }
        x[layers] = 0
        var ratio = [Double](repeating: 0, count: layers)
        for i in 0..<layers { ratio[i] = x[i + 1] / x[i] }
        self.x = x
        self.ratio = ratio
        self.density = x.map(f)
        self.tailStart = r
        self.mask = UInt64(layers - 1)
        precondition(layers > 0 && layers & (layers - 1) == 0, "the layer count must be a power of two")
        let fast = UnsafeMutablePointer<Double>.allocate(capacity: 2 * layers)
        for i in 0..<layers {
            fast[2 * i] = ratio[i]
            fast[2 * i + 1] = x[i]
        }
        self.fast = UnsafePointer(fast)
    }

    /// The fast-path test of layer `layer` (a masked layer number): the sample `u · x[layer]`
    /// when `|u| < ratio[layer]`, else `nil`.
    @inlinable @inline(__always)
    func fastSample(layer: Int, u: Double, magnitude: Double) -> Double? {
        let pair = fast + 2 &* layer
        return magnitude < pair[0] ? u * pair[1] : nil
    }

    /// The 128-layer table of the standard normal density exp(−x²/2) (unnormalised).
    static let normal = ZigguratTable(
        layers: 128, r: 3.442619855899, v: 9.91256303526217e-3,
        f: { exp(-0.5 * $0 * $0) }, inverse: { (-2 * log($0)).squareRoot() })

    /// The 256-layer table of the exponential density exp(−x).
    static let exponential = ZigguratTable(
        layers: 256, r: 7.69711747013104972, v: 3.949659822581572e-3,
        f: { exp(-$0) }, inverse: { -log($0) })
}

/// Fast samplers of continuous distributions on top of ``Xoshiro256StarStar``.
///
/// Keep one sampler per random stream; it holds the ziggurat tables by reference, so copying it
/// is cheap.
public struct DistributionSampler: Sendable {
    /// The uniform bit source.
    public var generator: Xoshiro256StarStar
    @usableFromInline let normalTable: ZigguratTable
    @usableFromInline let exponentialTable: ZigguratTable

    /// A sampler drawing from `generator`.
    public init(generator: Xoshiro256StarStar) {
        self.generator = generator
        normalTable = .normal
        exponentialTable = .exponential
    }

    /// A sampler for sub-stream `stream` of the run seeded with `seed`.
    public init(seed: UInt64, stream: UInt64) {
        self.init(generator: Xoshiro256StarStar(seed: seed, stream: stream))
    }

    /// A uniform double in [0, 1).
    @inlinable @inline(__always)
    public mutating func uniform() -> Double { generator.nextUniform() }

    /// Two uniform doubles in [0, 1) with 32 bits each, from one 64-bit output.
    @inlinable @inline(__always)
    public mutating func uniformPair() -> (Double, Double) { generator.nextUniformPair() }

    /// 64 uniform random bits.
    @inlinable @inline(__always)
    public mutating func bits() -> UInt64 { generator.next() }

    /// A standard normal deviate (mean 0, standard deviation 1).
    @inlinable @inline(__always)
    public mutating func standardNormal() -> Double {
        let word = generator.next()
        let layer = Int(word & normalTable.mask)
        // 53 high bits → u uniform in [−1, 1).
        let u = Double(Int64(bitPattern: word >> 11)) * 0x1.0p-52 - 1.0
        if let sample = normalTable.fastSample(layer: layer, u: u, magnitude: abs(u)) { return sample }
        return standardNormalSlow(layer: layer, u: u)
    }

    @usableFromInline @inline(never)
    mutating func standardNormalSlow(layer firstLayer: Int, u firstU: Double) -> Double {
        var layer = firstLayer
        var u = firstU
        while true {
            if abs(u) < normalTable.ratio[layer] { return u * normalTable.x[layer] }
            if layer == 0 { return normalTail(negative: u < 0) }
            let x = u * normalTable.x[layer]
            let lower = normalTable.density[layer]
            let upper = normalTable.density[layer + 1]
            if lower + generator.nextUniform() * (upper - lower) < exp(-0.5 * x * x) { return x }
            let word = generator.next()
            layer = Int(word & normalTable.mask)
            u = Double(Int64(bitPattern: word >> 11)) * 0x1.0p-52 - 1.0
        }
    }

    @usableFromInline
    mutating func normalTail(negative: Bool) -> Double {
        let r = normalTable.tailStart
        while true {
            let x = log(generator.nextUniformPositive()) / r
            let y = log(generator.nextUniformPositive())
            if -2 * y >= x * x { return negative ? x - r : r - x }
        }
    }

    /// A unit-mean exponential deviate.
    @inlinable @inline(__always)
    public mutating func standardExponential() -> Double {
        let word = generator.next()
        let layer = Int(word & exponentialTable.mask)
        let u = Double(Int64(bitPattern: word >> 11)) * 0x1.0p-53
        if let sample = exponentialTable.fastSample(layer: layer, u: u, magnitude: u) { return sample }
        return standardExponentialSlow(layer: layer, u: u)
    }

    @usableFromInline @inline(never)
    mutating func standardExponentialSlow(layer firstLayer: Int, u firstU: Double) -> Double {
        var layer = firstLayer
        var u = firstU
        while true {
            if u < exponentialTable.ratio[layer] { return u * exponentialTable.x[layer] }
            if layer == 0 { return exponentialTable.tailStart - log(generator.nextUniformPositive()) }
            let x = u * exponentialTable.x[layer]
            let lower = exponentialTable.density[layer]
            let upper = exponentialTable.density[layer + 1]
            if lower + generator.nextUniform() * (upper - lower) < exp(-x) { return x }
            let word = generator.next()
            layer = Int(word & exponentialTable.mask)
            u = Double(Int64(bitPattern: word >> 11)) * 0x1.0p-53
        }
    }

    /// A geometric count: the number of failures before the first success of independent trials
    /// with success probability `p` (0 < p ≤ 1). Returns `Int64.max` when `p` is not positive.
    public mutating func geometricFailures(successProbability p: Double) -> Int64 {
        guard p > 0 else { return Int64.max }
        if p >= 1 { return 0 }
        return geometricFailures(logFailureProbability: log1p(-p))
    }

    /// ``geometricFailures(successProbability:)`` with `log1p(−p)` computed once by the caller
    /// (0 < p < 1, so the argument is finite and negative).
    @inlinable
    mutating func geometricFailures(logFailureProbability logQ: Double) -> Int64 {
        let value = log(generator.nextUniformPositive()) / logQ
        return value >= 9.0e18 ? Int64.max : Int64(value)
    }
}
