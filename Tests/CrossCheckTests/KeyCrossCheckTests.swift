import Foundation
import LinkModel
import Planner
import Simulation
import Testing
import TimeTags

/// The planner's QBER and BBM92 key against the simulator: a Barrett–Kok link (memories decaying over the herald
/// wait) is simulated with both nodes reading out in Z and X; the QBER of each basis counted from the readouts, the
/// BBM92 secret bits per pair computed from them and the key rate lie within three standard errors of `KeyFigures`.
@Suite("QBER and BBM92 key: planner against simulator")
struct KeyCrossCheckTests {
    @Test("QBER in Z and X from the nodes' readouts, secret bits per pair and key rate match the planner", arguments: [UInt64(31), 32])
    func qberAndKey(seed: UInt64) throws {
        let model = try DistillationCase(name: "key", distillation: DistillationSettings(), protocolYAML: "{ kind: double_click }",
                                         collection: 0.6, seed: seed).model()
        let f = 1e5
        let planned = LinkProfile(model).evaluate(OperatingPoint(repetitionRateHz: f, knob: model.protocol.knob))
        let bases = SimulatedBases(settings: ["z", "x"], periodPs: 7_000_000, markers: true)
        let settings = SimulationSettings(labs: [SimulatedLab(lab: "a", bases: bases), SimulatedLab(lab: "b", bases: bases)])
        let durationPs: Int64 = 2_000_000_000_000
        let configured = try ConfiguredSimulation(linkName: "key", model: model, settings: settings, durationPs: durationPs)
        let (streams, _) = try record(configured.scenario, durationPs: durationPs, seed: seed)
        let a = try #require(streams[.labA]), b = try #require(streams[.labB]), heralds = try #require(streams[.station]).markers
        try #require(a.times.count == heralds.count && b.times.count == heralds.count)
        // Errors per basis: in Z the target Ψ± gives different outcomes; in X equal ones after Ψ+, different after Ψ−.
        var errors = [0.0, 0.0], counts = [0.0, 0.0]
        for k in 0..<heralds.count {
            guard let basisA = a.marker(at: a.times[k]), let basisB = b.marker(at: b.times[k]), basisA == basisB else { continue }
            let equal = (a.channels[k] == 1) == (b.channels[k] == 3)
            let error = basisA == 0 ? equal : (heralds[k].marker == 1 ? !equal : equal)
            counts[Int(basisA)] += 1
            errors[Int(basisA)] += error ? 1 : 0
        }
        let e = [errors[0] / counts[0], errors[1] / counts[1]]
        let sigma = (0..<2).map { (max(e[$0] * (1 - e[$0]), 1 / counts[$0]) / counts[$0]).squareRoot() }
        #expect(counts.allSatisfy { $0 > 5_000 })
        #expect(abs(e[0] - planned.key.qberZ) <= 3 * sigma[0], "QBER Z \(e[0]) ± \(sigma[0]), planner \(planned.key.qberZ)")
        #expect(abs(e[1] - planned.key.qberX) <= 3 * sigma[1], "QBER X \(e[1]) ± \(sigma[1]), planner \(planned.key.qberX)")
        // Secret bits per pair from the measured QBERs, with the errors propagated through the (smooth) formula.
        let key = KeySettings()
        func bits(_ z: Double, _ x: Double) -> Double { KeyRate.asymptoticBitsPerPair(qberZ: z, qberX: x, settings: key) }
        let measured = bits(e[0], e[1])
        let h = 1e-6
        let slopeZ = (bits(e[0] + h, e[1]) - bits(max(0, e[0] - h), e[1])) / (e[0] + h - max(0, e[0] - h))
        let slopeX = (bits(e[0], e[1] + h) - bits(e[0], e[1] - h)) / (2 * h)
        let bitsError = ((slopeZ * sigma[0]) * (slopeZ * sigma[0]) + (slopeX * sigma[1]) * (slopeX * sigma[1])).squareRoot()
        #expect(measured > 0.2)
        #expect(abs(measured - planned.key.secretBitsPerPair) <= 3 * bitsError,
                "secret bits per pair \(measured) ± \(bitsError), planner \(planned.key.secretBitsPerPair)")
        let seconds = Double(durationPs) * 1e-12
        let rate = measured * Double(heralds.count) / seconds
        let rateError = rate * ((bitsError / measured) * (bitsError / measured) + 1 / Double(heralds.count)).squareRoot()
        #expect(abs(rate - planned.key.keyRateBitsPerS) <= 3 * rateError,
                "key rate \(rate) ± \(rateError) bit/s, planner \(planned.key.keyRateBitsPerS)")
        print(String(format: "seed %llu: QBER Z %.4f ± %.4f (planner %.4f), X %.4f ± %.4f (planner %.4f); %.4f ± %.4f secret bits per pair "
                     + "(planner %.4f), key %.0f ± %.0f bit/s (planner %.0f)", seed, e[0], sigma[0], planned.key.qberZ, e[1], sigma[1],
                     planned.key.qberX, measured, bitsError, planned.key.secretBitsPerPair, rate, rateError, planned.key.keyRateBitsPerS))
    }
}
