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
        real.withUnsafeMutableBufferPointer { re in
            imag.withUnsafeMutableBufferPointer { im in
                // Bit-reversal permutation.
                var j = 0
                for i in 1..<n {
                    var bit = n >> 1
                    while j & bit != 0 { j ^= bit; bit >>= 1 }
                    j |= bit
                    if i < j { re.swapAt(i, j); im.swapAt(i, j) }
                }
                var length = 2
                let sign: Double = inverse ? 1 : -1
                while length <= n {
                    let angle = sign * 2 * Double.pi / Double(length)
                    let stepRe = libmCos(angle), stepIm = libmSin(angle)
                    let half = length / 2
                    var start = 0
                    while start < n {
                        var wRe = 1.0, wIm = 0.0
                        for k in 0..<half {
                            let a = start + k, b = a + half
                            let tRe = re[b] * wRe - im[b] * wIm
                            let tIm = re[b] * wIm + im[b] * wRe
                            re[b] = re[a] - tRe; im[b] = im[a] - tIm
                            re[a] += tRe; im[a] += tIm
                            let nextRe = wRe * stepRe - wIm * stepIm
                            wIm = wRe * stepIm + wIm * stepRe
                            wRe = nextRe
                        }
                        start += length
                    }
                    length <<= 1
                }
                if inverse {
                    let scale = 1 / Double(n)
                    for i in 0..<n { re[i] *= scale; im[i] *= scale }
                }
            }
        }
    }
}
