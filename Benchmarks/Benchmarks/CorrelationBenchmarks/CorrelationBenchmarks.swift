import Benchmark
import Correlation
import TimeTags

/// The reference stream: two channels at 1 MHz singles each, 10 % of events in true pairs with 50 ps jitter.
private let stream: TagBatch = {
    let eventCount = 10_000_000
    let singlesRateHz = 1_000_000.0
    let durationPs = Int64(Double(eventCount) / (2 * singlesRateHz) * 1e12)
    var rng = SeededGenerator(seed: 2024)
    var events: [(Int64, TagChannel)] = []
    events.reserveCapacity(eventCount)
    let pairCount = eventCount / 20  // 10 % of all events belong to a pair
    for _ in 0..<pairCount {
        let t = Int64(rng.nextUnit() * Double(durationPs))
        events.append((t, 0))
        events.append((t + Int64((rng.nextGaussian() * 50).rounded()), 1))
    }
    while events.count < eventCount {
        events.append((Int64(rng.nextUnit() * Double(durationPs)), TagChannel(rng.next() & 1)))
    }
    events.sort { $0.0 < $1.0 }
    return TagBatch(timesPs: events.map(\.0), channels: events.map(\.1))
}()

private let window = try! CoincidenceWindow(halfWidthPs: 500)
private let specs = [CoincidenceSpec(ChannelPair(0, 1), window: window)]
private let emptyHistogram = try! CorrelationHistogram(pair: ChannelPair(0, 1), rangePs: 10_000, binWidthPs: 10)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident],
        maxDuration: .seconds(4),
        maxIterations: 20
    )
    // Each iteration processes the whole 10 M-tag stream: tags/s = 10 M / wall-clock time per iteration.
    _ = stream.count

    for threads in [1, 2] {
        Benchmark("Coincidences 10M tags ±500 ps, \(threads) thread(s)") { benchmark in
            for _ in 0..<1 {
                blackHole(try CoincidenceCounter.count(stream, specs: specs, threads: threads))
            }
        }
        Benchmark("Histogram 2000 bins ±10 ns 10M tags, \(threads) thread(s)") { benchmark in
            for _ in 0..<1 {
                blackHole(try HistogramBuilder.build(stream, histograms: [emptyHistogram], threads: threads))
            }
        }
    }

    Benchmark("Coincidences streamed in 64k-tag chunks, 1 thread") { benchmark in
        let chunks = chunked(stream, size: 65_536)
        benchmark.startMeasurement()
        for _ in 0..<1 {
            var counter = try CoincidenceCounter(specs: specs)
            counter.threads = 1
            for chunk in chunks { try counter.process(chunk) }
            counter.finish()
            blackHole(counter.counts)
        }
    }
}

private func chunked(_ batch: TagBatch, size: Int) -> [TagBatch] {
    stride(from: 0, to: batch.count, by: size).map { start in
        let end = min(batch.count, start + size)
        return TagBatch(timesPs: Array(batch.timesPs[start..<end]), channels: Array(batch.channels[start..<end]))
    }
}
