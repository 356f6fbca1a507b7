import TimeTags
import LinkModel

/// How lab B's clock relates to lab A's for ``LinkAnalysis``.
public enum LinkClockReference: Sendable, Equatable {
    /// Both taggers run from one reference: a lab B time is the lab A time plus `offsetPs`, exactly.
    case shared(offsetPs: Int64)
    /// Free-running taggers: lab B's clock is recovered from the pairs (``ClockRecoveryStream``) and each lab B
    /// event is mapped through the track at its own time.
    case independent(ClockRecoverySettings)
}

/// Herald patterns counted in the merged stream (``HeraldedCounter``): which clicks herald which state and the
/// windows, relative to the herald, in which each lab's outcome is looked for.
public struct LinkHeraldSettings: Sendable, Equatable {
    /// The patterns (channels in the engine's numbering, see ``LinkAnalysisConfiguration``).
    public var patterns: [HeraldPattern]
    /// Where lab A's outcome is looked for, relative to the herald.
    public var windowA: CoincidenceWindow
    /// Where lab B's outcome is looked for, relative to the herald.
    public var windowB: CoincidenceWindow

    /// Herald settings from their parts.
    public init(patterns: [HeraldPattern], windowA: CoincidenceWindow, windowB: CoincidenceWindow) {
        self.patterns = patterns; self.windowA = windowA; self.windowB = windowB
    }
}

/// Everything ``LinkAnalysis`` needs to know about a link, as one value.
///
/// Channel numbers: with two labs (``twoLabs``), lab B's channels and markers are numbered
/// `channel + labBChannelOffset` here and in the results' internal pairs (its batches are renumbered on entry),
/// so two labs may use the same channel numbers. With one stream holding both labs (``twoLabs`` false) channels
/// are the stream's own.
public struct LinkAnalysisConfiguration: Sendable, Equatable {
    /// Added to lab B's channel and marker numbers inside the engine.
    public static let labBChannelOffset: TagChannel = 50_000

    /// Two labs fed separately (lab 0 = A, lab 1 = B), or one stream holding both labs' channels (lab 0 only).
    public var twoLabs: Bool
    /// Channel pairs whose coincidences, side-window accidentals and histograms are counted (first: lab A).
    public var pairs: [ChannelPair]
    /// Half width of the coincidence window, ps.
    public var windowHalfWidthPs: Int64
    /// Side windows on each side of every pair's window, for the accidentals.
    public var sideWindows = 2
    /// Outcome detectors (side, outcome, passive basis).
    public var roles: [DetectorRole] = []
    /// Where lab A's basis comes from.
    public var sourceA: BasisSource = .detectors
    /// Where lab B's basis comes from.
    public var sourceB: BasisSource = .detectors
    /// Delay added to each channel's times, ps (lab B's channels in the engine's numbering).
    public var delaysPs: [TagChannel: Int64] = [:]
    /// The Bell state the link aims for (fidelity target).
    public var target: BellState = .psiMinus
    /// Bases of the CHSH combination, when S is wanted.
    public var chsh: CHSHSettings?
    /// Herald patterns counted in the merged stream.
    public var heralds: LinkHeraldSettings?
    /// Heralded link analysed from decided heralds: each lab's readouts are correlated with the herald they
    /// belong to (``HeraldedAnalysis``, fed by ``LinkAnalysis/addHeralds(_:coveredThroughPs:)``) instead of with
    /// each other; the largest herald-to-readout lag searched, ps. Nil: a pair link (or heralds counted by
    /// ``heralds`` patterns in the merged stream).
    public var heraldReadoutMaxLagPs: Int64?
    /// The clock relation of lab B to lab A.
    public var clock: LinkClockReference = .shared(offsetPs: 0)
    /// Cross-correlation histogram range ±, ps.
    public var histogramRangePs: Int64 = 50_000
    /// Cross-correlation histogram bin width, ps.
    public var histogramBinPs: Int64 = 50
    /// Poisson-bootstrap replicates for the fidelity and CHSH intervals (0: none).
    public var bootstrapReplicates = 0
    /// The labs' names (for the results).
    public var labNames = ["A", "B"]

    /// A configuration counting `pairs` in ±`windowHalfWidthPs`; everything else has its default.
    public init(twoLabs: Bool, pairs: [ChannelPair], windowHalfWidthPs: Int64) {
        self.twoLabs = twoLabs
        self.pairs = pairs
        self.windowHalfWidthPs = windowHalfWidthPs
    }

    /// Engine number of lab `side`'s channel `channel`.
    public func engineChannel(_ channel: TagChannel, side: LabSide) -> TagChannel {
        twoLabs && side == .b ? channel &+ Self.labBChannelOffset : channel
    }

    /// The lab channel number of an engine channel, with its lab's name when there are two labs.
    public func labChannel(_ channel: TagChannel) -> (channel: TagChannel, lab: String?) {
        guard twoLabs else { return (channel, nil) }
        return channel >= Self.labBChannelOffset ? (channel &- Self.labBChannelOffset, labNames.last) : (channel, labNames.first)
    }

    /// Whether outcomes can be labelled with bases (some detector has an outcome role and a basis is known).
    public var labelsBases: Bool {
        guard !roles.isEmpty else { return false }
        if sourceA != .detectors || sourceB != .detectors { return true }
        return roles.contains { $0.basis != nil }
    }
}
