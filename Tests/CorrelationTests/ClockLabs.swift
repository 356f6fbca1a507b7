import Correlation
import Foundation

/// Two labs' event streams for clock-recovery tests: pairs (jitter on both sides), independent singles, lab B
/// on its own clock `t_B = offset + (1 + ν)·t_A + wander + step`, optionally a recording-start ramp of both
/// labs' rates.
struct ClockLabs {
    var offsetPs: Double = 0
    var driftPpm: Double = 0
    /// Sinusoidal frequency wander: amplitude (ppm) and period (s).
    var wanderPpm: Double = 0
    var wanderPeriodS: Double = 900
    /// A clock step of B by `stepPs` at lab A time `stepAtPs`.
    var stepPs: Double = 0
    var stepAtPs: Int64 = .max
    var pairRateHz: Double = 1_000
    /// Singles (unpaired events) of each lab, Hz.
    var singlesRateHz: Double = 20_000
    var jitterPs: Double = 35
    var durationS: Double = 1
    /// Rates rise linearly from zero over this span at the start of the recording (0: none), s.
    var rampS: Double = 0

    /// Offset t_B − t_A of lab B's clock at lab A time `t`.
    func truthPs(_ t: Int64) -> Double {
        let seconds = Double(t) * 1e-12
        let wander = wanderPpm * 1e-6 * wanderPeriodS / (2 * Double.pi) * (1 - cos(2 * Double.pi * seconds / wanderPeriodS)) * 1e12
        return offsetPs + driftPpm * 1e-6 * Double(t) + wander + (t >= stepAtPs ? stepPs : 0)
    }

    /// Frequency difference of lab B's clock at lab A time `t`, ppm.
    func truthDriftPpm(_ t: Int64) -> Double {
        driftPpm + wanderPpm * sin(2 * Double.pi * Double(t) * 1e-12 / wanderPeriodS)
    }

    /// Lab A and lab B times (each sorted).
    func generate(seed: UInt64) -> (a: [Int64], b: [Int64]) {
        var rng = SeededGenerator(seed: seed)
        let durationPs = durationS * 1e12
        let rampPs = rampS * 1e12
        var a: [Int64] = [], b: [Int64] = []
        a.reserveCapacity(Int((pairRateHz + singlesRateHz) * durationS * 1.1))
        b.reserveCapacity(a.capacity)
        /// Keeps a time with the ramp's probability.
        func kept(_ t: Double, _ rng: inout SeededGenerator) -> Bool { t >= rampPs || rng.nextUnit() * rampPs < t }
        var t = 0.0
        while pairRateHz > 0 {
            t += rng.nextExponential(mean: 1e12 / pairRateHz)
            if t >= durationPs { break }
            guard kept(t, &rng) else { continue }
            a.append(Int64(t + rng.nextGaussian() * jitterPs))
            b.append(Int64(t + truthPs(Int64(t)) + rng.nextGaussian() * jitterPs))
        }
        for lab in 0..<2 {
            t = 0
            while singlesRateHz > 0 {
                t += rng.nextExponential(mean: 1e12 / singlesRateHz)
                if t >= durationPs { break }
                guard kept(t, &rng) else { continue }
                if lab == 0 { a.append(Int64(t)) } else { b.append(Int64(t + truthPs(Int64(t)))) }
            }
        }
        a.sort(); b.sort()
        return (a, b)
    }
}

/// Runs a ``ClockRecoveryStream`` over two labs' times in chunks of `chunk` events, lab A's chunk first, and
/// collects its events.
func recoverClock(_ a: [Int64], _ b: [Int64], chunk: Int, settings: ClockRecoverySettings = .init()) throws -> (ClockRecoveryStream, [ClockEvent]) {
    var stream = try ClockRecoveryStream(settings: settings)
    var events: [ClockEvent] = []
    var i = 0, j = 0
    while i < a.count || j < b.count {
        let nextI = a.count - i <= chunk ? a.count : i + chunk, nextJ = b.count - j <= chunk ? b.count : j + chunk
        if i < a.count { try stream.appendA(Array(a[i..<nextI])); i = nextI }
        if j < b.count { try stream.appendB(Array(b[j..<nextJ])); j = nextJ }
        events += stream.takeEvents()
    }
    try stream.finish()
    events += stream.takeEvents()
    return (stream, events)
}
