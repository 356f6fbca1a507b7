import Foundation

/// Node → coordinator: the node's introduction. Sent as JSON (low rate, extensible).
public struct Hello: Sendable, Equatable, Codable {
    /// The node's name (its certificate's common name when authenticated).
    public var node: String
    /// The lab the node serves.
    public var lab: String
    /// The protocol major version the node speaks.
    public var protocolVersion: Int
    /// What the node can do, e.g. `tags`, `heralds`, `rate-agreement`.
    public var capabilities: [String]
    /// Free-form software description.
    public var software: String

    public init(node: String, lab: String, protocolVersion: Int = Int(MessageHeader.currentVersion),
                capabilities: [String] = ["tags", "heralds", "rate-agreement"], software: String = "qlink") {
        self.node = node
        self.lab = lab
        self.protocolVersion = protocolVersion
        self.capabilities = capabilities
        self.software = software
    }
}

/// Coordinator → node: the answer to a hello. Fixed 32 bytes.
public struct Welcome: Sendable, Equatable {
    /// The highest batch sequence the coordinator has journaled for the node's current session (0: none).
    public var lastAcceptedSequence: UInt64
    /// How many unacknowledged batches the node may have in flight.
    public var credit: UInt32
    /// The next herald sequence number the coordinator will publish.
    public var nextHeraldSequence: UInt64
    /// The coordinator's run id (the same across coordinator restarts of one run).
    public var runId: UInt64

    public init(lastAcceptedSequence: UInt64, credit: UInt32, nextHeraldSequence: UInt64, runId: UInt64) {
        self.lastAcceptedSequence = lastAcceptedSequence
        self.credit = credit
        self.nextHeraldSequence = nextHeraldSequence
        self.runId = runId
    }

    static let size = 32
}

/// The coordinator's verdict on one tag batch.
public enum AcknowledgementStatus: UInt8, Sendable, Equatable, Codable {
    /// Journaled and passed to the analysis.
    case accepted = 0
    /// Already held (same node, session and sequence): ignored, drop it from the spool.
    case duplicate = 1
    /// A gap before this batch: resend everything from `resendFrom` in order.
    case resendFrom = 2
    /// The payload failed its CRC32C: resend it.
    case corrupt = 3
}

/// Coordinator → node: the fate of one batch plus credit. Fixed 32 bytes.
public struct Acknowledgement: Sendable, Equatable {
    /// The session of the acknowledged batch.
    public var session: UInt64
    /// The sequence of the acknowledged batch.
    public var sequence: UInt64
    public var status: AcknowledgementStatus
    /// How many unacknowledged batches the node may have in flight from now on.
    public var credit: UInt32
    /// For ``AcknowledgementStatus/resendFrom``: the first sequence to resend.
    public var resendFrom: UInt64

    public init(session: UInt64, sequence: UInt64, status: AcknowledgementStatus, credit: UInt32, resendFrom: UInt64 = 0) {
        self.session = session
        self.sequence = sequence
        self.status = status
        self.credit = credit
        self.resendFrom = resendFrom
    }

    static let size = 32
}

/// The outcome of one heralding attempt.
public enum HeraldOutcome: UInt8, Sendable, Equatable, Codable, CaseIterable {
    case failure = 0
    /// Entanglement heralded in ψ⁺.
    case psiPlus = 1
    /// Entanglement heralded in ψ⁻.
    case psiMinus = 2
}

/// Coordinator → nodes: a herald. The herald's own sequence number is the header's sequence and its
/// time (the attempt's start on the coordinator's time base) the header's event time. Fixed 24 bytes.
public struct Herald: Sendable, Equatable, Codable {
    /// The herald sequence number (consecutive over the run).
    public var sequence: UInt64
    /// The attempt id (attempt start / repetition period).
    public var attemptId: UInt64
    public var outcome: HeraldOutcome
    /// The attempt's start time in ps.
    public var timePs: Int64
    /// The station detector tag that decided it, in ps.
    public var detectionPs: Int64

    public init(sequence: UInt64, attemptId: UInt64, outcome: HeraldOutcome, timePs: Int64, detectionPs: Int64) {
        self.sequence = sequence
        self.attemptId = attemptId
        self.outcome = outcome
        self.timePs = timePs
        self.detectionPs = detectionPs
    }

    static let size = 24
}

/// Node → coordinator: resend heralds `first...last`. Fixed 16 bytes.
public struct HeraldRequest: Sendable, Equatable {
    public var first: UInt64
    public var last: UInt64
    public init(first: UInt64, last: UInt64) {
        self.first = first
        self.last = last
    }
    static let size = 16
}

/// Either way: an error report: a numeric code (``ProtocolError/code``) and UTF-8 text.
public struct ErrorReport: Sendable, Equatable {
    public var code: UInt16
    public var text: String
    public init(code: UInt16, text: String) {
        self.code = code
        self.text = text
    }
    public init(_ error: ProtocolError) {
        self.init(code: error.code, text: error.detail)
    }
}

/// Coordinator → all: rolling results, as JSON.
public struct StatusReport: Sendable, Equatable, Codable {
    public var runId: UInt64
    public var elapsedSeconds: Double
    /// Tags received per node name.
    public var tagsByNode: [String: Int64]
    /// Tag rate per node name, Hz: the node's tags per second of the link time its accepted batches covered since the
    /// coordinator started (not per second of the coordinator's clock).
    public var rateHzByNode: [String: Double]
    public var batchesAccepted: Int64
    public var duplicates: Int64
    public var gaps: Int64
    public var malformed: Int64
    /// Messages dropped because their sender's identity failed the per-message check (e.g. revoked).
    public var unauthenticated: Int64
    public var heralds: Int64
    public var heraldSuccesses: Int64
    public var coincidences: Int64
    public var fidelity: Double?
    public var fidelityError: Double?
    public var clockOffsetPs: Double?
    /// Lab B's clock rate difference from the live clock tracker, ppm (absent until tracked).
    public var clockDriftPpm: Double?
    /// Clock-offset updates by tracking since the offset was first recovered.
    public var clockUpdates: Int?
    /// Heralded link: fidelity of the heralded state per herald type (`psi_plus`, `psi_minus`), each against
    /// its own target state, and its standard error (absent for a pair source or until estimated).
    public var fidelityByHerald: [String: Double]?
    public var fidelityErrorByHerald: [String: Double]?
    /// Whether `fidelity` is the Z/X lower bound (false: the full fidelity from Z, X and Y).
    public var fidelityIsLowerBound: Bool?
    /// Tags received per detector channel (the channel number as text), over the run.
    public var tagsByChannel: [String: Int64]?
    /// The latest tag time each node's accepted batches reached, on that node's clock, ps: `tagsByNode` counts the
    /// node's tags through it. Rates are judged on this link time, so a stalled feed is not a drop of rate.
    public var linkTimeByNode: [String: Int64]?
    /// For each channel of `tagsByChannel`, the link time the batches of the lab that records it reached (on that
    /// lab's clock), ps: the channel's count covers its lab's tags through it.
    public var linkTimeByChannel: [String: Int64]?
    /// Pair source: accidental coincidences expected over the analysed span (from the labs' outcome rates and
    /// the coincidence window), the counterpart of `coincidences` for the coincidences-to-accidentals ratio.
    public var accidentals: Double?
    /// The latest clock-tracking update's offset minus the offset predicted from the previous one, ps.
    public var clockResidualPs: Double?
    /// Batches the live analysis dropped because it fell behind (its queue was full); they are journaled and
    /// acknowledged all the same.
    public var analysisDroppedBatches: Int64?
    /// Lab A link time through which the live analysis had analysed both labs when its results were taken, ps.
    public var analysisLinkTimePs: Int64?
    /// Heralded link: the link time through which heralds have been decided (the station's lab's accepted batches
    /// reached it, on that lab's clock), ps: `heraldSuccesses` counts the heralds through it. Absent without heralds.
    public var heraldLinkTimePs: Int64?
    /// The repetition-rate schedule in force: every committed change (`changeId`, `atPs`, `rateHz`) in time order
    /// (absent while the configured rate holds throughout).
    public var rateSchedule: [RateCommit]?
    /// Repetition-rate changes aborted over the run (absent: none).
    public var rateChangesAborted: Int64?

    public init(runId: UInt64) {
        self.runId = runId
        elapsedSeconds = 0
        tagsByNode = [:]
        rateHzByNode = [:]
        batchesAccepted = 0
        duplicates = 0
        gaps = 0
        malformed = 0
        unauthenticated = 0
        heralds = 0
        heraldSuccesses = 0
        coincidences = 0
    }
}
