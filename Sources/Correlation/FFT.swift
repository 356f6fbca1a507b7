/// An in-place iterative radix-2 complex FFT on separate real and imaginary arrays.
public enum FFT {
    /// Transforms `real`/`imag` (equal power-of-two length) in place; `inverse` applies the inverse
    /// transform including the 1/n scale.
    public static func transform(real: inout [Double], imag: inout [Double], inverse: Bool = false) throws(CorrelationError) {
        let n = real.count
        guard n == imag.count, n > 0, n & (n - 1) == 0 else {
            throw CorrelationError(.invalidParameter, "FFT length must be a power of two", context: "length \(n)")
        }
        guard n > 1 else { return }
        let (cosines, sines) = twiddles(n, inverse: inverse)
        real.withUnsafeMutableBufferPointer { reBuffer in
            imag.withUnsafeMutableBufferPointer { imBuffer in
                cosines.withUnsafeBufferPointer { cosBuffer in
                    sines.withUnsafeBufferPointer { sinBuffer in
                        guard let re = reBuffer.baseAddress, let im = imBuffer.baseAddress,
                              let wr = cosBuffer.baseAddress, let wi = sinBuffer.baseAddress else { return }
                        bitReverse(re, im, n)
                        butterflies(re, im, n, wr, wi)
                    }
                }
                if inverse {
                    let scale = 1 / Double(n)
                    for i in 0..<n { reBuffer[i] *= scale; imBuffer[i] *= scale }
                }
            }
        }
    }

    /// The twiddle factors of an `n`-point transform: entry k is e^(∓2πik/n) for k < n/2 (cosine and sine). Every
    /// 64th entry comes from libm; the entries between from one complex rotation each, so the table costs about a
    /// tenth of the transform and is accurate to a few ulp.
    static func twiddles(_ n: Int, inverse: Bool) -> (cosines: [Double], sines: [Double]) {
        let half = n / 2
        let sign: Double = inverse ? 1 : -1
        let step = sign * 2 * Double.pi / Double(n)
        let stepRe = libmCos(step), stepIm = libmSin(step)
        var cosines = [Double](repeating: 0, count: half), sines = [Double](repeating: 0, count: half)
        var k = 0
        while k < half {
            var wRe = libmCos(step * Double(k)), wIm = libmSin(step * Double(k))
            let end = min(half, k + 64)
            while k < end {
                cosines[k] = wRe; sines[k] = wIm
                let nextRe = wRe * stepRe - wIm * stepIm
                wIm = wRe * stepIm + wIm * stepRe
                wRe = nextRe
                k += 1
            }
        }
        return (cosines, sines)
    }

    /// The bit-reversal permutation.
    private static func bitReverse(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>, _ n: Int) {
        var j = 0
        for i in 1..<n {
            var bit = n >> 1
            while j & bit != 0 { j ^= bit; bit >>= 1 }
            j |= bit
            if i < j {
                let r = re[i]; re[i] = re[j]; re[j] = r
                let m = im[i]; im[i] = im[j]; im[j] = m
            }
        }
    }

    /// The butterfly stages; stage of length L uses every (n/L)-th twiddle. The first stage needs no
    /// multiplication.
    private static func butterflies(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>, _ n: Int,
                                    _ wr: UnsafePointer<Double>, _ wi: UnsafePointer<Double>) {
        var a = 0
        while a < n {
            let b = a + 1
            let tRe = re[b], tIm = im[b]
            re[b] = re[a] - tRe; im[b] = im[a] - tIm
            re[a] += tRe; im[a] += tIm
            a += 2
        }
        var length = 4
        while length <= n {
            let half = length / 2
            let stride = n / length
            var start = 0
            while start < n {
                let lowRe = re + start, lowIm = im + start
                let highRe = lowRe + half, highIm = lowIm + half
                for k in 0..<half {
                    let cRe = wr[k * stride], cIm = wi[k * stride]
                    let tRe = highRe[k] * cRe - highIm[k] * cIm
                    let tIm = highRe[k] * cIm + highIm[k] * cRe
                    let uRe = lowRe[k], uIm = lowIm[k]
                    highRe[k] = uRe - tRe; highIm[k] = uIm - tIm
                    lowRe[k] = uRe + tRe; lowIm[k] = uIm + tIm
                }
                start += length
            }
            length <<= 1
        }
    }
}
