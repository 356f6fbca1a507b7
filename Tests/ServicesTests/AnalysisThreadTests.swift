import Correlation
import QLinkTestSupport
import Services
import Testing
import TimeTags

/// The coordinator's analysis thread: its bounded queue drops whole batches when full (counted, never silently),
/// snapshots are published on request, and finishing analyses everything queued.
@Suite("Analysis thread")
struct AnalysisThreadTests {
    /// Lab A's H detector and lab B's H detector on one shared clock.
    static var layout: AnalysisLayout {
        var layout = AnalysisLayout(channelsA: [1, 2], channelsB: [11, 12])
        layout.clock = .shared(offsetPs: 0)
        return layout
    }

    /// Batch `index` of `lab`: 100 tags 1 ns apart starting at `index` ms, on H (lab A channel 1, lab B 11), every
    /// fifth on V; both labs see the same times, so each tag has its partner.
    static func batch(_ index: Int, lab: Int) -> TagBatch {
        var batch = TagBatch()
        for i in 0..<100 {
            batch.append(timePs: Int64(index) * 1_000_000_000 + Int64(i) * 1_000_000, channel: (lab == 0 ? 1 : 11) + (i % 5 == 0 ? 1 : 0))
        }
        return batch
    }

    @Test func aFullQueueDropsWholeBatchesAndCountsThem() {
        let analysis = AnalysisThread(layout: Self.layout, capacity: 2, logger: quietLogger)
        // Not started yet: nothing leaves the queue, so the third offer onwards find it full.
        #expect(analysis.offer(lab: 0, batch: Self.batch(0, lab: 0)))
        #expect(analysis.offer(lab: 1, batch: Self.batch(0, lab: 1)))
        #expect(!analysis.offer(lab: 0, batch: Self.batch(1, lab: 0)))
        #expect(!analysis.offer(lab: 1, batch: Self.batch(1, lab: 1)))
        #expect(!analysis.offer(lab: 0, batch: Self.batch(2, lab: 0)))
        #expect(analysis.progress.droppedBatches == 3 && analysis.progress.droppedTags == 300)
        let final = analysis.finish()
        #expect(analysis.phase == .finished)
        #expect(analysis.progress.analysedBatches == 2 && analysis.progress.analysedTags == 200)
        // Exactly what the two queued batches give on their own.
        var direct = LiveAnalysis(layout: Self.layout)
        direct.add(lab: 0, batch: Self.batch(0, lab: 0))
        direct.add(lab: 1, batch: Self.batch(0, lab: 1))
        direct.finish()
        #expect(final == direct.snapshot)
        #expect(final.coincidences == 100)
        // After the end nothing more is taken (nor counted as dropped).
        #expect(!analysis.offer(lab: 0, batch: Self.batch(3, lab: 0)))
        #expect(analysis.progress.droppedBatches == 3)
    }

    @Test func snapshotsArePublishedOnRequestWithTheLinkTimeTheyCover() async {
        let analysis = AnalysisThread(layout: Self.layout, capacity: 64, logger: quietLogger)
        analysis.start()
        for index in 0..<10 {
            analysis.offer(lab: 0, batch: Self.batch(index, lab: 0))
            analysis.offer(lab: 1, batch: Self.batch(index, lab: 1))
        }
        // Asked again until a snapshot covers the last batch (each request is served after the batch in hand).
        let covered = await eventually {
            analysis.requestSnapshot()
            return analysis.progress.analysedBatches == 20 && (analysis.latestSnapshot?.linkTimePs ?? 0) >= 8_000_000_000
        }
        #expect(covered, "analysed \(analysis.progress.analysedBatches), snapshot at \(String(describing: analysis.latestSnapshot?.linkTimePs))")
        let final = analysis.finish()
        #expect(final.coincidences == 1_000 && analysis.progress.droppedBatches == 0)
    }
}
