/// The running state of one tagger clock: maps true detection times to recorded times as
/// ``ClockModel`` documents, generating the wander random walk as time advances.
struct ClockState: Sendable {
    let model: ClockModel
    let scale: Double
    let hasDrift: Bool
    let wanderOn: Bool
    let intervalPs: Int64
    let offsetPs: Int64
    /// Wander at k · intervalPs, in ps; `knots[0] = 0`.
    private(set) var knots: [Double] = [0]
    private var rng: DistributionSampler
    let jumps: [ClockJump]

    // Cursor for monotone `map` calls.
    private var segmentEndPs: Int64
    private var segmentStartPs: Int64 = 0
    private var segmentBase: Double = 0
    private var segmentSlope: Double = 0
    private var jumpCursor = 0
    private var jumpTotalPs: Int64 = 0
    private var nextJumpPs: Int64

    init(model: ClockModel, jumps: [ClockJump], rng: DistributionSampler) {
        self.model = model
        scale = model.frequencyErrorPpm * 1e-6
        hasDrift = model.frequencyErrorPpm != 0
        wanderOn = model.wanderStepPs > 0
        intervalPs = model.wanderIntervalPs
        offsetPs = model.offsetPs
        self.rng = rng
        self.jumps = jumps
        nextJumpPs = jumps.first?.atPs ?? Int64.max
        segmentEndPs = wanderOn ? model.wanderIntervalPs : Int64.max
        segmentSlope = scale
        if wanderOn { advanceSegment(to: 0) }
    }

    /// Drift plus wander on wander interval `index` as `base + (t − start) · slope`, the one
    /// formula both ``mapParts(_:)`` and ``evaluate(_:)`` use (drift only: start 0, slope = drift).
    @inline(__always)
    private func segment(_ index: Int) -> (startPs: Int64, base: Double, slope: Double) {
        let start = Int64(index) * intervalPs
        return (start, Double(start) * scale + knots[index], scale + (knots[index + 1] - knots[index]) / Double(intervalPs))
    }

    /// Generates wander knots up to index `index`.
    private mutating func ensureKnots(upTo index: Int) {
        while knots.count <= index {
            let step = min(10, max(-10, rng.standardNormal())) * model.wanderStepPs
            knots.append(knots[knots.count - 1] + step)
        }
    }

    /// Recorded time of true time `truePs`; calls must come with non-decreasing `truePs`.
    @inline(__always)
    mutating func map(_ truePs: Int64) -> Int64 {
        let (whole, fractional) = mapParts(truePs)
        return whole &+ roundHalfAway(fractional)
    }

    /// The recorded time of `truePs` as an integer part (true time, offset, jumps) and the
    /// part still to be rounded (drift and wander), so that a caller can add jitter before the
    /// one rounding. Calls must come with non-decreasing `truePs`.
    @inline(__always)
    mutating func mapParts(_ truePs: Int64) -> (whole: Int64, fractional: Double) {
        if truePs >= nextJumpPs { advanceJumps(to: truePs) }
        if truePs >= segmentEndPs { advanceSegment(to: truePs) }
        // Drift and wander fused into one affine map per wander interval.
        return (truePs &+ offsetPs &+ jumpTotalPs, segmentBase + Double(truePs &- segmentStartPs) * segmentSlope)
    }

    /// The affine piece of the map in force from the last mapped time on: for true times `t`
    /// below `validUntilPs`, recorded = t + `shiftPs` + round(`base` + (t − `startPs`) · `slope` + jitter).
    var affinePiece: (shiftPs: Int64, startPs: Int64, base: Double, slope: Double, validUntilPs: Int64) {
        (offsetPs &+ jumpTotalPs, segmentStartPs, segmentBase, segmentSlope, min(segmentEndPs, nextJumpPs))
    }

    /// Moves the cursor to true time `truePs` (non-decreasing across calls).
    mutating func advance(to truePs: Int64) {
        if truePs >= nextJumpPs { advanceJumps(to: truePs) }
        if truePs >= segmentEndPs { advanceSegment(to: truePs) }
    }

    private mutating func advanceJumps(to truePs: Int64) {
        while jumpCursor < jumps.count && jumps[jumpCursor].atPs <= truePs {
            jumpTotalPs &+= jumps[jumpCursor].jumpPs
            jumpCursor += 1
        }
        nextJumpPs = jumpCursor < jumps.count ? jumps[jumpCursor].atPs : Int64.max
    }

    private mutating func advanceSegment(to truePs: Int64) {
        let index = Int(truePs / intervalPs)
        ensureKnots(upTo: index + 1)
        (segmentStartPs, segmentBase, segmentSlope) = segment(index)
        segmentEndPs = segmentStartPs + intervalPs
    }

    /// Recorded time of `truePs` without moving the cursor (any non-negative time).
    mutating func evaluate(_ truePs: Int64) -> Int64 {
        var jumpTotal: Int64 = 0
        for jump in jumps where jump.atPs <= truePs { jumpTotal &+= jump.jumpPs }
        var fractional = Double(truePs) * scale
        if wanderOn && truePs >= 0 {
            let index = Int(truePs / intervalPs)
            ensureKnots(upTo: index + 1)
            let (start, base, slope) = segment(index)
            fractional = base + Double(truePs &- start) * slope
        }
        return truePs &+ model.offsetPs &+ roundHalfAway(fractional) &+ jumpTotal
    }
}

/// Rounds half away from zero to an integer.
///
/// Below 2⁵¹ in magnitude (always, in practice) without the range checks of a converting
/// initialiser: adding 1.5 · 2⁵² rounds to the nearest integer, ties to even, and leaves it in the
/// low mantissa bits; the rare exact tie rounded towards zero is then moved away from it.
@inline(__always)
func roundHalfAway(_ x: Double) -> Int64 {
    guard abs(x) < 0x1p51 else { return Int64(x + (x < 0 ? -0.5 : 0.5)) }
    let shift = 6_755_399_441_055_744.0
    var r = Int64(bitPattern: (x + shift).bitPattern) &- Int64(bitPattern: shift.bitPattern)
    let d = x - Double(r)  // exact
    if abs(d) == 0.5 && (d > 0) == (x > 0) { r &+= d > 0 ? 1 : -1 }
    return r
}

/// Rounds to the nearest integer, ties to even, as ``roundHalfAway(_:)`` but without its tie check:
/// for values that are never an exact half in practice (a continuous jitter added).
@inline(__always)
func roundToNearest(_ x: Double) -> Int64 {
    guard abs(x) < 0x1p51 else { return roundHalfAway(x) }
    let shift = 6_755_399_441_055_744.0
    return Int64(bitPattern: (x + shift).bitPattern) &- Int64(bitPattern: shift.bitPattern)
}
