import Correlation
import Testing
import TimeTags

/// Chunks of a two-channel stream (channels 0 and 1 at `rateHz` each, 10 % of events in pairs), made one at
/// a time so that the whole stream never exists in memory.
struct LazyPairStream: Sequence, IteratorProtocol {
    var rng: SeededGenerator
    let chunkEvents: Int
    var remainingChunks: Int
    let meanSpacingPs: Double
    var clock = 0.0

    init(seed: UInt64, chunks: Int, chunkEvents: Int, rateHz: Double) {
        rng = SeededGenerator(seed: seed)
        self.chunkEvents = chunkEvents
        remainingChunks = chunks
        meanSpacingPs = 1e12 / (2 * rateHz)
    }

    mutating func next() -> TagBatch? {
        guard remainingChunks > 0 else { return nil }
        remainingChunks -= 1
        var events: [(Int64, TagChannel)] = []
        events.reserveCapacity(chunkEvents + 1)
        let start = clock
        while events.count < chunkEvents {
            clock += rng.nextExponential(mean: meanSpacingPs)
            if rng.nextUnit() < 0.05 {
                events.append((Int64(clock), 0))
                events.append((Int64(clock + 300 + rng.nextGaussian() * 50), 1))
            } else {
                events.append((Int64(clock), TagChannel(rng.next() & 1)))
            }
        }
        // Keep the chunk sorted and never earlier than the previous one.
        events.sort { $0.0 < $1.0 }
        let floor = Int64(start)
        return TagBatch(timesPs: events.map { Swift.max($0.0, floor) }, channels: events.map(\.1))
    }
}

@Suite("Streaming state stays bounded")
struct StreamingMemoryTests {
    @Test("carried events depend on the window and chunk, not on the stream length")
    func carriedStateIsBounded() throws {
        let window = try CoincidenceWindow(halfWidthPs: 500)
        var maxima: [Int] = []
        for chunks in [4, 64] {
            var counter = try CoincidenceCounter(specs: [CoincidenceSpec(ChannelPair(0, 1), window: window)])
            var builder = try HistogramBuilder(histograms: [try CorrelationHistogram(pair: ChannelPair(0, 1), rangePs: 10_000, binWidthPs: 10)])
            var heralded = try HeraldedCounter(patterns: [HeraldPattern(state: .psiMinus, reference: 0)], windowA: window, windowB: window,
                                               outcomeChannels: OutcomeChannels(bases: ["Z"]))
            var tracker = try ClockTrackingStream(settings: { var s = ClockTracker(); s.blockPs = 1_000_000_000; return s }(),
                                                  initialOffsetPs: 300)
            var maximum = 0
            var trackerMaximum = 0
            for chunk in LazyPairStream(seed: 1, chunks: chunks, chunkEvents: 8192, rateHz: 1e6) {
                try counter.process(chunk)
                try builder.process(chunk)
                try heralded.process(chunk)
                let times = chunk.timesPs
                try tracker.appendA(zip(times, chunk.channels).filter { $0.1 == 0 }.map(\.0))
                try tracker.appendB(zip(times, chunk.channels).filter { $0.1 == 1 }.map(\.0))
                maximum = max(maximum, counter.carriedEvents, heralded.bufferedEvents)
                trackerMaximum = max(trackerMaximum, tracker.bufferedEvents)
            }
            counter.finish()
            #expect(counter.counts[0] > 0)
            // ±500 ps at 2 MHz holds ~0.001 events on average; ±10 ns ~0.02: a handful at most.
            #expect(maximum <= 16, "carried \(maximum) events")
            // The tracker holds at most one block (1 ms: ~2000 events) plus one chunk, plus compaction slack.
            #expect(trackerMaximum <= 2 * 8192 + 4000 + (1 << 17), "tracker held \(trackerMaximum) events")
            maxima.append(maximum)
        }
        // Sixteen times the stream length does not grow the carried state beyond the same small bound.
        #expect(maxima[1] <= max(16, 4 * maxima[0] + 4))
    }
}
