/// A complex FFT on separate real and imaginary arrays (Stockham autosort, radix 4).
///
/// Each stage reads one buffer and writes the other in natural order (a scratch pair of arrays of the same
/// length), so no bit-reversal permutation is needed and every stage streams through memory sequentially.
public enum FFT {
    /// Transforms `real`/`imag` (equal power-of-two length) in place; `inverse` applies the inverse
    /// transform including the 1/n scale.
    public static func transform(real: inout [Double], imag: inout [Double], inverse: Bool = false) throws(CorrelationError) {
        let n = real.count
        guard n == imag.count, n > 0, n & (n - 1) == 0 else {
            throw CorrelationError(.invalidParameter, "FFT length must be a power of two", context: "length \(n)")
        }
        var plan = Plan(length: n)
        real.withUnsafeMutableBufferPointer { re in
            imag.withUnsafeMutableBufferPointer { im in
                guard let xr = re.baseAddress, let xi = im.baseAddress else { return }
                plan.transform(xr, xi, inverse: inverse)
            }
        }
    }

    /// The twiddle factors and scratch buffers of one power-of-two length, made once and reused by every
    /// transform of that length (the clock acquisition runs hundreds of them per attempt).
    struct Plan {
        let length: Int
        private let cosines: [Double]
        private let sines: [Double]
        private var scratchRe: [Double]
        private var scratchIm: [Double]

        /// A plan for `length` points (a power of two).
        init(length: Int) {
            precondition(length > 0 && length & (length - 1) == 0, "FFT length must be a power of two")
            self.length = length
            (cosines, sines) = FFT.twiddles(length)
            // Every stage writes all entries of its output before the next reads them: no need to zero the scratch.
            scratchRe = [Double](unsafeUninitializedCapacity: length) { _, count in count = length }
            scratchIm = [Double](unsafeUninitializedCapacity: length) { _, count in count = length }
        }

        /// Transforms the `length` points at `re`/`im` in place; `inverse` applies the inverse transform
        /// including the 1/n scale.
        mutating func transform(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>, inverse: Bool) {
            let n = length
            guard n > 1 else { return }
            let resultInScratch = scratchRe.withUnsafeMutableBufferPointer { sre in
                scratchIm.withUnsafeMutableBufferPointer { sim in
                    cosines.withUnsafeBufferPointer { cosBuffer in
                        sines.withUnsafeBufferPointer { sinBuffer in
                            FFT.stages(n, re, im, sre.baseAddress!, sim.baseAddress!, cosBuffer.baseAddress!, sinBuffer.baseAddress!,
                                       inverse: inverse)
                        }
                    }
                }
            }
            if resultInScratch {
                scratchRe.withUnsafeBufferPointer { re.update(from: $0.baseAddress!, count: n) }
                scratchIm.withUnsafeBufferPointer { im.update(from: $0.baseAddress!, count: n) }
            }
            if inverse {
                let scale = 1 / Double(n)
                for i in 0..<n { re[i] *= scale; im[i] *= scale }
            }
        }
    }

    /// The forward twiddle factors of an `n`-point transform: entry k is e^(−2πik/n) for k < n/2 (cosine and sine). Every
    /// 64th entry comes from libm, the entries between from one complex rotation each (accurate to a few ulp).
    static func twiddles(_ n: Int) -> (cosines: [Double], sines: [Double]) {
        let half = n / 2
        let step = -2 * Double.pi / Double(n)
        let stepRe = libmCos(step), stepIm = libmSin(step)
        var cosines = [Double](repeating: 0, count: half), sines = [Double](repeating: 0, count: half)
        cosines.withUnsafeMutableBufferPointer { c in
            sines.withUnsafeMutableBufferPointer { s in
                var k = 0
                while k < half {
                    var wRe = libmCos(step * Double(k)), wIm = libmSin(step * Double(k))
                    let end = min(half, k + 64)
                    while k < end {
                        c[k] = wRe; s[k] = wIm
                        let nextRe = wRe * stepRe - wIm * stepIm
                        wIm = wRe * stepIm + wIm * stepRe
                        wRe = nextRe
                        k += 1
                    }
                }
            }
        }
        return (cosines, sines)
    }

    /// Stockham decimation in frequency, radix 4 (a last radix-2 stage when log2 n is odd), with the forward
    /// twiddle table `wr`/`wi` (conjugated for the inverse). At the stage with
    /// `span` points per sub-transform and stride `s` (span·s = n), with m = span/4 and a, b, c, d =
    /// x[q + s·(p + k·m)] for k = 0…3, y[q + s·(4p + r)] = w^(r·p·s)·Σ_k (∓i)^(k·r)·(a, b, c, d)_k. Returns whether
    /// the result ended in the scratch buffers (`yr`, `yi`).
    private static func stages(_ n: Int, _ xr: UnsafeMutablePointer<Double>, _ xi: UnsafeMutablePointer<Double>,
                               _ yr: UnsafeMutablePointer<Double>, _ yi: UnsafeMutablePointer<Double>,
                               _ wr: UnsafePointer<Double>, _ wi: UnsafePointer<Double>, inverse: Bool) -> Bool {
        var (sr, si, dr, di) = (xr, xi, yr, yi)
        var inScratch = false
        // j·(b − d) with j = −i forward (e^(−2πi/4)) and +i inverse, written as (jRe, jIm) = ±(−Im, Re).
        let jSign: Double = inverse ? -1 : 1
        // The table holds the forward twiddles e^(−2πik/n); the inverse ones are their conjugates.
        let twiddleSign: Double = inverse ? -1 : 1
        var span = n, s = 1
        while span >= 4 {
            let m = span / 4
            for p in 0..<m {
                let w1r = wr[p * s], w1i = twiddleSign * wi[p * s]
                let w2r = wr[2 * p * s], w2i = twiddleSign * wi[2 * p * s]
                let w3r = w1r * w2r - w1i * w2i, w3i = w1r * w2i + w1i * w2r
                let aR = sr + s * p, aI = si + s * p
                let bR = aR + s * m, bI = aI + s * m, cR = bR + s * m, cI = bI + s * m, eR = cR + s * m, eI = cI + s * m
                let y0R = dr + s * 4 * p, y0I = di + s * 4 * p
                let y1R = y0R + s, y1I = y0I + s, y2R = y1R + s, y2I = y1I + s, y3R = y2R + s, y3I = y2I + s
                for q in 0..<s {
                    let apcR = aR[q] + cR[q], apcI = aI[q] + cI[q]
                    let amcR = aR[q] - cR[q], amcI = aI[q] - cI[q]
                    let bpdR = bR[q] + eR[q], bpdI = bI[q] + eI[q]
                    let jR = -jSign * (bI[q] - eI[q]), jI = jSign * (bR[q] - eR[q])
                    y0R[q] = apcR + bpdR; y0I[q] = apcI + bpdI
                    let t1R = amcR - jR, t1I = amcI - jI
                    y1R[q] = w1r * t1R - w1i * t1I; y1I[q] = w1r * t1I + w1i * t1R
                    let t2R = apcR - bpdR, t2I = apcI - bpdI
                    y2R[q] = w2r * t2R - w2i * t2I; y2I[q] = w2r * t2I + w2i * t2R
                    let t3R = amcR + jR, t3I = amcI + jI
                    y3R[q] = w3r * t3R - w3i * t3I; y3I[q] = w3r * t3I + w3i * t3R
                }
            }
            swap(&sr, &dr); swap(&si, &di)
            inScratch.toggle()
            span = m
            s *= 4
        }
        if span == 2 {
            for q in 0..<s {
                let aRe = sr[q], aIm = si[q], bRe = sr[q + s], bIm = si[q + s]
                dr[q] = aRe + bRe; di[q] = aIm + bIm
                dr[q + s] = aRe - bRe; di[q + s] = aIm - bIm
            }
            inScratch.toggle()
        }
        return inScratch
    }
}
