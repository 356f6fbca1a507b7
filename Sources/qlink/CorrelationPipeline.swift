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

/// What clock recovery found over a run: the recovery (track, latest estimate) and its events.
struct RecoveredClock {
    var recovery: ClockRecoveryStream
    var events: [ClockEvent]
}

/// Recovers lab B's clock against lab A's in one streamed pass over both files (the pairs' channels, detector
/// delays applied) with ``ClockRecoveryStream``'s defaults: offset and frequency acquisition, then tracking
/// with a lock test per block. Throws, naming the files and what was searched, when it never locks.
func recoverClock(open: () throws -> [any TagReader], files: [String], channelsA: Set<TagChannel>, channelsB: Set<TagChannel>,
                  delaysA: ChannelDelays, delaysB: ChannelDelays,
                  maxOffsetPs: Int64, blockPs: Int64, progress: ProgressBar?) throws -> RecoveredClock {
    var settings = ClockRecoverySettings()
    settings.maxOffsetPs = maxOffsetPs
    settings.blockPs = blockPs
    settings.maxMeasurementSpanPs = max(settings.maxMeasurementSpanPs, blockPs)
    var recovery = try ClockRecoveryStream(settings: settings)
    var events: [ClockEvent] = []
    var readers = try open()
    var done = [false, false]
    var last: [Int64] = [.min, .min]
    var counts = [0, 0]
    // The detectors' delays are applied so that every pair of channels peaks at the same lag.
    var compensators = [DelayCompensator(delays: delaysA), DelayCompensator(delays: delaysB)]
    while done.contains(false) {
        // Read the file that is behind (B compared on A's axis once an offset is known); `.min`: nothing read yet.
        let offset = Int64((recovery.estimate?.offsetPs.value ?? 0).rounded())
        let bOnA = last[1] == .min ? Int64.min : last[1].subtractingReportingOverflow(offset).partialValue
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
        counts[index] += times.count
        if let t = batch.timesPs.last { last[index] = t }
        if index == 0 { try recovery.appendA(times) } else { try recovery.appendB(times) }
        events += recovery.takeEvents()
        progress?.update(readers.map(\.bytesConsumed).reduce(0, +), readers.compactMap(\.totalBytes).reduce(0, +))
    }
    try recovery.finish()
    events += recovery.takeEvents()
    guard recovery.estimate != nil else {
        let names = "\(files[0]) (channels \(channelsA.sorted().map(String.init).joined(separator: ",")), \(counts[0]) events) and "
            + "\(files[1]) (channels \(channelsB.sorted().map(String.init).joined(separator: ",")), \(counts[1]) events)"
        var tried = "offsets ±\(Double(maxOffsetPs) / 1e9) ms and frequency differences ±\(settings.maxDriftPpm) ppm"
        if let attempt = recovery.lastAttempt {
            tried += " over \(Double(attempt.spanPs) / 1e12) s of lab A data from \(Double(attempt.startPs) / 1e12) s "
                + "(\(attempt.eventsA) and \(attempt.eventsB) events, \(Double(attempt.binPs) / 1e3) ns bins): the best peak stood "
                + String(format: "%.1f σ above its local background, below the %.1f σ threshold", attempt.significance, attempt.threshold)
            if let bin = attempt.refinementFailedAtBinPs { tried += " (refinement found no peak at \(Double(bin) / 1e3) ns bins)" }
        }
        throw CorrelateFailure("clock recovery never locked between \(names); searched \(tried). "
                               + "Check that both files record the same link and the --pairs channels, use a longer recording, "
                               + "or declare a shared clock reference in the configuration")
    }
    return RecoveredClock(recovery: recovery, events: events)
}

/// A failure of `qlink correlate` with a message for the user.
struct CorrelateFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
