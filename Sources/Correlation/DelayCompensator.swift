import TimeTags

/// Per-channel delays, in picoseconds: a channel's events are moved to `t + delayPs[channel]`.
public struct ChannelDelays: Sendable, Equatable, Codable {
    /// Delay per channel; channels not listed are not moved.
    public var delaysPs: [TagChannel: Int64]
    public init(_ delaysPs: [TagChannel: Int64] = [:]) { self.delaysPs = delaysPs }
    /// The delay of `channel` (zero when not listed).
    public func delayPs(_ channel: TagChannel) -> Int64 { delaysPs[channel] ?? 0 }
}

/// Applies per-channel delays to a chunked stream and keeps the output sorted.
///
/// Events are held back only while an event of a later chunk could still be moved before them, so memory
/// is bounded by the spread of the delays.
public struct DelayCompensator: Sendable {
    public let delays: ChannelDelays
    private let minimumDelayPs: Int64
    /// Whether any channel is moved (without, chunks pass through unchanged once their order is checked).
    private let movesEvents: Bool
    private var held: [(Int64, TagChannel)] = []
    private var lastInputPs: Int64 = .min

    public init(delays: ChannelDelays) {
        self.delays = delays
        minimumDelayPs = min(0, delays.delaysPs.values.min() ?? 0)
        movesEvents = delays.delaysPs.values.contains { $0 != 0 }
    }

    /// Delays one sorted chunk; returns the events that can no longer be overtaken, sorted.
    public mutating func process(_ batch: TagBatch) throws(CorrelationError) -> TagBatch {
        guard let last = batch.timesPs.last else { return TagBatch() }
        let previous = lastInputPs
        if let bad = batch.timesPs.withUnsafeBufferPointer({ firstUnsortedIndex($0, notBeforePs: previous) }) {
            throw CorrelationError(.unsortedInput, "event \(bad) of the chunk is out of order", context: "DelayCompensator")
        }
        lastInputPs = last
        guard movesEvents else { return TagBatch(timesPs: batch.timesPs, channels: batch.channels) }
        for (t, c) in zip(batch.timesPs, batch.channels) { held.append((t &+ delays.delayPs(c), c)) }
        // Stable sort keeps equal-time events in arrival order (skipped when the delays left them in order).
        if zip(held, held.dropFirst()).contains(where: { $0.0 > $1.0 }) {
            held = held.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
        }
        // Later input comes at or after `last`, so it lands at or after `last + minimumDelay`.
        let bound = last &+ minimumDelayPs
        var split = 0
        while split < held.count, held[split].0 <= bound { split += 1 }
        let output = TagBatch(timesPs: held[..<split].map(\.0), channels: held[..<split].map(\.1))
        held.removeFirst(split)
        return output
    }

    /// Releases the held events at the end of the stream.
    public mutating func finish() -> TagBatch {
        defer { held = [] }
        return TagBatch(timesPs: held.map(\.0), channels: held.map(\.1))
    }
}
