import Benchmark
import Correlation
import TimeTags

/// The reference stream split into two labs: lab A holds channel 0, lab B channel 1 (5 M tags each, 1 MHz
/// singles per lab, 10 % of events in pairs with 50 ps jitter), each cut into 64 k-tag chunks before timing.
private struct TwoLabs {
    var timesA: [Int64], timesB: [Int64]
    var chunksA: [TagBatch], chunksB: [TagBatch]
    var totalTags: Int { timesA.count + timesB.count }

    /// Lab B's times are `transform(t)` of the shared-clock times (identity: a shared clock).
    init(transform: (Int64) -> Int64) {
        var a: [Int64] = [], b: [Int64] = []
        for (time, channel) in zip(stream.timesPs, stream.channels) {
            if channel == 0 { a.append(time) } else { b.append(transform(time)) }
        }
        timesA = a; timesB = b
        func chunks(_ times: [Int64], channel: TagChannel) -> [TagBatch] {
            stride(from: 0, to: times.count, by: 65_536).map { start in
                let end = min(times.count, start + 65_536)
                return TagBatch(timesPs: Array(times[start..<end]), channels: [TagChannel](repeating: channel, count: end - start))
            }
        }
        chunksA = chunks(a, channel: 0)
        chunksB = chunks(b, channel: 1)
    }
}

private let sharedLabs = TwoLabs { $0 }
/// Lab B free-running: 3.7 µs ahead and 2 ppm fast.
private let freeRunningLabs = TwoLabs { $0 + 3_700_000 + Int64((Double($0) * 2e-6).rounded()) }

/// The engine's pair: lab A channel 0 with lab B channel 1, ±500 ps, two side windows each side, a 2000-bin
/// histogram — what `qlink correlate --pairs 0:1` runs.
private func engineConfiguration(clock: LinkClockReference) -> LinkAnalysisConfiguration {
    var configuration = LinkAnalysisConfiguration(twoLabs: true, pairs: [ChannelPair(0, LinkAnalysisConfiguration.labBChannelOffset + 1)],
                                                  windowHalfWidthPs: 500)
    configuration.clock = clock
    return configuration
}

/// Feeds both labs' chunks through a new engine in time order and returns its snapshot.
private func analyse(_ labs: TwoLabs, clock: LinkClockReference) throws -> LinkAnalysisSnapshot {
    var engine = try LinkAnalysis(configuration: engineConfiguration(clock: clock))
    var next = [0, 0]
    let chunks = [labs.chunksA, labs.chunksB]
    try engine.addInTimeOrder(next: { lab in
        guard next[lab] < chunks[lab].count else { return nil }
        next[lab] += 1
        return chunks[lab][next[lab] - 1]
    })
    return engine.snapshot()
}

/// The reference: a plain two-pointer loop counting every (A, B) pair with |t_B − t_A| ≤ `halfWidthPs`.
private func twoPointerCoincidences(_ a: [Int64], _ b: [Int64], halfWidthPs: Int64) -> Int64 {
    var count: Int64 = 0
    var start = 0
    for t in a {
        while start < b.count, b[start] < t - halfWidthPs { start += 1 }
        var j = start
        while j < b.count, b[j] <= t + halfWidthPs { count += 1; j += 1 }
    }
    return count
}

/// The unified engine (``LinkAnalysis``) against the reference loop on the same 10 M tags. Each iteration is
/// one pass over all 10 M tags, so tags/s = 10 M / the wall-clock time of an iteration (p50 reported).
///
/// Timed: building the engine, feeding every pre-cut 64 k-tag chunk of both labs in time order (renumbering,
/// clock mapping, lab A against lab B: coincidences with side windows and the histogram) and the snapshot. Not timed:
/// generating the stream and cutting it into chunks. The engine runs on one thread (the lab A against lab B
/// scan is not split). With clock recovery, lab B runs
/// 3.7 µs ahead at +2 ppm and the search, tracking and per-event mapping are inside the timed region.
let linkAnalysisBenchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(metrics: [.wallClock, .throughput], maxDuration: .seconds(10), maxIterations: 10)

    Benchmark("LinkAnalysis 10M tags, shared clock, 1 thread", configuration: configuration) { benchmark in
        _ = sharedLabs.totalTags
        benchmark.startMeasurement()
        let snapshot = try analyse(sharedLabs, clock: .shared(offsetPs: 0))
        benchmark.stopMeasurement()
        let expected = twoPointerCoincidences(sharedLabs.timesA, sharedLabs.timesB, halfWidthPs: 500)
        precondition(snapshot.pairs.first?.rawCoincidences == expected, "engine \(snapshot.coincidences) vs reference \(expected)")
    }

    Benchmark("LinkAnalysis 10M tags, clock recovery (3.7 µs, 2 ppm), 1 thread", configuration: configuration) { benchmark in
        _ = freeRunningLabs.totalTags
        benchmark.startMeasurement()
        let snapshot = try analyse(freeRunningLabs, clock: .independent(ClockRecoverySettings()))
        benchmark.stopMeasurement()
        precondition(snapshot.clock?.lock == .locked, "clock recovery did not lock: \(snapshot.clock?.events ?? [])")
    }

    Benchmark("Reference two-pointer loop 10M tags, shared clock, 1 thread", configuration: configuration) { benchmark in
        _ = sharedLabs.totalTags
        benchmark.startMeasurement()
        blackHole(twoPointerCoincidences(sharedLabs.timesA, sharedLabs.timesB, halfWidthPs: 500))
    }
}
