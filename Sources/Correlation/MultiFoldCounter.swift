import TimeTags

/// N-fold coincidences: a reference channel (e.g. a herald) and further channels, each required in its own
/// lag window relative to the reference event.
public struct MultiFoldSpec: Sendable, Hashable, Codable {
    /// The channel whose events open the windows.
    public var reference: TagChannel
    /// The other channels and their windows (lag = t(channel) − t(reference)).
    public var requirements: [Requirement]

    /// One required channel and its window.
    public struct Requirement: Sendable, Hashable, Codable {
        public var channel: TagChannel
        public var window: CoincidenceWindow
        public init(channel: TagChannel, window: CoincidenceWindow) {
            self.channel = channel
            self.window = window
        }
    }

    public init(reference: TagChannel, requirements: [Requirement]) {
        self.reference = reference
        self.requirements = requirements
    }
}

/// Result of N-fold counting.
public struct MultiFoldCounts: Sendable, Equatable, Codable {
    /// Reference events with at least one event in every required window.
    public var events: Int64
    /// Sum over reference events of the product of the numbers of events in each window
    /// (every combination of one event per window counted once).
    public var combinations: Int64
    /// Reference events seen.
    public var referenceEvents: Int64
}

/// Counts N-fold coincidences over a chunked stream, exactly (same result for any chunking).
public struct MultiFoldCounter: Sendable {
    private var stream: ReferenceStream<MultiFoldVisitor>

    public init(spec: MultiFoldSpec) throws(CorrelationError) {
        guard !spec.requirements.isEmpty else {
            throw CorrelationError(.invalidParameter, "an N-fold coincidence needs at least one further channel",
                                   context: "reference channel \(spec.reference)")
        }
        let low = spec.requirements.map(\.window.lowerPs).min() ?? 0
        let high = spec.requirements.map(\.window.upperPs).max() ?? 0
        stream = ReferenceStream(lowerReachPs: low, upperReachPs: high, visitor: MultiFoldVisitor(spec: spec))
    }

    /// Adds one sorted chunk.
    public mutating func process(_ batch: TagBatch) throws(CorrelationError) { try stream.process(batch) }
    /// Ends the stream.
    public mutating func finish() { stream.finish() }
    /// The counts (complete after ``finish()``).
    public var counts: MultiFoldCounts { stream.visitor.counts }
}

struct MultiFoldVisitor: ReferenceVisitor {
    let spec: MultiFoldSpec
    var counts = MultiFoldCounts(events: 0, combinations: 0, referenceEvents: 0)

    func isReference(_ channel: TagChannel) -> Bool { channel == spec.reference }

    mutating func visit(index: Int, times: [Int64], channels: [TagChannel], neighbors: Range<Int>) {
        counts.referenceEvents += 1
        let t = times[index]
        var product: Int64 = 1
        for requirement in spec.requirements {
            var found: Int64 = 0
            for j in neighbors where j != index && channels[j] == requirement.channel
                && requirement.window.contains(times[j] - t) { found += 1 }
            product = product.multipliedReportingOverflow(by: found).partialValue
            if found == 0 { return }
        }
        counts.events += 1
        counts.combinations &+= product
    }
}
