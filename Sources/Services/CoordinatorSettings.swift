import Correlation
import LinkModel
import TimeTags

/// How the coordinator decides heralds.
public struct HeraldSettings: Sendable, Equatable {
    public var repetitionPeriodPs: Int64
    /// Acceptance window of a station click, from the attempt start, ps.
    public var windowStartPs: Int64
    public var windowEndPs: Int64
    /// Station detectors (ψ⁺, ψ⁻).
    public var stationChannels: [TagChannel]
    /// The lab whose tag stream carries the station detectors.
    public var stationLab: Int
    /// Single-click (default) or Barrett–Kok with its second window.
    public var heraldProtocol: HeraldProtocol = .singleClick
    /// The resolved station the windows come from (``ConfigurationMapping/heralds(_:)-(ResolvedLink)``); after a
    /// rate change the coordinator takes the windows at the new rate from it. Nil: a Barrett–Kok second window
    /// keeps its place relative to the period.
    public var station: HeraldStation?

    public init(repetitionPeriodPs: Int64, windowStartPs: Int64, windowEndPs: Int64, stationChannels: [TagChannel], stationLab: Int = 0,
                heraldProtocol: HeraldProtocol = .singleClick) {
        self.heraldProtocol = heraldProtocol
        self.repetitionPeriodPs = repetitionPeriodPs
        self.windowStartPs = windowStartPs
        self.windowEndPs = windowEndPs
        self.stationChannels = stationChannels
        self.stationLab = stationLab
    }
}

/// Everything the coordinator needs to run.
public struct CoordinatorSettings: Sendable {
    /// ROUTER endpoint (`tcp://127.0.0.1:0` picks a free port).
    public var controlEndpoint: String
    /// PUB endpoint.
    public var publishEndpoint: String
    /// The SQLite journal file.
    public var journalPath: String
    /// The labs in order (the first is lab A of the analysis, the second lab B), each bound to the one node
    /// certificate that may speak for it and to its detector channels: hellos claiming anything else are refused.
    public var labs: [LabMember]
    /// Unacknowledged batches a node may have in flight.
    public var credit: UInt32 = 64
    /// Larger payloads are rejected.
    public var maxPayloadBytes: Int = 64 << 20
    /// Channel layout of the live analysis (`nil`: no analysis).
    public var analysis: AnalysisLayout?
    /// Batches the live analysis' queue holds (between the socket thread and the analysis thread); a batch
    /// arriving while it is full is left out of the analysis, counted and warned about (``AnalysisThread``).
    public var analysisQueueBatches: Int = 1024
    /// Herald decision (`nil`: no heralds).
    public var heralds: HeraldSettings?
    /// How often status is published and journaled, ms.
    public var statusIntervalMs: Int = 1000
    /// A committed repetition-rate change takes effect this much link time after the latest of the labs' earliest
    /// applicable times, ps (on a heralded link at the next attempt from there).
    public var rateChangeMarginPs: Int64 = 10_000_000_000
    /// A proposed repetition-rate change not answered by every lab's node within this time (monotonic clock) is
    /// aborted, ms. The nodes hold their sources while they wait for the decision.
    public var rateChangeTimeoutMs: Int = 10_000

    public init(controlEndpoint: String, publishEndpoint: String, journalPath: String, labs: [LabMember]) {
        self.controlEndpoint = controlEndpoint
        self.publishEndpoint = publishEndpoint
        self.journalPath = journalPath
        self.labs = labs
    }
}
