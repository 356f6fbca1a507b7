/// The joint outcome of one emitted pair with at least one detected photon — which labs detect it
/// and which detector clicks in each — as one table lookup (Walker's alias method over eight
/// outcomes), for every pair of measurement bases.
///
/// Outcomes 0–3: both photons detected, Born outcome `2a + b`; 4–5: only lab A's photon, outcome
/// `a` drawn from A's marginal; 6–7: only lab B's, outcome `b` from B's marginal. Each outcome is
/// coded in four bits: A's detector (bit 0), B's detector (bit 1), A detects (bit 2), B detects
/// (bit 3).
///
/// An entry packs a column's threshold (``thresholdBits`` bits), the column's own code (bits
/// 32–39) and its alias's code (bits 40–47).
struct PairOutcomeTable: Sendable {
    static let columns = 8
    static let thresholdBits = 29
    /// ``columns`` entries per basis pair (row `indexA · basesB + indexB`).
    let entries: [UInt64]

    /// The table for the cumulative Born thresholds `born` (three per basis pair, as
    /// ``ComplexMatrix4/cumulativeOutcomeTable(basesA:basesB:)`` gives them) and the
    /// conditional probabilities `both` (both photons detected) and `aOnly` (only A's), given
    /// that at least one photon is detected.
    init(born: [Double], both: Double, aOnly: Double) {
        let bOnly = max(0, 1 - both - aOnly)
        var entries: [UInt64] = []
        entries.reserveCapacity(born.count / 3 * Self.columns)
        var row = 0
        while row + 2 < born.count {
            let c0 = born[row], c1 = born[row + 1], c2 = born[row + 2]
            let p = [max(0, c0), max(0, c1 - c0), max(0, c2 - c1), max(0, 1 - c2)]
            let probabilities = [both * p[0], both * p[1], both * p[2], both * p[3],
                                 aOnly * (p[0] + p[1]), aOnly * (p[2] + p[3]),
                                 bOnly * (p[0] + p[2]), bOnly * (p[1] + p[3])]
            entries += Self.aliasRow(probabilities)
            row += 3
        }
        self.entries = entries
    }

    /// The four-bit code of outcome `k` (see the type's documentation).
    static func code(_ k: Int) -> UInt64 {
        switch k {
        case 0..<4: return UInt64(k >> 1) | UInt64(k & 1) << 1 | 0b1100
        case 4, 5: return UInt64(k & 1) | 0b0100
        default: return UInt64(k & 1) << 1 | 0b1000
        }
    }

    /// One row of the alias table (Vose's construction) for `probabilities` (eight values).
    static func aliasRow(_ probabilities: [Double]) -> [UInt64] {
        let n = probabilities.count
        let total = probabilities.reduce(0, +)
        var scaled = probabilities.map { total > 0 ? $0 * Double(n) / total : 1 }
        var threshold = [Double](repeating: 1, count: n)
        var alias = Array(0..<n)
        var small = (0..<n).filter { scaled[$0] < 1 }
        var large = (0..<n).filter { scaled[$0] >= 1 }
        while let s = small.popLast(), let l = large.popLast() {
            threshold[s] = scaled[s]
            alias[s] = l
            scaled[l] -= 1 - scaled[s]
            if scaled[l] < 1 { small.append(l) } else { large.append(l) }
        }
        // Columns left on either list are full (up to rounding).
        let one = Double(1 << thresholdBits)
        return (0..<n).map { k in
            let t = UInt64((min(1, max(0, threshold[k])) * one).rounded())
            return t | code(k) << 32 | code(alias[k]) << 40
        }
    }
}

/// The inner loop of pair generation over one stretch of emission time in which the basis pair
/// does not change, with its state in locals.
struct PairEmissionLoop {
    let meanGapPs: Double
    /// Stretch length in ps, minus one half (see ``run``).
    let limit: Double
    /// Arrival time at lab A and lab B of a pair emitted at the stretch's start.
    let baseAPs: Int64
    let baseBPs: Int64

    /// 1.5 · 2⁵²: adding it to a double of magnitude below 2⁵¹ rounds it to an integer held in
    /// the low mantissa bits.
    @usableFromInline static let roundingShift = 6_755_399_441_055_744.0

    /// Emits pairs from `offset` (time of the next pair from the stretch's start, minus one half)
    /// while it is below ``limit`` and fewer than `budget` pairs were written; every pair is
    /// written to both buffers and each lab's count advances only when its photon is detected.
    /// Returns the new counts. Bounds: `budget` ≤ the room left in either buffer, and `row` (the
    /// stretch's alias-table row) holds ``PairOutcomeTable/columns`` entries.
    ///
    /// One generator word per pair: bits 32–63 pick the pair's outcome, bits 0–31 the exponential
    /// gap to the next pair (ziggurat layer and a 24-bit uniform; only the rare rejection goes
    /// through `sampler`, in memory).
    @inline(__always)
    func run(row: UnsafeBufferPointer<UInt64>, offset: inout Double, sampler: inout DistributionSampler, a: UnsafeMutableBufferPointer<RawEvent>,
             countA: Int, b: UnsafeMutableBufferPointer<RawEvent>, countB: Int, budget: Int) -> (Int, Int) {
        guard budget <= a.count - countA, budget <= b.count - countB, row.count == PairOutcomeTable.columns,
              limit < 0x1p50, let startA = a.baseAddress, let startB = b.baseAddress else { return (countA, countB) }
        var time = offset
        var generator = sampler.generator
        let exponential = sampler.exponentialTable
        let shiftBits = Int64(bitPattern: Self.roundingShift.bitPattern)
        // Write cursors: each advances at most once per pair, and at most `budget` pairs are written.
        var slotA = startA + countA, slotB = startB + countB
        var written = 0
        while time < limit && written < budget {
            // 0 ≤ time + ½ < limit + ½: the rounded value of `time` is in [0, stretch length).
            let emitted = Int64(bitPattern: (time + Self.roundingShift).bitPattern) &- shiftBits
            let word = generator.next()
            let entry = row[Int(truncatingIfNeeded: (word >> 32) & 7)]  // 8 columns: bits 32–34
            let uniform = word >> 35  // 29 bits
            let below = (uniform &- (entry & 0xFFFF_FFFF)) >> 63  // 1 when uniform < threshold
            let code = (entry >> (40 &- (below << 3))) & 0xFF
            slotA.pointee = RawEvent(timePs: baseAPs &+ emitted, detector: Int32(truncatingIfNeeded: code & 1))
            slotB.pointee = RawEvent(timePs: baseBPs &+ emitted, detector: Int32(truncatingIfNeeded: (code >> 1) & 1))
            slotA += Int(truncatingIfNeeded: (code >> 2) & 1)
            slotB += Int(truncatingIfNeeded: code >> 3)
            written &+= 1
            // Exponential gap to the next pair (ziggurat fast path inline).
            let layer = Int(truncatingIfNeeded: word & exponential.mask)  // 256 layers: bits 0–7
            let u = Double(Int64(truncatingIfNeeded: (word >> 8) & 0xFF_FFFF)) * 0x1.0p-24
            let gap: Double
            if let sample = exponential.fastSample(layer: layer, u: u, magnitude: u) {
                gap = sample
            } else {
                sampler.generator = generator
                gap = sampler.standardExponentialSlow(layer: layer, u: u)
                generator = sampler.generator
            }
            time += gap * meanGapPs
        }
        offset = time
        sampler.generator = generator
        return (slotA - startA, slotB - startB)
    }
}
