import Correlation
import TimeTags

/// Streams with known content, generated for tests.
enum SyntheticStreams {
    /// Random events on `channels`: uniformly spread times in `0..<durationPs` plus `pairCount` correlated
    /// pairs (first channel, then second channel `delayPs` later with Gaussian jitter), sorted.
    static func random(seed: UInt64, events: Int, channels: [TagChannel], durationPs: Int64,
                       pairs pairCount: Int = 0, pair: ChannelPair = ChannelPair(0, 1),
                       delayPs: Int64 = 0, jitterPs: Double = 50, duplicateTimes: Bool = false) -> TagBatch {
        var rng = SeededGenerator(seed: seed)
        var list: [(Int64, TagChannel)] = []
        for _ in 0..<events {
            var time = Int64(rng.nextUnit() * Double(durationPs))
            if duplicateTimes { time -= time % 200 }
            list.append((time, channels[Int(rng.next() % UInt64(channels.count))]))
        }
        for _ in 0..<pairCount {
            let time = Int64(rng.nextUnit() * Double(durationPs))
            list.append((time, pair.first))
            list.append((time + delayPs + Int64((rng.nextGaussian() * jitterPs).rounded()), pair.second))
        }
        list.sort { $0.0 < $1.0 }
        return TagBatch(timesPs: list.map(\.0), channels: list.map(\.1))
    }

    /// Splits a batch into consecutive chunks of the given sizes (cycled).
    static func chunks(_ batch: TagBatch, sizes: [Int]) -> [TagBatch] {
        var result: [TagBatch] = []
        var start = 0
        var k = 0
        while start < batch.count {
            let end = min(batch.count, start + max(1, sizes[k % sizes.count]))
            result.append(TagBatch(timesPs: Array(batch.timesPs[start..<end]), channels: Array(batch.channels[start..<end])))
            start = end
            k += 1
        }
        return result
    }
}

/// Reference answers by looping over all pairs.
enum BruteForce {
    static func coincidences(_ batch: TagBatch, _ spec: CoincidenceSpec) -> Int64 {
        var count: Int64 = 0
        for i in 0..<batch.count where batch.channels[i] == spec.pair.first {
            for j in 0..<batch.count where j != i && batch.channels[j] == spec.pair.second {
                if spec.window.contains(batch.timesPs[j] - batch.timesPs[i]) { count += 1 }
            }
        }
        return count
    }

    static func histogram(_ batch: TagBatch, _ empty: CorrelationHistogram) -> [Int64] {
        var counts = empty.counts
        for i in 0..<batch.count where batch.channels[i] == empty.pair.first {
            for j in 0..<batch.count where j != i && batch.channels[j] == empty.pair.second {
                if let bin = empty.bin(of: batch.timesPs[j] - batch.timesPs[i]) { counts[bin] += 1 }
            }
        }
        return counts
    }
}
