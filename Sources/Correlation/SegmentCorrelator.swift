/// The coarse acquisition's cross-correlation of each segment of lab A with lab B over the whole lag range, by
/// transforms much shorter than the lag range.
///
/// A segment holds `segmentBins` bins of lab A; its row holds `rowLength` lags (the offset range plus margins),
/// usually several times more. One transform covering both would be `segmentBins + rowLength` points long; here
/// the lags are cut into blocks of `lagsPerBlock = length − segmentBins`, each the correlation of the segment with
/// a window of lab B `length` bins long starting at the block's first lag: every lag of a block sees all of the
/// segment inside its window, so no sum wraps around and each count is exactly the one the long transform gives
/// (they are rounded to integers). The length minimises the work, `(1 + 2·blocks)·length·log₂ length` per two
/// segments: two segments' lab A bins share one complex transform, as do their lab B windows of each block, and
/// the two real correlations of a block come back from one inverse transform.
struct SegmentCorrelator {
    let binPs: Int64
    let segmentPs: Int64
    /// Lab A bins per segment, lags per row, and the row entry of lag 0.
    let segmentBins: Int
    let rowLength: Int
    let center: Int
    /// Transform length, lags per block and blocks per row.
    let length: Int
    let lagsPerBlock: Int
    let blocks: Int
    private var plan: FFT.Plan
    /// Buffer 0: the two segments' lab A bins (real and imaginary part); buffer 1 + k: their lab B windows of
    /// block k, then the two correlations of block k.
    private var re: [[Double]]
    private var im: [[Double]]

    init(binPs: Int64, segmentPs: Int64, rowLength: Int, center: Int) {
        self.binPs = binPs
        self.segmentPs = segmentPs
        self.rowLength = rowLength
        self.center = center
        let bins = Int((segmentPs + binPs - 1) / binPs)
        segmentBins = bins
        var single = 16
        while single < bins + rowLength + 1 { single <<= 1 }
        func blocks(_ length: Int) -> Int { (rowLength + (length - bins) - 1) / (length - bins) }
        func cost(_ length: Int) -> Double { Double(1 + 2 * blocks(length)) * Double(length) * Double(length.trailingZeroBitCount) }
        var best = single
        var candidate = 16
        while candidate < single {
            if candidate > bins, cost(candidate) < cost(best) { best = candidate }
            candidate <<= 1
        }
        length = best
        lagsPerBlock = best - bins
        self.blocks = blocks(best)
        plan = FFT.Plan(length: best)
        let buffers = [[Double]](repeating: [Double](repeating: 0, count: best), count: 1 + blocks(best))
        re = buffers
        im = buffers
    }

    /// The rows of the segments starting at lab A times `first` and `second` (nil: none): entry m of a row is the
    /// number of pairs (A in the segment, B anywhere) whose lag `t_B − t_A` falls in bin `m − center`, the bins
    /// taken from the segment's start.
    mutating func rows(a: [Int64], b: [Int64], first: Int64, second: Int64?) -> (first: [Float], second: [Float]?) {
        let n = length
        for k in 0...blocks {
            re[k].withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            im[k].withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        bin(a: a, b: b, t0: first, intoImaginary: false)
        if let second { bin(a: a, b: b, t0: second, intoImaginary: true) }
        for k in 0...blocks { transform(k, inverse: false) }
        // Both real sequences of a buffer from one transform: X = FFT(x + i·y); x̂_f = (X_f + conj X_{n−f})/2,
        // ŷ_f = (X_f − conj X_{n−f})/(2i). Correlation of A with a window: IFFT(conj(Â)·Ŵ); the two segments'
        // (real) correlations of a block go back together as P₁ + i·P₂.
        let spectrumRe = re[0], spectrumIm = im[0]
        for k in 1...blocks {
            spectrumRe.withUnsafeBufferPointer { ar in
                spectrumIm.withUnsafeBufferPointer { ai in
                    re[k].withUnsafeMutableBufferPointer { wr in
                        im[k].withUnsafeMutableBufferPointer { wi in
                            for f in 0...(n / 2) {
                                let g = (n - f) & (n - 1)
                                let (zfR, zfI) = Self.product(ar[f], ai[f], ar[g], ai[g], wr[f], wi[f], wr[g], wi[g])
                                let (zgR, zgI) = Self.product(ar[g], ai[g], ar[f], ai[f], wr[g], wi[g], wr[f], wi[f])
                                wr[f] = zfR; wi[f] = zfI
                                wr[g] = zgR; wi[g] = zgI
                            }
                        }
                    }
                }
            }
            transform(k, inverse: true)
        }
        var rowA = [Float](repeating: 0, count: rowLength)
        var rowB: [Float]? = second == nil ? nil : [Float](repeating: 0, count: rowLength)
        for k in 0..<blocks {
            let low = k * lagsPerBlock, high = min(rowLength, low + lagsPerBlock)
            for m in low..<high { rowA[m] = Float(roundedToNearest(re[k + 1][m - low])) }
            if rowB != nil {
                for m in low..<high { rowB![m] = Float(roundedToNearest(im[k + 1][m - low])) }
            }
        }
        return (rowA, rowB)
    }

    /// Entry f of `P₁ + i·P₂` from the packed spectra at f and n − f: A = (a + i·a′) and W = (w + i·w′) with
    /// P₁ = conj(â)·ŵ, P₂ = conj(â′)·ŵ′.
    @inline(__always)
    private static func product(_ xR: Double, _ xI: Double, _ yR: Double, _ yI: Double,
                                _ vR: Double, _ vI: Double, _ uR: Double, _ uI: Double) -> (Double, Double) {
        let aR = (xR + yR) / 2, aI = (xI - yI) / 2
        let a2R = (xI + yI) / 2, a2I = (yR - xR) / 2
        let wR = (vR + uR) / 2, wI = (vI - uI) / 2
        let w2R = (vI + uI) / 2, w2I = (uR - vR) / 2
        let p1R = aR * wR + aI * wI, p1I = aR * wI - aI * wR
        let p2R = a2R * w2R + a2I * w2I, p2I = a2R * w2I - a2I * w2R
        return (p1R - p2I, p1I + p2R)
    }

    private mutating func transform(_ k: Int, inverse: Bool) {
        re[k].withUnsafeMutableBufferPointer { r in
            im[k].withUnsafeMutableBufferPointer { i in
                plan.transform(r.baseAddress!, i.baseAddress!, inverse: inverse)
            }
        }
    }

    /// Bins the segment starting at `t0` into the real (first segment) or imaginary parts: lab A from `t0` over the
    /// segment into buffer 0; lab B from `t0 − center·w` into the window of each block that holds its bin.
    private mutating func bin(a: [Int64], b: [Int64], t0: Int64, intoImaginary: Bool) {
        let w = binPs, n = length, step = lagsPerBlock, last = blocks - 1
        let end = t0 &+ segmentPs
        let bStart = t0 &- Int64(center) &* w
        let bEnd = end &+ Int64(rowLength - center) &* w
        var i = firstIndex(in: a, atOrAbove: t0)
        var k = firstIndex(in: b, atOrAbove: bStart)
        func fill(_ buffers: inout [[Double]]) {
            buffers[0].withUnsafeMutableBufferPointer { bins in
                while i < a.count, a[i] < end { bins[Int((a[i] &- t0) / w)] += 1; i += 1 }
            }
            while k < b.count, b[k] < bEnd {
                let index = Int((b[k] &- bStart) / w)
                var block = min(last, index / step)
                while block >= 0, index - block * step < n {
                    buffers[block + 1][index - block * step] += 1
                    block -= 1
                }
                k += 1
            }
        }
        if intoImaginary { fill(&im) } else { fill(&re) }
    }
}
