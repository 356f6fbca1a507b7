import TimeTags
import LinkModel

/// A herald type: a station detector pattern (or a single herald event) announcing a Bell state.
///
/// The pattern opens on an event of `reference` and requires one event on each further channel in its window
/// relative to it (for example, Barrett–Kok ψ⁻: detector 1, then detector 2 one time bin later). With no
/// requirements every event of `reference` is a herald (herald events from the station electronics).
public struct HeraldPattern: Sendable, Codable, Equatable {
    /// The state the pattern heralds.
    public var state: BellState
    public var reference: TagChannel
    public var requirements: [MultiFoldSpec.Requirement]

    public init(state: BellState, reference: TagChannel, requirements: [MultiFoldSpec.Requirement] = []) {
        self.state = state; self.reference = reference; self.requirements = requirements
    }
}

/// Heralded outcome counts for one heralded state.
public struct HeraldedCounts: Sendable, Codable, Equatable {
    public var state: BellState
    /// Heralds of this state seen.
    public var heralds: Int64
    /// Heralds with exactly one outcome in each lab's window.
    public var heraldsWithOutcomes: Int64
    /// Joint outcome counts per basis combination.
    public var settings: [SettingCounts]
}

/// Heralded mode: each herald selects the windows (relative to the herald time) in which the two labs'
/// outcomes belong to the heralded state; their joint outcomes are counted per herald type and basis
/// combination. Input is a labelled stream (see ``BasisLabeler``) holding herald channels and outcome
/// channels on one time axis. Exact for any chunking; memory is the events within the windows' reach.
public struct HeraldedCounter: Sendable {
    private var stream: ReferenceStream<HeraldVisitor>

    /// A counter for `patterns`, with lab A's outcome expected in `windowA` and lab B's in `windowB`
    /// (lags relative to the herald's reference event).
    public init(patterns: [HeraldPattern], windowA: CoincidenceWindow, windowB: CoincidenceWindow,
                outcomeChannels: OutcomeChannels) throws(CorrelationError) {
        guard !patterns.isEmpty else {
            throw CorrelationError(.invalidParameter, "no herald patterns", context: "heralded mode",
                                   hint: "declare at least one herald pattern")
        }
        let windows = patterns.flatMap { $0.requirements.map(\.window) } + [windowA, windowB]
        let low = windows.map(\.lowerPs).min() ?? 0
        let high = windows.map(\.upperPs).max() ?? 0
        stream = ReferenceStream(lowerReachPs: low, upperReachPs: high,
                                 visitor: HeraldVisitor(patterns: patterns, windowA: windowA, windowB: windowB,
                                                        outcomeChannels: outcomeChannels))
    }

    /// Adds one sorted chunk.
    public mutating func process(_ batch: TagBatch) throws(CorrelationError) { try stream.process(batch) }
    /// Ends the stream.
    public mutating func finish() { stream.finish() }
    /// Events held between chunks.
    public var bufferedEvents: Int { stream.bufferedCount }
    /// Heralds whose reference event matched patterns of two different states (not counted).
    public var ambiguousHeralds: Int64 { stream.visitor.ambiguous }

    /// Counts per heralded state (complete after ``finish()``).
    public var results: [HeraldedCounts] {
        let visitor = stream.visitor
        let bases = visitor.outcomeChannels.bases
        return visitor.states.enumerated().map { index, state in
            var settings: [SettingCounts] = []
            for i in bases.indices {
                for j in bases.indices {
                    let base = ((index * bases.count + i) * bases.count + j) * 4
                    let cells = (0..<4).map { Double(visitor.cells[base + $0]) }
                    if cells.reduce(0, +) > 0 {
                        settings.append(SettingCounts(basisA: bases[i], basisB: bases[j], counts: JointCounts(cells: cells)))
                    }
                }
            }
            return HeraldedCounts(state: state, heralds: visitor.heralds[index], heraldsWithOutcomes: visitor.withOutcomes[index],
                                  settings: settings)
        }
    }
}

struct HeraldVisitor: ReferenceVisitor {
    let patterns: [HeraldPattern]
    let windowA: CoincidenceWindow
    let windowB: CoincidenceWindow
    let outcomeChannels: OutcomeChannels
    let references: Set<TagChannel>
    let states: [BellState]
    var heralds: [Int64]
    var withOutcomes: [Int64]
    var cells: [Int64]
    var ambiguous: Int64 = 0

    init(patterns: [HeraldPattern], windowA: CoincidenceWindow, windowB: CoincidenceWindow, outcomeChannels: OutcomeChannels) {
        self.patterns = patterns
        self.windowA = windowA
        self.windowB = windowB
        self.outcomeChannels = outcomeChannels
        references = Set(patterns.map(\.reference))
        var states: [BellState] = []
        for pattern in patterns where !states.contains(pattern.state) { states.append(pattern.state) }
        self.states = states
        heralds = [Int64](repeating: 0, count: states.count)
        withOutcomes = heralds
        cells = [Int64](repeating: 0, count: states.count * outcomeChannels.bases.count * outcomeChannels.bases.count * 4)
    }

    func isReference(_ channel: TagChannel) -> Bool { references.contains(channel) }

    mutating func visit(index: Int, times: [Int64], channels: [TagChannel], neighbors: Range<Int>) {
        let t = times[index]
        var matched: BellState?
        for pattern in patterns where pattern.reference == channels[index] {
            let complete = pattern.requirements.allSatisfy { requirement in
                neighbors.contains { j in
                    j != index && channels[j] == requirement.channel && requirement.window.contains(times[j] - t)
                }
            }
            guard complete else { continue }
            if let previous = matched, previous != pattern.state { ambiguous += 1; return }
            matched = pattern.state
        }
        guard let state = matched, let stateIndex = states.firstIndex(of: state) else { return }
        heralds[stateIndex] += 1
        var outcomeA: (Int, Outcome)?, outcomeB: (Int, Outcome)?
        var countA = 0, countB = 0
        for j in neighbors where j != index {
            guard let decoded = outcomeChannels.decode(channels[j]) else { continue }
            let lag = times[j] - t
            switch decoded.side {
            case .a where windowA.contains(lag): countA += 1; outcomeA = (decoded.basisIndex, decoded.outcome)
            case .b where windowB.contains(lag): countB += 1; outcomeB = (decoded.basisIndex, decoded.outcome)
            default: break
            }
        }
        guard countA == 1, countB == 1, let a = outcomeA, let b = outcomeB else { return }
        withOutcomes[stateIndex] += 1
        let n = outcomeChannels.bases.count
        let cell = a.1.rawValue * 2 + b.1.rawValue
        cells[((stateIndex * n + a.0) * n + b.0) * 4 + cell] += 1
    }
}
