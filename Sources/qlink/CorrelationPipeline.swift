import Correlation
import Foundation
import TimeTags

/// Internal channel numbers of lab B's file when two files are correlated: `channel + bChannelOffset`
/// (markers likewise), so that the two files' channel numbers never collide on the merged time axis.
let bChannelOffset: TagChannel = 50_000

/// One input file's processing chain: channel renumbering (file B), basis labelling, per-channel delays
/// and the clock mapping onto lab A's time axis. Each stage is streaming.
struct FileChain {
    let isB: Bool
    var labeler: BasisLabeler?
    var delays: DelayCompensator
    /// Maps a time of this file onto lab A's clock (identity for file A).
    let mapTime: @Sendable (Int64) -> Int64

    mutating func process(_ raw: TagBatch) throws -> TagBatch {
        var batch = raw
        if isB {
            batch.channels = batch.channels.map { $0 &+ bChannelOffset }
            batch.markers = batch.markers.map { MarkerEvent(timePs: $0.timePs, marker: $0.marker &+ bChannelOffset) }
        }
        if var active = labeler {
            batch = active.process(batch)
            labeler = active
        }
        var delayed = try delays.process(batch)
        if isB { delayed.timesPs = delayed.timesPs.map(mapTime) }
        return delayed
    }

    mutating func finish() -> TagBatch {
        var rest = delays.finish()
        if isB { rest.timesPs = rest.timesPs.map(mapTime) }
        return rest
    }
}

/// Reads one or two files in step, chunk by chunk, through their chains and a ``StreamMerger``, handing
/// merged sorted chunks to `body`. The file whose mapped time is behind is read next, so the merger holds
/// at most about one chunk per file. Returns the most events the merger held at once.
@discardableResult
func streamMerged(readers: inout [any TagReader], chains: inout [FileChain], progress: ProgressBar?,
                  body: (TagBatch) throws -> Void) throws -> Int {
    var maxHeld = 0
    var merger = StreamMerger()
    var done = [Bool](repeating: false, count: readers.count)
    var lastMapped = [Int64](repeating: .min, count: readers.count)
    let totalBytes = readers.compactMap(\.totalBytes).reduce(0, +)
    // With one file the second input is empty from the start, so events are released as they come.
    if readers.count == 1 { _ = merger.end(input: 1) }
    while done.contains(false) {
        let index = (0..<readers.count).filter { !done[$0] }.min { lastMapped[$0] < lastMapped[$1] } ?? 0
        if let raw = try readers[index].next() {
            let processed = try chains[index].process(raw)
            if let last = processed.timesPs.last { lastMapped[index] = last }
            let output = try merger.add(processed, input: index)
            maxHeld = max(maxHeld, merger.heldEvents)
            if !output.isEmpty || !output.markers.isEmpty { try body(output) }
            progress?.update(readers.map(\.bytesConsumed).reduce(0, +), totalBytes > 0 ? totalBytes : nil)
        } else {
            let rest = chains[index].finish()
            if !rest.isEmpty { try body(try merger.add(rest, input: index)) }
            done[index] = true
            let output = merger.end(input: index)
            if !output.isEmpty || !output.markers.isEmpty { try body(output) }
        }
    }
    return maxHeld
}

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
