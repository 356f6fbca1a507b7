import Correlation
import Foundation
import TimeTags

/// Recovers lab B's clock against lab A's: FFT offset search on the start of both files (bounded read),
/// then Kalman tracking through the whole run (streamed). Returns the track, or a constant offset when
/// the run is too short to track.
func recoverClock(open: () throws -> [any TagReader], channelsA: Set<TagChannel>, channelsB: Set<TagChannel>,
                  delaysA: ChannelDelays, delaysB: ChannelDelays,
                  maxOffsetPs: Int64, blockPs: Int64, progress: ProgressBar?) throws -> (offsetPs: Int64, track: ClockTrack?) {
    // 1. Offset search on the first 4·maxOffset (+ margin) of each file.
    var readers = try open()
    var prefixA: [Int64] = [], prefixB: [Int64] = []
    var startA: Int64?
    while let batch = try readers[0].next() {
        prefixA += zip(batch.timesPs, batch.channels).filter { channelsA.contains($0.1) }.map(\.0)
        if startA == nil { startA = prefixA.first }
        if let s = startA, let last = batch.timesPs.last, last > s &+ 4 &* maxOffsetPs { break }
    }
    guard let start = startA else {
        throw CorrelateFailure("file A has no events on channels \(channelsA.sorted())")
    }
    while let batch = try readers[1].next() {
        prefixB += zip(batch.timesPs, batch.channels).filter { channelsB.contains($0.1) }.map(\.0)
        if let last = batch.timesPs.last, last > start &+ 6 &* maxOffsetPs { break }
    }
    var search = OffsetSearch()
    search.maxOffsetPs = maxOffsetPs
    let found = try search.run(a: prefixA, b: prefixB)
    prefixA = []; prefixB = []
    // 2. Tracking through the run.
    var tracker = ClockTracker()
    tracker.blockPs = blockPs
    tracker.initialHalfWidthPs = max(10_000, 4 * found.fineBinPs)
    tracker.initialDriftUncertaintyPpm = 5
    var stream = try ClockTrackingStream(settings: tracker, initialOffsetPs: found.offsetPs)
    readers = try open()
    var done = [false, false]
    var last: [Int64] = [.min, .min]
    // The detectors' delays are applied so that every pair of channels peaks at the same lag.
    var compensators = [DelayCompensator(delays: delaysA), DelayCompensator(delays: delaysB)]
    while done.contains(false) {
        // Read the file that is behind (B compared on A's axis through the found offset).
        // (`.min` means nothing read yet: that file is read first; no wrap-around in the subtraction.)
        let bOnA = last[1] == .min ? Int64.min : last[1].subtractingReportingOverflow(found.offsetPs).partialValue
        let index = done[0] ? 1 : done[1] ? 0 : (last[0] <= bOnA ? 0 : 1)
        let batch: TagBatch
        if let raw = try readers[index].next() {
            batch = try compensators[index].process(raw)
        } else {
            done[index] = true
            batch = compensators[index].finish()
        }
        let keep = index == 0 ? channelsA : channelsB
        let times = zip(batch.timesPs, batch.channels).filter { keep.contains($0.1) }.map(\.0)
        if let t = batch.timesPs.last { last[index] = t }
        if index == 0 { try stream.appendA(times) } else { try stream.appendB(times) }
        progress?.update(readers.map(\.bytesConsumed).reduce(0, +), readers.compactMap(\.totalBytes).reduce(0, +))
    }
    let track = try? stream.finish()
    return (found.offsetPs, track)
}

/// A failure of `qlink correlate` with a message for the user.
struct CorrelateFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
