import Benchmark
import Correlation
import LinkModel

/// 36 count cells (Z/X/Y × Z/X/Y, four outcomes each, 1000 pairs per setting, Poisson-drawn) of a Werner state
/// of Φ⁺ with p = 0.9, lab B's qubit rotated so every correlator is non-zero.
private let tomographyCounts: [SettingCounts] = {
    let h = 1 / 2.0.squareRoot()
    let kets: [String: [(re: [Double], im: [Double])]] = [
        "Z": [([1, 0], [0, 0]), ([0, 1], [0, 0])],
        "X": [([h, h], [0, 0]), ([h, -h], [0, 0])],
        "Y": [([h, 0], [0, h]), ([h, 0], [0, -h])],
    ]
    // Φ⁺ with lab B's qubit rotated by exp(−i·0.3·Y): amplitudes (c|00⟩ + s|01⟩ − s|10⟩ + c|11⟩)/√2.
    let c = 0.3.squareRoot(), s = (1 - 0.3).squareRoot()
    let pure = ComplexMatrix4.pure(re: [h * c, h * s, -h * s, h * c], im: [0, 0, 0, 0])
    let rho = pure.scaled(0.9) + ComplexMatrix4.identity.scaled(0.1 / 4)
    var rng = SeededGenerator(seed: 36)
    var settings: [SettingCounts] = []
    for a in ["Z", "X", "Y"] {
        for b in ["Z", "X", "Y"] {
            let cells = (0..<4).map { k -> Double in
                let ka = kets[a]![k / 2], kb = kets[b]![k % 2]
                var re = [Double](repeating: 0, count: 4), im = re
                for i in 0..<2 { for j in 0..<2 {
                    re[2 * i + j] = ka.re[i] * kb.re[j] - ka.im[i] * kb.im[j]
                    im[2 * i + j] = ka.re[i] * kb.im[j] + ka.im[i] * kb.re[j]
                } }
                return Double(rng.nextPoisson(mean: 1000 * rho.expectation(re: re, im: im)))
            }
            settings.append(SettingCounts(basisA: a, basisB: b, counts: JointCounts(cells: cells)))
        }
    }
    return settings
}()

/// Tomography: one maximum-likelihood reconstruction from 36 cells (must stay ≤ 10 ms at p50 so it can run every
/// live window), and the same with a 200-replicate bootstrap.
let tomographyBenchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(metrics: [.wallClock], maxDuration: .seconds(5), maxIterations: 200)
    Benchmark("Tomography ML 36 cells", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try TwoQubitTomography.reconstruct(settings: tomographyCounts))
        }
    }
    Benchmark("Tomography ML 36 cells + bootstrap 200",
              configuration: .init(metrics: [.wallClock], maxDuration: .seconds(10), maxIterations: 10)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try TwoQubitTomography.reconstruct(settings: tomographyCounts, bootstrapReplicates: 200))
        }
    }
}
