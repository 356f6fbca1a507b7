/// Keeps markers and gaps in time order with the photons across batch boundaries.
///
/// A marker (or gap) belongs to the stream at its time, not to the batch that happened to carry it.
/// The gate holds back every marker and gap later than the last photon that has passed and releases
/// it with the photons that reach its time, so that in the gate's output no marker or gap is later
/// than a photon of a following batch. A gap is placed at its start time. Markers and gaps at the
/// same time as a photon are released with (before) that photon. Released markers and gaps come out
/// sorted by time, events with equal times in arrival order.
///
/// Memory: the markers and gaps later than the last photon seen.
public struct TimeOrderGate: Sendable {
    private var heldMarkers: [MarkerEvent] = []
    private var heldGaps: [StreamGap] = []

    /// An empty gate.
    public init() {}

    /// Number of markers and gaps held back.
    public var heldCount: Int { heldMarkers.count + heldGaps.count }

    /// Holds `markers` and `gaps` until photons reach their times.
    public mutating func hold(markers: [MarkerEvent], gaps: [StreamGap]) {
        Self.insert(markers, into: &heldMarkers, time: \.timePs)
        Self.insert(gaps, into: &heldGaps, time: \.startPs)
    }

    /// Takes the held markers and gaps at or before `timePs` (sorted by time).
    public mutating func release(through timePs: Int64) -> (markers: [MarkerEvent], gaps: [StreamGap]) {
        (Self.take(&heldMarkers, through: timePs, time: \.timePs), Self.take(&heldGaps, through: timePs, time: \.startPs))
    }

    /// Takes every held marker and gap (the end of the stream).
    public mutating func releaseAll() -> (markers: [MarkerEvent], gaps: [StreamGap]) {
        release(through: .max)
    }

    /// `batch` with its markers and gaps replaced by those the gate releases through the batch's last
    /// photon (held ones from earlier batches included). A batch without photons releases nothing.
    public mutating func pass(_ batch: TagBatch) -> TagBatch {
        var output = batch
        hold(markers: batch.markers, gaps: batch.gaps)
        if let last = batch.timesPs.last {
            (output.markers, output.gaps) = release(through: last)
        } else {
            output.markers = []
            output.gaps = []
        }
        return output
    }

    /// A batch without photons holding every marker and gap still held (the end of the stream).
    public mutating func finish() -> TagBatch {
        var output = TagBatch()
        (output.markers, output.gaps) = releaseAll()
        return output
    }

    /// Adds `events` to the sorted `held`, keeping it sorted by time and stable for equal times.
    private static func insert<Event>(_ events: [Event], into held: inout [Event], time: KeyPath<Event, Int64>) {
        guard !events.isEmpty else { return }
        let wasSorted = held.last.map { $0[keyPath: time] <= events[0][keyPath: time] } ?? true
        held.append(contentsOf: events)
        let newSorted = zip(events, events.dropFirst()).allSatisfy { $0[keyPath: time] <= $1[keyPath: time] }
        guard !(wasSorted && newSorted) else { return }
        held = held.enumerated()
            .sorted { ($0.element[keyPath: time], $0.offset) < ($1.element[keyPath: time], $1.offset) }
            .map(\.element)
    }

    /// Removes and returns the prefix of the sorted `held` at or before `timePs`.
    private static func take<Event>(_ held: inout [Event], through timePs: Int64, time: KeyPath<Event, Int64>) -> [Event] {
        var end = 0
        while end < held.count && held[end][keyPath: time] <= timePs { end += 1 }
        guard end > 0 else { return [] }
        let taken = Array(held[0..<end])
        held.removeFirst(end)
        return taken
    }
}

/// A reader whose batches are in time order across batch boundaries: wraps any ``TagReader`` and passes
/// its batches through a ``TimeOrderGate``, so markers and gaps later than a batch's last photon come out
/// with the batch whose photons reach them (the end of the stream releases the rest). ``TagFiles``
/// opens every reader through it; files written with markers past a chunk's photons (QLink before the
/// ordering guarantee) are read in time order too.
public final class TimeOrderedReader: TagReader {
    /// The wrapped reader (for format-specific details such as a native file's tail status).
    public private(set) var base: any TagReader
    private var gate = TimeOrderGate()
    private var finished = false
    /// An error of the wrapped reader, thrown after the held markers and gaps were handed out.
    private var pendingError: Error?

    /// Wraps `base`.
    public init(_ base: any TagReader) {
        self.base = base
    }

    public var header: TagStreamHeader { base.header }
    public var bytesConsumed: Int64 { base.bytesConsumed }
    public var totalBytes: Int64? { base.totalBytes }

    public func next() throws -> TagBatch? {
        if let error = pendingError {
            pendingError = nil
            throw error
        }
        while !finished {
            let batch: TagBatch?
            do {
                batch = try base.next()
            } catch {
                // Everything decoded before the damage first (the held markers and gaps too), then the error.
                guard gate.heldCount > 0 else { throw error }
                pendingError = error
                return gate.finish()
            }
            guard let batch else {
                finished = true
                let rest = gate.finish()
                return rest.markers.isEmpty && rest.gaps.isEmpty ? nil : rest
            }
            let output = gate.pass(batch)
            if !output.isEmpty { return output }
        }
        return nil
    }
}
