import Correlation
import Foundation
import Logging
import Services
import TimeTags

// The coordinator's live analysis on its own thread (Services' `AnalysisThread`), fed two labs' batches as the
// coordinator's socket thread offers them: does it keep up with two nodes at the services benchmark's rate?

/// Two labs' streams of a free-running link, cut into the nodes' batches: pairs at `pairRateHz` seen by both
/// labs, `singlesRateHz` more uncorrelated detections in each lab, passive basis choice (H, V, D, A on lab A's
/// channels 1–4 and lab B's 11–14, ψ⁻-like outcomes), lab B's clock 3 ms late and 20 ppm fast, 40 ps jitter.
struct TwoLabStreams {
    static let layout = AnalysisLayout(channelsA: [1, 2, 3, 4], channelsB: [11, 12, 13, 14])
    var batches: [[TagBatch]] = [[], []]
    var tags: Int { batches.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } } }

    init(durationPs: Int64, pairRateHz: Double, singlesRateHz: Double, tagsPerBatch: Int, seed: UInt64 = 1) {
        var generator = SeededGenerator(seed: seed)
        func random() -> Double { Double.random(in: 0..<1, using: &generator) }
        var a: [(Int64, TagChannel)] = [], b: [(Int64, TagChannel)] = []
        let rateA = pairRateHz + singlesRateHz
        var t = 0.0
        while true {
            t += -log(1 - random()) / rateA * 1e12
            guard t < Double(durationPs) else { break }
            let basisA = random() < 0.5 ? 0 : 2, outcomeA = random() < 0.5 ? 0 : 1
            a.append((Int64(t), TagChannel(1 + basisA + outcomeA)))
            if random() < pairRateHz / rateA {
                // Same basis: opposite outcomes; other basis: random.
                let basisB = random() < 0.5 ? 0 : 2, outcomeB = basisB == basisA ? 1 - outcomeA : (random() < 0.5 ? 0 : 1)
                let jitter = (random() + random() + random() - 1.5) * 80
                b.append((Int64(t * (1 + 20e-6) + 3_000_000_000 + jitter), TagChannel(11 + basisB + outcomeB)))
            }
        }
        t = 0
        while true {
            t += -log(1 - random()) / singlesRateHz * 1e12
            guard t < Double(durationPs) else { break }
            b.append((Int64(t * (1 + 20e-6) + 3_000_000_000), TagChannel(11 + Int(random() * 4))))
        }
        b.sort { $0.0 < $1.0 }
        for (lab, events) in [a, b].enumerated() {
            for start in stride(from: 0, to: events.count, by: tagsPerBatch) {
                let slice = events[start..<min(events.count, start + tagsPerBatch)]
                batches[lab].append(TagBatch(timesPs: slice.map { $0.0 }, channels: slice.map { $0.1 }))
            }
        }
    }
}

/// What one run of the analysis thread on `streams` measured.
struct AnalysisRun {
    /// Tags per second offered (both labs together) and analysed (from the first offer until all were analysed).
    var offeredTagsPerSecond: Double
    var analysedTagsPerSecond: Double
    var droppedBatches: Int64
    /// The most batches offered but not yet analysed at any offer (the queue's high-water mark).
    var maxBacklogBatches: Int64 = 0
    var ratio: Double { analysedTagsPerSecond / offeredTagsPerSecond }

    /// Offers both labs' batches, each lab at `tagsPerSecondPerLab` (nil: as fast as the queue takes them, waiting
    /// for room instead of dropping, to measure the analysis' own rate), to an analysis thread queueing
    /// `capacity` batches, and waits until everything offered is analysed.
    static func measure(_ streams: TwoLabStreams, tagsPerSecondPerLab: Double?, capacity: Int = 1024) async throws -> AnalysisRun {
        let analysis = AnalysisThread(layout: TwoLabStreams.layout, capacity: capacity, logger: quietLogger)
        analysis.start()
        let start = ContinuousClock.now
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }
        var offeredTags = 0, offeredBatches: Int64 = 0, maxBacklog: Int64 = 0
        for index in 0..<max(streams.batches[0].count, streams.batches[1].count) {
            for lab in 0..<2 where index < streams.batches[lab].count {
                let batch = streams.batches[lab][index]
                if let rate = tagsPerSecondPerLab {
                    // A node's batch leaves when its tags would have been produced at `rate`.
                    let due = Double(offeredTags / 2 + batch.count) / rate
                    let wait = due - seconds(ContinuousClock.now - start)
                    if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
                    analysis.offer(lab: lab, batch: batch)
                } else {
                    while analysis.progress.analysedBatches + Int64(analysis.capacity) <= Int64(index * 2 + lab) {
                        try await Task.sleep(for: .microseconds(200))
                    }
                    analysis.offer(lab: lab, batch: batch)
                }
                offeredTags += batch.count
                offeredBatches += 1
                let progress = analysis.progress
                maxBacklog = max(maxBacklog, offeredBatches - progress.analysedBatches - progress.droppedBatches)
            }
        }
        let offered = seconds(ContinuousClock.now - start)
        analysis.finish()
        let analysed = seconds(ContinuousClock.now - start)
        let progress = analysis.progress
        return AnalysisRun(offeredTagsPerSecond: Double(offeredTags) / offered, analysedTagsPerSecond: Double(progress.analysedTags) / analysed,
                           droppedBatches: progress.droppedBatches, maxBacklogBatches: maxBacklog)
    }
}
