import Benchmark
import Correlation
import TimeTags

/// The reference stream (shared by every benchmark here): two channels at 1 MHz singles each, 10 % of events in true pairs with 50 ps jitter.
let stream: TagBatch = {
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
    // (The stream is built on first use, so the streaming benchmarks below, each run in its own process,
    // never hold it and their peak memory shows only what streaming keeps.)

    for threads in [1, 2] {
        Benchmark("Coincidences 10M tags ±500 ps, \(threads) thread(s)") { benchmark in
            _ = stream.count
            benchmark.startMeasurement()
            for _ in 0..<1 {
                blackHole(try CoincidenceCounter.count(stream, specs: specs, threads: threads))
            }
        }
        Benchmark("Histogram 2000 bins ±10 ns 10M tags, \(threads) thread(s)") { benchmark in
            _ = stream.count
            benchmark.startMeasurement()
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

    streamingBenchmarks()
    linkAnalysisBenchmarks()
    tomographyBenchmarks()
}

/// Streaming memory: the same kind of stream generated 64 k tags at a time and dropped after use, through
/// coincidences (with side windows), a 2000-bin histogram and the heralded counter. Peak resident memory
/// should not depend on the stream length (1 M vs 10 M tags): what is carried is the events in the window
/// reach plus one chunk.
let streamingBenchmarks: @Sendable () -> Void = {
    for totalTags in [1_000_000, 10_000_000] {
        Benchmark("Streaming \(totalTags / 1_000_000)M generated tags in 64k chunks: coincidences + histogram + heralds",
                  configuration: .init(metrics: [.wallClock, .peakMemoryResident], maxDuration: .seconds(10), maxIterations: 3)) { benchmark in
            var counter = try CoincidenceCounter(specs: specs + Accidentals.sideWindows(of: specs[0], count: 2, spacingPs: 5000))
            counter.threads = 1
            var builder = try HistogramBuilder(histograms: [emptyHistogram])
            builder.threads = 1
            var heralded = try HeraldedCounter(patterns: [HeraldPattern(state: .psiMinus, reference: 0)], windowA: window, windowB: window,
                                               outcomeChannels: OutcomeChannels(bases: ["Z"]))
            var generator = ChunkGenerator(seed: 7, chunkTags: 65_536, rateHz: 1_000_000)
            var maxCarried = 0
            for _ in 0..<(totalTags / 65_536) {
                let chunk = generator.next()
                try counter.process(chunk)
                try builder.process(chunk)
                try heralded.process(chunk)
                maxCarried = max(maxCarried, counter.carriedEvents + heralded.bufferedEvents)
            }
            counter.finish(); builder.finish(); heralded.finish()
            blackHole(counter.counts); blackHole(builder.histograms); blackHole(heralded.results); blackHole(maxCarried)
        }
    }
}

/// Two channels at `rateHz` each, 10 % of events in pairs with 50 ps jitter, made one chunk at a time.
struct ChunkGenerator {
    var rng: SeededGenerator
    let chunkTags: Int
    let spacingPs: Double
    var clock = 0.0

    init(seed: UInt64, chunkTags: Int, rateHz: Double) {
        rng = SeededGenerator(seed: seed)
        self.chunkTags = chunkTags
        spacingPs = 1e12 / (2 * rateHz)
    }

    mutating func next() -> TagBatch {
        var times = [Int64](), channels = [TagChannel]()
        times.reserveCapacity(chunkTags + 1); channels.reserveCapacity(chunkTags + 1)
        var pending: (Int64, TagChannel)?
        while times.count < chunkTags {
            clock += rng.nextExponential(mean: spacingPs)
            let t = Int64(clock)
            if let (pt, pc) = pending, pt <= t { times.append(pt); channels.append(pc); pending = nil }
            if pending == nil, rng.nextUnit() < 0.05 {
                times.append(t); channels.append(0)
                pending = (t + Swift.max(0, Int64((rng.nextGaussian() * 50).rounded()) + 200), 1)
            } else {
                times.append(t); channels.append(TagChannel(rng.next() & 1))
            }
        }
        if let (pt, pc) = pending { clock = Swift.max(clock, Double(pt)); times.append(pt); channels.append(pc) }
        return TagBatch(timesPs: times, channels: channels)
    }
}

private func chunked(_ batch: TagBatch, size: Int) -> [TagBatch] {
    stride(from: 0, to: batch.count, by: size).map { start in
        let end = min(batch.count, start + size)
        return TagBatch(timesPs: Array(batch.timesPs[start..<end]), channels: Array(batch.channels[start..<end]))
    }
}
