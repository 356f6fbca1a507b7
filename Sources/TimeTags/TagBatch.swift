/// A time-tagger channel number as the instrument reports it (negative numbers are allowed:
/// some instruments report falling edges as negative channels).
public typealias TagChannel = Int32

/// A batch of photon detection events in structure-of-arrays form.
///
/// `timesPs[i]` and `channels[i]` describe event `i`. Times are integer picoseconds on the
/// recording instrument's clock and, within a stream, sorted non-decreasingly. Keeping the two
/// arrays separate lets the correlation engine scan contiguous memory.
///
/// Events that are not photons (markers, gaps in the stream) travel beside the photons in
/// ``markers`` and ``gaps`` so that no consumer mistakes them for detections.
public struct TagBatch: Sendable, Equatable {
    /// Detection times in picoseconds.
    public var timesPs: [Int64]
    /// Channel of each detection.
    public var channels: [TagChannel]
    /// Marker (external trigger / basis announcement) events in this batch's time span.
    public var markers: [MarkerEvent]
    /// Spans where the instrument reports it lost events.
    public var gaps: [StreamGap]

    /// An empty batch with room for `capacity` events.
    public init(capacity: Int = 0) {
        timesPs = []
        channels = []
        markers = []
        gaps = []
        timesPs.reserveCapacity(capacity)
        channels.reserveCapacity(capacity)
    }

    /// A batch from parallel arrays, which must have equal length.
    public init(timesPs: [Int64], channels: [TagChannel], markers: [MarkerEvent] = [], gaps: [StreamGap] = []) {
        precondition(timesPs.count == channels.count, "timesPs and channels must have the same length")
        self.timesPs = timesPs
        self.channels = channels
        self.markers = markers
        self.gaps = gaps
    }

    /// Number of photon events.
    @inlinable public var count: Int { timesPs.count }

    /// Whether the batch holds no photon events.
    @inlinable public var isEmpty: Bool { timesPs.isEmpty }

    /// Appends one photon event.
    @inlinable public mutating func append(timePs: Int64, channel: TagChannel) {
        timesPs.append(timePs)
        channels.append(channel)
    }

    /// Removes every event, keeping the storage.
    public mutating func removeAll(keepingCapacity: Bool = true) {
        timesPs.removeAll(keepingCapacity: keepingCapacity)
        channels.removeAll(keepingCapacity: keepingCapacity)
        markers.removeAll(keepingCapacity: keepingCapacity)
        gaps.removeAll(keepingCapacity: keepingCapacity)
    }

    /// Whether the photon times are sorted non-decreasingly.
    public var isSorted: Bool {
        timesPs.withUnsafeBufferPointer { times in
            guard times.count > 1 else { return true }
            for index in 1..<times.count where times[index] < times[index - 1] { return false }
            return true
        }
    }
}

/// A marker event: an external trigger recorded by the time tagger (basis announcements,
/// frame starts). Markers are kept apart from photons.
public struct MarkerEvent: Sendable, Equatable, Hashable {
    /// Time of the marker in picoseconds.
    public var timePs: Int64
    /// Marker number (bit pattern or marker input, as the instrument reports it).
    public var marker: Int32

    public init(timePs: Int64, marker: Int32) {
        self.timePs = timePs
        self.marker = marker
    }
}

/// A span in which the instrument says events were lost (buffer overflow, missed events).
public struct StreamGap: Sendable, Equatable, Hashable {
    /// Start of the span in picoseconds.
    public var startPs: Int64
    /// End of the span in picoseconds (equal to `startPs` when only a point in time is known).
    public var endPs: Int64
    /// Number of events the instrument reports as lost, if it says.
    public var lostEvents: Int64?
    /// Channel the loss applies to, or `nil` for all channels.
    public var channel: TagChannel?

    public init(startPs: Int64, endPs: Int64, lostEvents: Int64? = nil, channel: TagChannel? = nil) {
        self.startPs = startPs
        self.endPs = endPs
        self.lostEvents = lostEvents
        self.channel = channel
    }
}
