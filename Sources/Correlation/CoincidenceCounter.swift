import TimeTags

/// Counts coincidences for any set of channel pairs, each in its own (symmetric or asymmetric) window,
/// over a stream delivered in chunks.
///
/// The count for a pair `(A, B)` with window `[lo, hi]` is the number of ordered event pairs `(a, b)` with
/// `a` on channel A, `b` on channel B, `a ≠ b` and `lo ≤ t_b − t_a ≤ hi` — exactly what a brute-force loop
/// over all pairs returns, independent of how the stream is cut into chunks. Singles per channel are
/// counted too.
public struct CoincidenceCounter: Sendable {
    /// The pairs and windows being counted, in result order.
    public let specs: [CoincidenceSpec]
    private var stream: NeighborStream<CoincidenceVisitor>
    private var singlesCounter: SinglesCounter
    private(set) var firstTimePs: Int64?

    /// A counter for `specs`. Throws when there are no specifications.
    public init(specs: [CoincidenceSpec]) throws(CorrelationError) {
        guard !specs.isEmpty else {
            throw CorrelationError(.invalidParameter, "no channel pairs to count", context: "CoincidenceCounter",
                                   hint: "give at least one channel pair and window")
        }
        self.specs = specs
        let visitor = CoincidenceVisitor(specs: specs)
        let span = specs.map(\.window.reachPs).max() ?? 0
        stream = NeighborStream(spanPs: span, visitor: visitor)
        var channels: [TagChannel] = []
        for spec in specs { channels.append(spec.pair.first); channels.append(spec.pair.second) }
        singlesCounter = SinglesCounter(channels: channels)
    }

    /// Number of threads used on large chunks (1 = single-threaded). Defaults to 2.
    public var threads: Int {
        get { stream.threads }
        set { stream.threads = max(1, newValue) }
    }

    /// Events per thread below which a chunk is not split across threads (default 2^20).
    public var minimumEventsPerThread: Int {
        get { stream.parallelThreshold }
        set { stream.parallelThreshold = max(1, newValue) }
    }

    /// Adds one chunk (sorted, starting no earlier than the previous chunk's last event).
    public mutating func process(_ batch: TagBatch) throws(CorrelationError) {
        try stream.process(times: batch.timesPs, channels: batch.channels)
        singlesCounter.add(batch)
        if firstTimePs == nil, let first = batch.timesPs.first { firstTimePs = first }
    }

    /// Ends the stream: counts the pairs among the last events. Call once after the last chunk.
    public mutating func finish() { stream.finish() }

    /// Coincidence counts, one per specification (complete after ``finish()``).
    public var counts: [Int64] { stream.visitor.counts }

    /// Singles per channel of the specifications.
    public var singles: [TagChannel: Int64] { singlesCounter.counts }

    /// Time spanned by the events seen so far (last − first), in picoseconds.
    public var durationPs: Int64 {
        guard let first = firstTimePs, stream.lastTimePs != .min else { return 0 }
        return stream.lastTimePs - first
    }

    /// Events carried between chunks (bounded by the events in the widest window).
    public var carriedEvents: Int { stream.carriedCount }

    /// Counts `specs` on one complete batch.
    public static func count(_ batch: TagBatch, specs: [CoincidenceSpec], threads: Int = 2) throws(CorrelationError) -> [Int64] {
        var counter = try CoincidenceCounter(specs: specs)
        counter.threads = threads
        try counter.process(batch)
        counter.finish()
        return counter.counts
    }
}

/// Counts singles on a fixed set of channels.
struct SinglesCounter: Sendable {
    private let table: ChannelTable
    private var slotCounts: [Int64]

    init(channels: [TagChannel]) {
        table = ChannelTable(channels)
        slotCounts = [Int64](repeating: 0, count: table.count)
    }

    /// Tables up to this many channels are counted by comparing (one vectorised pass per channel) rather than
    /// by looking each event's slot up.
    static let comparedChannels = 4

    mutating func add(_ batch: TagBatch) {
        let slots = table.count
        if slots <= Self.comparedChannels {
            for slot in 0..<slots { slotCounts[slot] &+= Self.count(table.channels[slot], in: batch.channels) }
            return
        }
        let low = table.minChannel
        // Four interleaved lanes of counters break the dependency between consecutive increments;
        // slot `slots` collects channels outside the table.
        var lanes = [Int64](repeating: 0, count: 4 * (slots + 1))
        lanes.withUnsafeMutableBufferPointer { out in
            table.lookup.withUnsafeBufferPointer { lookup in
                batch.channels.withUnsafeBufferPointer { channels in
                    guard let counts = out.baseAddress, let c = channels.baseAddress, let map = lookup.baseAddress else { return }
                    let size = UInt64(lookup.count)
                    @inline(__always) func lane(_ k: Int, _ channel: TagChannel) -> Int {
                        let offset = UInt64(bitPattern: Int64(channel) &- low)
                        let slot = offset < size ? Int(map[Int(offset)]) : -1
                        return (slot < 0 ? slots : slot) &* 4 &+ k
                    }
                    let n = channels.count
                    var i = 0
                    while i &+ 4 <= n {
                        counts[lane(0, c[i])] &+= 1
                        counts[lane(1, c[i &+ 1])] &+= 1
                        counts[lane(2, c[i &+ 2])] &+= 1
                        counts[lane(3, c[i &+ 3])] &+= 1
                        i &+= 4
                    }
                    while i < n { counts[lane(0, c[i])] &+= 1; i &+= 1 }
                }
            }
        }
        for slot in 0..<slots {
            slotCounts[slot] &+= lanes[4 * slot] + lanes[4 * slot + 1] + lanes[4 * slot + 2] + lanes[4 * slot + 3]
        }
    }

    /// How many of `channels` equal `channel` (32-bit partial sums, so that the loop vectorises).
    private static func count(_ channel: TagChannel, in channels: [TagChannel]) -> Int64 {
        channels.withUnsafeBufferPointer { buffer in
            guard let c = buffer.baseAddress else { return 0 }
            var total: Int64 = 0
            var i = 0
            while i < buffer.count {
                let end = min(buffer.count, i &+ (1 << 20))
                var partial: UInt32 = 0
                while i < end { partial &+= c[i] == channel ? 1 : 0; i &+= 1 }
                total &+= Int64(partial)
            }
            return total
        }
    }

    var counts: [TagChannel: Int64] {
        var result: [TagChannel: Int64] = [:]
        for (slot, channel) in table.channels.enumerated() { result[channel] = slotCounts[slot] }
        return result
    }
}

/// Adds one to a specification's count for each close pair that falls in its window.
struct CoincidenceVisitor: NeighborVisitor, Sendable {
    let routes: PairRoutes
    let windows: [CoincidenceWindow]
    var counts: [Int64]

    init(specs: [CoincidenceSpec]) {
        routes = PairRoutes(pairs: specs.map(\.pair))
        windows = specs.map(\.window)
        counts = [Int64](repeating: 0, count: specs.count)
    }

    func emptyCopy() -> CoincidenceVisitor {
        var copy = self
        copy.counts = [Int64](repeating: 0, count: counts.count)
        return copy
    }

    mutating func merge(_ other: CoincidenceVisitor) {
        for index in counts.indices { counts[index] += other.counts[index] }
    }

    @inline(__always)
    mutating func visit(earlierChannel: TagChannel, laterChannel: TagChannel, earlierTimePs: Int64, lagPs: Int64) {
        let e = routes.table.slot(earlierChannel)
        let l = routes.table.slot(laterChannel)
        guard e >= 0, l >= 0 else { return }
        for position in routes.specs(first: e, second: l) {
            let spec = routes.spec(at: position)
            if windows[spec].contains(lagPs) { counts[spec] &+= 1 }
        }
        for position in routes.specs(first: l, second: e) {
            let spec = routes.spec(at: position)
            if windows[spec].contains(-lagPs) { counts[spec] &+= 1 }
        }
    }
}
