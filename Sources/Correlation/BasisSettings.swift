import TimeTags

/// One of the two labs of a link: `a` is the reference lab, `b` the other.
public enum LabSide: Int, Sendable, Codable, CaseIterable {
    case a = 0, b = 1
}

/// The two outcomes of a two-outcome measurement.
public enum Outcome: Int, Sendable, Codable {
    case plus = 0, minus = 1
}

/// What a detector channel measures: its lab, its outcome and, for passive basis choice, its basis.
public struct DetectorRole: Sendable, Codable, Equatable {
    public var channel: TagChannel
    public var side: LabSide
    public var outcome: Outcome
    /// The basis this detector always measures in (passive choice: H/V detectors measure Z, D/A measure X,
    /// R/L measure Y); nil when the lab's ``BasisSource`` sets the basis.
    public var basis: String?
    /// The detector's efficiency (0…1; only ratios between a lab's − and + detectors matter: the tomography's
    /// ``TomographyDetectors/init(roles:)``). 1 unless configured.
    public var efficiency: Double

    public init(channel: TagChannel, side: LabSide, outcome: Outcome, basis: String? = nil, efficiency: Double = 1) {
        self.channel = channel; self.side = side; self.outcome = outcome; self.basis = basis; self.efficiency = efficiency
    }
}

/// A basis in force from a time on.
public struct BasisSegment: Sendable, Codable, Equatable {
    /// Start of the segment on the lab's own clock, in picoseconds.
    public var startPs: Int64
    public var basis: String
    public init(startPs: Int64, basis: String) { self.startPs = startPs; self.basis = basis }
}

/// Where a lab's measurement basis comes from.
public enum BasisSource: Sendable, Codable, Equatable {
    /// Each detector's own basis (passive choice; see ``DetectorRole/basis``).
    case detectors
    /// One basis for the whole file.
    case fixed(String)
    /// Bases by time segment (sorted by start; events before the first segment have no basis).
    case segments([BasisSegment])
    /// Marker events announce a basis change: marker number → basis from that marker on.
    case markers([Int32: String])
}

/// Virtual channels that carry (lab, basis, outcome) after labelling: `base + side·1000 + 2·basis + outcome`.
public struct OutcomeChannels: Sendable, Equatable {
    /// The basis labels in index order.
    public let bases: [String]
    public static let base: TagChannel = 100_000

    public init(bases: [String]) { self.bases = bases }

    /// The virtual channel of an outcome in basis `basisIndex` on `side`.
    public func channel(side: LabSide, basisIndex: Int, outcome: Outcome) -> TagChannel {
        Self.base + TagChannel(side.rawValue * 1000 + 2 * basisIndex + outcome.rawValue)
    }

    public func channel(side: LabSide, basis: String, outcome: Outcome) -> TagChannel? {
        bases.firstIndex(of: basis).map { channel(side: side, basisIndex: $0, outcome: outcome) }
    }

    /// Decodes a virtual channel.
    public func decode(_ channel: TagChannel) -> (side: LabSide, basisIndex: Int, outcome: Outcome)? {
        let offset = Int(channel) - Int(Self.base)
        guard offset >= 0, offset < 2000 else { return nil }
        let side: LabSide = offset >= 1000 ? .b : .a
        let rest = offset % 1000
        guard rest / 2 < bases.count else { return nil }
        return (side, rest / 2, rest % 2 == 0 ? .plus : .minus)
    }
}

/// Replaces outcome-detector events by virtual channels naming lab, basis and outcome, with the basis taken
/// from each lab's ``BasisSource`` as the stream goes by. Events of other channels pass unchanged; outcome
/// events with no basis yet (before the first marker or segment) are dropped and counted in
/// ``unlabelledEvents``.
///
/// The labels depend on the events' times only, not on how the stream is cut into batches: a marker applies
/// to the photons at or after its time. Markers later than a batch's last photon are kept (in a
/// ``TimeOrderGate``) and applied when a later photon reaches them, so the same events in batches of any
/// size label identically. Memory: the current basis per lab and the basis markers after the last photon.
public struct BasisLabeler: Sendable {
    public let outcomeChannels: OutcomeChannels
    private let roles: [TagChannel: DetectorRole]
    private let sources: [BasisSource]
    /// Per event, without hashing or string comparison: the slot of each outcome channel, and how its label is
    /// found.
    private let roleSlots: ChannelTable
    private let slotLabels: [SlotLabel]
    /// Each lab's basis segments: start times and basis indices.
    private let segmentStarts: [[Int64]]
    private let segmentBases: [[Int]]
    private var current: [Int?]
    private var segmentIndex: [Int]
    private var markerMaps: [[Int32: Int]]
    /// Basis markers not yet reached by a photon.
    private var pendingMarkers = TimeOrderGate()
    /// Outcome events dropped because their lab had no basis yet.
    public private(set) var unlabelledEvents: Int64 = 0
    /// When true, each outcome event is kept on its own channel and the labelled copy added right after it
    /// (same time), so that channel-pair counting and basis counting can share one stream.
    public var keepsOriginalEvents = false

    /// A labeller for `roles`, with basis source `sourceA` for lab A and `sourceB` for lab B.
    public init(roles: [DetectorRole], sourceA: BasisSource, sourceB: BasisSource) throws(CorrelationError) {
        var labels: [String] = []
        func add(_ label: String) { if !labels.contains(label) { labels.append(label) } }
        var table: [TagChannel: DetectorRole] = [:]
        for role in roles {
            guard table[role.channel] == nil else {
                throw CorrelationError(.invalidParameter, "channel \(role.channel) has two detector roles", context: "basis labelling")
            }
            table[role.channel] = role
            if let basis = role.basis { add(basis) }
        }
        for source in [sourceA, sourceB] {
            switch source {
            case .detectors: break
            case .fixed(let basis): add(basis)
            case .segments(let segments):
                guard zip(segments, segments.dropFirst()).allSatisfy({ $0.startPs <= $1.startPs }) else {
                    throw CorrelationError(.invalidParameter, "basis segments must be sorted by start time", context: "basis labelling")
                }
                segments.forEach { add($0.basis) }
            case .markers(let map): map.keys.sorted().forEach { add(map[$0] ?? "") }
            }
        }
        guard labels.count <= 500 else {
            throw CorrelationError(.invalidParameter, "more than 500 basis labels", context: "basis labelling")
        }
        let outcomeChannels = OutcomeChannels(bases: labels)
        self.outcomeChannels = outcomeChannels
        self.roles = table
        sources = [sourceA, sourceB]
        let slots = ChannelTable(roles.map(\.channel))
        roleSlots = slots
        slotLabels = slots.channels.map { channel in
            guard let role = table[channel] else { return .unlabelled }
            switch [sourceA, sourceB][role.side.rawValue] {
            case .detectors:
                guard let index = role.basis.flatMap({ labels.firstIndex(of: $0) }) else { return .unlabelled }
                return .fixed(outcomeChannels.channel(side: role.side, basisIndex: index, outcome: role.outcome))
            case .segments: return .segments(role.side, role.outcome)
            case .fixed, .markers: return .current(role.side, role.outcome)
            }
        }
        let segmentLists = [sourceA, sourceB].map { source -> [BasisSegment] in
            if case .segments(let segments) = source { return segments }
            return []
        }
        segmentStarts = segmentLists.map { $0.map(\.startPs) }
        segmentBases = segmentLists.map { $0.map { segment in labels.firstIndex(of: segment.basis) ?? 0 } }
        current = [nil, nil]
        segmentIndex = [0, 0]
        markerMaps = [sourceA, sourceB].map { source in
            guard case .markers(let map) = source else { return [:] }
            return map.compactMapValues { labels.firstIndex(of: $0) }
        }
        for side in 0..<2 {
            if case .fixed(let basis) = sources[side] { current[side] = labels.firstIndex(of: basis) }
        }
    }

    /// Labels the next sorted chunk of the stream. Its markers (which pass through to the output) apply from
    /// their time on, to this chunk's photons and to those of later chunks.
    public mutating func process(_ batch: TagBatch) -> TagBatch {
        var output = TagBatch(capacity: keepsOriginalEvents ? 2 * batch.count : batch.count)
        output.gaps = batch.gaps
        pendingMarkers.hold(markers: batch.markers.filter { marker in markerMaps.contains { $0[marker.marker] != nil } }, gaps: [])
        let markers = batch.timesPs.last.map { pendingMarkers.release(through: $0).markers } ?? []
        var m = 0
        for index in 0..<batch.count {
            let t = batch.timesPs[index]
            while m < markers.count, markers[m].timePs <= t { apply(markers[m]); m += 1 }
            let channel = batch.channels[index]
            let slot = roleSlots.slot(channel)
            guard slot >= 0 else { output.append(timePs: t, channel: channel); continue }
            if keepsOriginalEvents { output.append(timePs: t, channel: channel) }
            let labelled: TagChannel
            switch slotLabels[slot] {
            case .fixed(let virtual):
                labelled = virtual
            case .unlabelled:
                unlabelledEvents += 1
                continue
            case .segments(let side, let outcome):
                let lab = side.rawValue
                while segmentIndex[lab] < segmentStarts[lab].count, segmentStarts[lab][segmentIndex[lab]] <= t {
                    current[lab] = segmentBases[lab][segmentIndex[lab]]
                    segmentIndex[lab] += 1
                }
                guard let basisIndex = current[lab] else { unlabelledEvents += 1; continue }
                labelled = outcomeChannels.channel(side: side, basisIndex: basisIndex, outcome: outcome)
            case .current(let side, let outcome):
                guard let basisIndex = current[side.rawValue] else { unlabelledEvents += 1; continue }
                labelled = outcomeChannels.channel(side: side, basisIndex: basisIndex, outcome: outcome)
            }
            output.append(timePs: t, channel: labelled)
        }
        output.markers = batch.markers
        return output
    }

    /// The virtual channels a physical channel can be labelled as (one per basis it may be measured in).
    public func labelledChannels(of channel: TagChannel) -> [TagChannel] {
        guard let role = roles[channel] else { return [] }
        if case .detectors = sources[role.side.rawValue] {
            return role.basis.flatMap { outcomeChannels.channel(side: role.side, basis: $0, outcome: role.outcome) }.map { [$0] } ?? []
        }
        return outcomeChannels.bases.indices.map { outcomeChannels.channel(side: role.side, basisIndex: $0, outcome: role.outcome) }
    }

    /// How an outcome channel's label is found.
    private enum SlotLabel: Sendable {
        /// Passive basis choice: always this virtual channel.
        case fixed(TagChannel)
        /// A passive-choice detector without a basis: never labelled.
        case unlabelled
        /// The lab's basis from its segments, then its outcome.
        case segments(LabSide, Outcome)
        /// The lab's current basis (fixed or set by markers), then its outcome.
        case current(LabSide, Outcome)
    }

    private mutating func apply(_ marker: MarkerEvent) {
        for side in 0..<2 {
            if let index = markerMaps[side][marker.marker] { current[side] = index }
        }
    }
}
