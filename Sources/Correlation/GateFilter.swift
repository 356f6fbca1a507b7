import TimeTags

/// Keeps events of the gated channels only inside windows opened by a gate channel.
///
/// A gate event at `g` opens `[g + openDelayPs, g + openDelayPs + lengthPs)`. Events on other channels
/// (including the gate channel) pass unchanged. Works on chunks; output is delayed only for events that a
/// later gate event at the same time could still open.
public struct GateFilter: Sendable {
    public let gateChannel: TagChannel
    public let gatedChannels: Set<TagChannel>
    public let openDelayPs: Int64
    public let lengthPs: Int64
    private var pendingGates: [Int64] = []
    private var held = TagBatch()
    private var lastTimePs: Int64 = .min

    /// A gate. Throws when the delay is negative (delay the gate channel instead) or the length is not positive.
    public init(gateChannel: TagChannel, gatedChannels: Set<TagChannel>, openDelayPs: Int64, lengthPs: Int64) throws(CorrelationError) {
        guard openDelayPs >= 0, lengthPs > 0 else {
            throw CorrelationError(.invalidParameter, "gate needs a non-negative opening delay and a positive length",
                                   context: "openDelayPs \(openDelayPs), lengthPs \(lengthPs)",
                                   hint: "apply a channel delay to the gate channel so the window opens after it")
        }
        self.gateChannel = gateChannel
        self.gatedChannels = gatedChannels
        self.openDelayPs = openDelayPs
        self.lengthPs = lengthPs
    }

    /// Filters one sorted chunk and returns the events that are decided.
    public mutating func process(_ batch: TagBatch) throws(CorrelationError) -> TagBatch {
        guard let last = batch.timesPs.last else { return TagBatch() }
        let previous = lastTimePs
        if let bad = batch.timesPs.withUnsafeBufferPointer({ firstUnsortedIndex($0, notBeforePs: previous) }) {
            throw CorrelationError(.unsortedInput, "event \(bad) of the chunk is out of order", context: "GateFilter")
        }
        lastTimePs = last
        var input = held
        input.timesPs.append(contentsOf: batch.timesPs)
        input.channels.append(contentsOf: batch.channels)
        held = TagBatch()
        return filter(input, final: false)
    }

    /// Releases the events held back at the end of the stream.
    public mutating func finish() -> TagBatch {
        let input = held
        held = TagBatch()
        return filter(input, final: true)
    }

    private mutating func filter(_ input: TagBatch, final: Bool) -> TagBatch {
        for (t, c) in zip(input.timesPs, input.channels) where c == gateChannel && pendingGates.last != t {
            pendingGates.append(t)
        }
        var output = TagBatch(capacity: input.count)
        var gate = 0          // index of the latest gate with g + delay <= t
        var openUntil: Int64 = .min
        for (t, c) in zip(input.timesPs, input.channels) {
            guard gatedChannels.contains(c) else { output.append(timePs: t, channel: c); continue }
            if !final && t &- openDelayPs >= lastTimePs {
                held.append(timePs: t, channel: c)   // a gate at the current last time could still open it
                continue
            }
            while gate < pendingGates.count, pendingGates[gate] &+ openDelayPs <= t {
                openUntil = pendingGates[gate] &+ openDelayPs &+ lengthPs
                gate += 1
            }
            if t < openUntil { output.append(timePs: t, channel: c) }
        }
        // Only the newest gate that has opened can still matter (all windows have the same length).
        if gate > 1 { pendingGates.removeFirst(gate - 1) }
        return output
    }
}
