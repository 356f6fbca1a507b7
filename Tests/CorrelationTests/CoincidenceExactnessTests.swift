import Correlation
import Testing
import TimeTags

@Suite("Coincidences and histograms equal brute force")
struct CoincidenceExactnessTests {
    static let specs: [CoincidenceSpec] = {
        let w = { (lo: Int64, hi: Int64) in try! CoincidenceWindow(lowerPs: lo, upperPs: hi) }
        return [
            CoincidenceSpec(ChannelPair(0, 1), window: w(-500, 500)),
            CoincidenceSpec(ChannelPair(1, 0), window: w(-3000, -1000)),   // negative delays only
            CoincidenceSpec(ChannelPair(0, 2), window: w(200, 4000)),      // positive delays only
            CoincidenceSpec(ChannelPair(2, 2), window: w(-1500, 1500)),    // autocorrelation
            CoincidenceSpec(ChannelPair(0, 1), window: w(1000, 1000)),     // single lag, same pair again
            CoincidenceSpec(ChannelPair(-3, 0), window: w(-800, 0)),       // negative channel number
        ]
    }()

    @Test("one batch, several seeds, with and without repeated time stamps", arguments: [1, 2, 3, 4] as [UInt64])
    func wholeBatch(seed: UInt64) throws {
        let batch = SyntheticStreams.random(seed: seed, events: 1500, channels: [0, 1, 2, -3, 7], durationPs: 2_000_000,
                                            pairs: 150, delayPs: -1200, duplicateTimes: seed % 2 == 0)
        let counts = try CoincidenceCounter.count(batch, specs: Self.specs, threads: 1)
        let expected = Self.specs.map { BruteForce.coincidences(batch, $0) }
        #expect(counts == expected)
        #expect(expected.reduce(0, +) > 100)
    }

    @Test("chunked streams give the same counts at every cut", arguments: [[1], [7, 1, 3], [50], [333, 2], [5000]])
    func chunked(sizes: [Int]) throws {
        let batch = SyntheticStreams.random(seed: 11, events: 1200, channels: [0, 1, 2, -3], durationPs: 1_500_000,
                                            pairs: 200, delayPs: 300, duplicateTimes: true)
        var counter = try CoincidenceCounter(specs: Self.specs)
        for chunk in SyntheticStreams.chunks(batch, sizes: sizes) { try counter.process(chunk) }
        counter.finish()
        #expect(counter.counts == Self.specs.map { BruteForce.coincidences(batch, $0) })
        #expect(counter.singles[0] == Int64(batch.channels.filter { $0 == 0 }.count))
    }

    @Test("the parallel split gives the same counts as one thread")
    func parallel() throws {
        let batch = SyntheticStreams.random(seed: 5, events: 3000, channels: [0, 1, 2], durationPs: 3_000_000, pairs: 300)
        var counter = try CoincidenceCounter(specs: Self.specs)
        counter.threads = 2
        counter.minimumEventsPerThread = 100
        try counter.process(batch)
        counter.finish()
        #expect(counter.counts == (try CoincidenceCounter.count(batch, specs: Self.specs, threads: 1)))
        #expect(counter.counts == Self.specs.map { BruteForce.coincidences(batch, $0) })
    }

    @Test("memory carried between chunks stays bounded by the window")
    func boundedCarry() throws {
        let batch = SyntheticStreams.random(seed: 9, events: 20000, channels: [0, 1], durationPs: 200_000_000)
        var counter = try CoincidenceCounter(specs: [Self.specs[0]])
        var largest = 0
        for chunk in SyntheticStreams.chunks(batch, sizes: [100]) {
            try counter.process(chunk)
            largest = max(largest, counter.carriedEvents)
        }
        // Mean spacing is 10 ns against a 500 ps reach: only a handful of events are ever carried.
        #expect(largest <= 5)
    }

    @Test("unsorted chunks and chunks going back in time are rejected")
    func rejectsUnsorted() throws {
        var counter = try CoincidenceCounter(specs: [Self.specs[0]])
        #expect(throws: CorrelationError.self) { try counter.process(TagBatch(timesPs: [5, 3], channels: [0, 1])) }
        var second = try CoincidenceCounter(specs: [Self.specs[0]])
        try second.process(TagBatch(timesPs: [100], channels: [0]))
        do {
            try second.process(TagBatch(timesPs: [50], channels: [1]))
            Issue.record("a chunk going back in time was accepted")
        } catch {
            #expect(error.kind == .unsortedInput)
        }
        #expect(throws: CorrelationError.self) { try CoincidenceWindow(lowerPs: 10, upperPs: -10) }
    }

    @Test("histograms for several pairs in one pass, chunked, equal brute force", arguments: [[1, 4], [64], [100_000]])
    func histograms(sizes: [Int]) throws {
        let batch = SyntheticStreams.random(seed: 21, events: 1500, channels: [0, 1, 2], durationPs: 1_000_000,
                                            pairs: 300, delayPs: -700, duplicateTimes: true)
        let empties = [
            try CorrelationHistogram(pair: ChannelPair(0, 1), rangePs: 2000, binWidthPs: 10),
            try CorrelationHistogram(pair: ChannelPair(1, 0), startPs: -1234, binWidthPs: 77, binCount: 40),
            try CorrelationHistogram(pair: ChannelPair(2, 2), rangePs: 5000, binWidthPs: 250),
            try CorrelationHistogram(pair: ChannelPair(0, 2), startPs: 300, binWidthPs: 1, binCount: 3000),
        ]
        var builder = try HistogramBuilder(histograms: empties)
        for chunk in SyntheticStreams.chunks(batch, sizes: sizes) { try builder.process(chunk) }
        builder.finish()
        for (built, empty) in zip(builder.histograms, empties) {
            #expect(built.counts == BruteForce.histogram(batch, empty))
        }
        #expect(builder.histograms[0].total > 250)
    }
}
