import Correlation
import Foundation
import Protocol

/// What a running coordinator reports in its status file (JSON, rewritten atomically): where it listens
/// (the real ports when the configuration asks for port 0) and its latest rolling status.
public struct CoordinatorStatusFile: Codable, Sendable {
    public var pid: Int32
    public var controlEndpoint: String?
    public var publishEndpoint: String?
    public var status: StatusReport?
    /// The live analysis with ``status`` (rendered by `LinkAnalysisFormat`), when the coordinator has one.
    public var analysis: LinkAnalysisSnapshot?
    /// Rejected messages by kind.
    public var rejected: [String: Int64]
    /// Handshakes refused (by ZAP and before it), in all.
    public var refusedHandshakes: Int
    /// Handshakes refused by reason (``RefusalReason`` raw values).
    public var refusedHandshakesByReason: [String: Int]
    /// Hellos refused by reason (``ClaimRefusal`` raw values).
    public var refusedHellos: [String: Int]
    /// Tags dropped for channels their lab does not own, by reason (``ClaimRefusal`` raw values).
    public var refusedTags: [String: Int]
    public var stopped: Bool
    public var failure: String?
    /// Where `/status`, `/metrics` and the dashboard are served (`tcp://HOST:PORT`, the port actually bound: `--status`
    /// may ask for port 0), once the status server listens.
    public var statusEndpoint: String?

    public init(pid: Int32, state: CoordinatorMonitor.State) {
        refusedHandshakes = state.refusedHandshakes
        refusedHandshakesByReason = state.refusedHandshakesByReason
        refusedHellos = state.refusedHellos
        refusedTags = state.refusedTags
        self.pid = pid
        controlEndpoint = state.controlEndpoint
        publishEndpoint = state.publishEndpoint
        status = state.status
        analysis = state.analysis
        rejected = state.rejected.rejected
        stopped = state.stopped
        failure = state.failure
    }
}

/// What a running node reports in its status file (JSON, rewritten atomically).
public struct NodeStatusFile: Codable, Sendable {
    public var pid: Int32
    public var node: String
    public var sessionId: UInt64
    public var connected: Bool
    public var batchesSpooled: Int64
    public var batchesSent: Int64
    public var batchesAcknowledged: Int64
    public var duplicatesAcknowledged: Int64
    public var resendRequests: Int64
    public var spoolBatches: Int
    public var spoolFullEvents: Int64
    public var spoolHighWater: Int
    public var creditStalls: Int64
    public var droppedBatches: Int64
    public var droppedTags: Int64
    public var heraldsReceived: Int64
    public var heraldGaps: Int64
    public var heraldsRequested: Int64
    public var lastHeraldSequence: UInt64
    public var missingHeralds: Int
    public var rejected: [String: Int64]
    public var sourceFinished: Bool
    /// Why the source stopped early, if it failed.
    public var sourceFailure: String?
    /// The source finished and every batch is acknowledged.
    public var drained: Bool
    /// The committed repetition-rate changes the node's source applied, at the link time it switched.
    public var rateSchedule: [RateCommit]?
    /// Committed changes the source could not apply (the labs disagree); absent when none.
    public var rateConflicts: [String]?
    /// Why the source is held for rate agreement; absent while it runs.
    public var rateHold: String?
    public var stopped: Bool
    public var failure: String?

    public init(pid: Int32, node: String, state: NodeMonitor.State) {
        self.pid = pid
        self.node = node
        sessionId = state.sessionId
        connected = state.connected
        batchesSpooled = state.batchesSpooled
        batchesSent = state.batchesSent
        batchesAcknowledged = state.batchesAcknowledged
        duplicatesAcknowledged = state.duplicatesAcknowledged
        resendRequests = state.resendRequests
        spoolBatches = state.spoolBatches
        spoolFullEvents = state.spoolFullEvents
        spoolHighWater = state.spoolHighWater
        creditStalls = state.creditStalls
        droppedBatches = state.droppedBatches
        droppedTags = state.droppedTags
        heraldsReceived = state.heraldsReceived
        heraldGaps = state.heraldGaps
        heraldsRequested = state.heraldsRequested
        lastHeraldSequence = state.lastHeraldSequence
        missingHeralds = state.missingHeralds
        rejected = state.rejected.rejected
        sourceFinished = state.sourceFinished
        sourceFailure = state.sourceFailure
        drained = state.sourceFinished && state.spoolBatches == 0
        rateSchedule = state.rateSchedule
        rateConflicts = state.rateConflicts.isEmpty ? nil : state.rateConflicts
        rateHold = state.rateHold
        stopped = state.stopped
        failure = state.failure
    }
}

/// Writes and reads small JSON status files atomically (write to a temporary file, then rename). Non-finite
/// numbers (an estimate before its first counts) are written as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
public enum StatusFile {
    /// Writes `value` as JSON to `path`.
    public static func write<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads a status file; `nil` if it does not exist yet or is unreadable.
    public static func read<T: Decodable>(_ type: T.Type, from path: String) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try? decoder.decode(type, from: data)
    }
}
