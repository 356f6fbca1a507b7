import Correlation

/// One herald as shown on the status page.
public struct HeraldSummary: Sendable, Codable, Equatable {
    /// The herald's sequence number.
    public var sequence: UInt64
    /// The attempt it heralds.
    public var attemptId: UInt64
    /// `fail`, `psi_plus` or `psi_minus`.
    public var outcome: String
    /// When it was decided, in picoseconds on the coordinator's time axis.
    public var timePs: Int64

    public init(sequence: UInt64, attemptId: UInt64, outcome: String, timePs: Int64) {
        self.sequence = sequence
        self.attemptId = attemptId
        self.outcome = outcome
        self.timePs = timePs
    }
}

/// One node as the coordinator sees it.
public struct NodeStatus: Sendable, Codable, Equatable {
    /// The node's name.
    public var name: String
    /// The lab it serves.
    public var lab: String
    /// True while a session is open.
    public var connected: Bool
    /// When it was last heard from, in picoseconds (nil: never).
    public var lastSeenPs: Int64?
    /// Batches missing from its sequence so far.
    public var sequenceGaps: Int64
    /// Batches waiting in its spool, when it reports them.
    public var spoolBatches: Int64?

    public init(name: String, lab: String, connected: Bool, lastSeenPs: Int64? = nil, sequenceGaps: Int64 = 0,
                spoolBatches: Int64? = nil) {
        self.name = name
        self.lab = lab
        self.connected = connected
        self.lastSeenPs = lastSeenPs
        self.sequenceGaps = sequenceGaps
        self.spoolBatches = spoolBatches
    }
}

/// The repetition-rate setting and the planner's advice.
public struct TuningStatus: Sendable, Codable, Equatable {
    /// The rate in force, in Hz.
    public var repetitionRateHz: Double?
    /// The knob in force (α, mean pairs per attempt).
    public var knob: Double?
    /// The rate the planner recommends for the link as measured, in Hz.
    public var recommendedRateHz: Double?
    /// The knob the planner recommends.
    public var recommendedKnob: Double?
    /// True when the coordinator applies recommendations itself.
    public var autoTune: Bool
    /// The last decision, in words.
    public var lastDecision: String?
    /// Link time from which ``repetitionRateHz`` is in force, ps (nil: the configured rate, from the start).
    public var rateSincePs: Int64?
    /// A proposed rate change not yet decided by both labs: its id (nil: none).
    public var pendingChangeId: UInt64?
    /// The rate it proposes, Hz (nil when not known, as on a node).
    public var pendingRateHz: Double?
    /// Why a node's source is held for rate agreement (waiting for the schedule, or for a proposal's decision);
    /// nil while it runs, and on the coordinator.
    public var rateHold: String?

    public init(repetitionRateHz: Double? = nil, knob: Double? = nil, recommendedRateHz: Double? = nil,
                recommendedKnob: Double? = nil, autoTune: Bool = false, lastDecision: String? = nil, rateSincePs: Int64? = nil,
                pendingChangeId: UInt64? = nil, pendingRateHz: Double? = nil, rateHold: String? = nil) {
        self.rateSincePs = rateSincePs
        self.pendingChangeId = pendingChangeId
        self.pendingRateHz = pendingRateHz
        self.rateHold = rateHold
        self.repetitionRateHz = repetitionRateHz
        self.knob = knob
        self.recommendedRateHz = recommendedRateHz
        self.recommendedKnob = recommendedKnob
        self.autoTune = autoTune
        self.lastDecision = lastDecision
    }
}

/// Everything `GET /status` returns: link state, current metrics, active alerts and recent heralds.
public struct LinkStatus: Sendable, Codable, Equatable {
    /// The link's name.
    public var link: String
    /// `starting`, `running`, `degraded` (an alert is critical) or `stopped`.
    public var state: String
    /// The role of the serving process (`coordinator` or `node`).
    public var role: String
    /// When the status was taken, in picoseconds on the serving process's time axis.
    public var timePs: Int64
    /// Seconds since the run started.
    public var uptimeSeconds: Double
    /// The latest measurements over the rolling window (what the alert rules read).
    public var observation: LinkObservation? {
        didSet { fidelityText = Self.fidelityText(observation) }
    }
    /// The observation's fidelity in words, "F = …" or "F ≥ … (Z/X bound)" (`LinkAnalysisFormat.fidelity`); kept in
    /// step with ``observation``.
    public private(set) var fidelityText: String?
    /// The coordinator's live analysis (the engine `qlink correlate` runs), when it has one.
    public var analysis: LinkAnalysisSnapshot? {
        didSet { analysisRows = Self.rows(analysis) }
    }
    /// ``analysis`` as shown: `LinkAnalysisFormat.rows` (label and value text, bounds as bounds), what the
    /// dashboard displays; kept in step with ``analysis``.
    public private(set) var analysisRows: [LinkAnalysisFormat.Row]
    /// What the planner predicts for the configured link.
    public var planned: PlannedPrediction?
    /// Alerts that are not ok, worst first.
    public var alerts: [AlertState]
    /// The newest heralds, newest last.
    public var recentHeralds: [HeraldSummary]
    /// The nodes.
    public var nodes: [NodeStatus]
    /// Repetition rate and re-tuning.
    public var tuning: TuningStatus?
    /// What the coordinator refused so far (absent on nodes).
    public var refusals: RefusalCounts?

    public init(link: String, state: String, role: String, timePs: Int64, uptimeSeconds: Double,
                observation: LinkObservation? = nil, analysis: LinkAnalysisSnapshot? = nil, planned: PlannedPrediction? = nil,
                alerts: [AlertState] = [], recentHeralds: [HeraldSummary] = [], nodes: [NodeStatus] = [], tuning: TuningStatus? = nil,
                refusals: RefusalCounts? = nil) {
        self.link = link
        self.state = state
        self.role = role
        self.timePs = timePs
        self.uptimeSeconds = uptimeSeconds
        self.observation = observation
        fidelityText = Self.fidelityText(observation)
        self.analysis = analysis
        analysisRows = Self.rows(analysis)
        self.planned = planned
        self.alerts = alerts
        self.recentHeralds = recentHeralds
        self.nodes = nodes
        self.tuning = tuning
        self.refusals = refusals
    }

    private static func rows(_ analysis: LinkAnalysisSnapshot?) -> [LinkAnalysisFormat.Row] {
        analysis.map(LinkAnalysisFormat.rows) ?? []
    }

    private static func fidelityText(_ observation: LinkObservation?) -> String? {
        guard let observation, let f = observation.fidelity else { return nil }
        return LinkAnalysisFormat.fidelity(f, isLowerBound: observation.fidelityIsLowerBound)
    }
}

/// What the status server serves. The coordinator and the node services implement it.
public protocol StatusSource: Sendable {
    /// The current status.
    func currentStatus() async -> LinkStatus
    /// The Prometheus exposition text of the current metrics.
    func metricsExposition() async -> String
    /// The last `seconds` of plotted values and alert transitions (`GET /history`).
    func history(seconds: Double) async -> StatusHistoryReply
}

extension StatusSource {
    /// No history kept: an empty reply.
    public func history(seconds: Double) async -> StatusHistoryReply { StatusHistoryReply(points: [], alertTransitions: []) }
}

/// What a coordinator refused, by reason: handshakes (ZAP and CURVE), hellos claiming what the certificate may
/// not, and tags on channels the sending lab does not own (docs/security.md).
public struct RefusalCounts: Sendable, Codable, Equatable {
    /// Refused handshakes by reason (`wrong-mechanism`, `handshake-failed`, `unknown-key`, `revoked`, …).
    public var handshakes: [String: Int]
    /// Refused hellos by reason (`wrong-lab`, `unlisted-node`, `node-mismatch`, `wrong-role`).
    public var hellos: [String: Int]
    /// Dropped tags by reason (`foreign-channel`, `station-channel`).
    public var tags: [String: Int]

    public init(handshakes: [String: Int] = [:], hellos: [String: Int] = [:], tags: [String: Int] = [:]) {
        self.handshakes = handshakes
        self.hellos = hellos
        self.tags = tags
    }

    /// One line of text: each kind's total and its reasons, e.g. `handshakes 3 (revoked 1, wrong-mechanism 2)`.
    public var summary: String {
        func part(_ name: String, _ counts: [String: Int]) -> String {
            let total = counts.values.reduce(0, +)
            guard total > 0 else { return "\(name) 0" }
            return "\(name) \(total) (" + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
        }
        return [part("handshakes", handshakes), part("hellos", hellos), part("tags", tags)].joined(separator: " · ")
    }
}
