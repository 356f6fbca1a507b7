import Foundation
import Journal
import Logging
import Messaging
import Protocol
import ServiceLifecycle
import Synchronization
import TimeTags

/// Everything a node needs to run.
public struct NodeSettings: Sendable {
    public var node: String
    public var lab: String
    /// The coordinator's ROUTER and PUB endpoints.
    public var controlEndpoint: String
    public var publishEndpoint: String
    /// The spool (and herald log) file and its bound in bytes.
    public var spoolPath: String
    public var spoolMaxBytes: Int64 = 256 << 20
    public var source: TagSourceSpec
    public var heartbeatIntervalMs: Int = 1000
    /// Silence from the coordinator after which the connection counts as lost, ms.
    public var coordinatorTimeoutMs: Int = 3000
    /// Stop once the source has finished and every batch is acknowledged.
    public var stopWhenDone: Bool = false
    /// On a graceful stop, how long to keep sending spooled batches and to catch up on heralds (a status
    /// published after the node drained, and every herald it announces), ms. 0: stop at once.
    public var drainOnStopMs: Int = 5000

    public init(node: String, lab: String, controlEndpoint: String, publishEndpoint: String, spoolPath: String, source: TagSourceSpec) {
        self.node = node
        self.lab = lab
        self.controlEndpoint = controlEndpoint
        self.publishEndpoint = publishEndpoint
        self.spoolPath = spoolPath
        self.source = source
    }
}

/// What a running node shows to the outside.
public final class NodeMonitor: Sendable {
    public struct State: Sendable {
        public var sessionId: UInt64 = 0
        public var connected = false
        public var batchesSpooled: Int64 = 0
        public var batchesSent: Int64 = 0
        public var batchesAcknowledged: Int64 = 0
        public var duplicatesAcknowledged: Int64 = 0
        public var resendRequests: Int64 = 0
        public var tagsAcknowledged: Int64 = 0
        public var spoolBatches = 0
        /// Payload bytes waiting in the spool (as of the last heartbeat).
        public var spoolBytes: Int64 = 0
        public var spoolFullEvents: Int64 = 0
        /// The most batches waiting in the spool at once.
        public var spoolHighWater = 0
        /// Times the node ran out of credit with batches waiting (a slow coordinator; the node backed off).
        public var creditStalls: Int64 = 0
        public var droppedBatches: Int64 = 0
        public var droppedTags: Int64 = 0
        public var heraldsReceived: Int64 = 0
        public var heraldGaps: Int64 = 0
        /// Herald re-requests sent (after a gap or a status announcing heralds not received).
        public var heraldsRequested: Int64 = 0
        /// Heralds received again that were already held (answers to repeated requests).
        public var heraldRepeats: Int64 = 0
        /// Heralds known to be missing right now.
        public var missingHeralds = 0
        public var lastHeraldSequence: UInt64 = 0
        /// The repetition rate the source runs at after the last applied change, Hz (nil: the configured rate).
        public var repetitionRateHz: Double?
        /// Link time from which that rate applies, ps.
        public var repetitionRateEffectivePs: Int64?
        /// Every committed repetition-rate change the source applied, in time order, at the link time it switched.
        public var rateSchedule: [RateCommit] = []
        /// The proposed change the source is held for (its answer given, its decision not yet known).
        public var rateChangeHeld: UInt64?
        /// Why the source is held for rate agreement (waiting for the coordinator's schedule, or for the decision on
        /// a proposed change), nil while it runs. A node starts held until the schedule arrives.
        public var rateHold: String?
        /// Committed changes the source could not apply, or schedules that contradict it: the labs disagree.
        public var rateConflicts: [String] = []
        public var lastStatus: StatusReport?
        public var rejected = ProtocolCounters()
        public var sourceFinished = false
        /// Why the source stopped early (a corrupt pipe or file), if it did.
        public var sourceFailure: String?
        public var failure: String?
        public var stopped = false
    }

    private let state = Mutex(State())
    private let acknowledgementLatencies = Mutex<[Int64]>([])
    public init() {}
    public var current: State { state.withLock { $0 } }
    func update(_ body: (inout State) -> Void) { state.withLock { body(&$0) } }

    func recordAcknowledgementLatency(nanoseconds: Int64) {
        acknowledgementLatencies.withLock { samples in
            samples.append(nanoseconds)
            if samples.count > 4096 { samples.removeFirst(samples.count - 4096) }
        }
    }

    /// Times from sending a batch to its acknowledgement (ns) since the last call, at most the latest 4 096.
    public func takeAcknowledgementLatencies() -> [Int64] {
        acknowledgementLatencies.withLock { samples in defer { samples.removeAll() }; return samples }
    }
}

/// A lab's node service: reads tags from its source, spools every batch durably, sends batches to the
/// coordinator within the granted credit, resends unacknowledged batches oldest first after a
/// reconnection, and receives heralds (logged locally; gaps re-requested) and status.
public final class NodeService: Service, Sendable {
    public let settings: NodeSettings
    public let transport: ClientTransport
    public let monitor = NodeMonitor()
    private let logger: Logger

    public init(settings: NodeSettings, transport: ClientTransport, logger: Logger) {
        self.settings = settings
        self.transport = transport
        self.logger = logger
    }

    public func run() async throws {
        let monitor = monitor, logger = logger
        await DedicatedThread.run(name: "qlink.node") { [self] thread in
            do {
                let session = try NodeSession(settings: settings, transport: transport, logger: logger, monitor: monitor)
                try session.run(thread: thread)
            } catch {
                logger.error("node.failed", metadata: ["qlink.error": "\(error)"])
                monitor.update { $0.failure = "\(error)" }
            }
            monitor.update { $0.stopped = true }
        }
        if let failure = monitor.current.failure {
            throw ServiceFailure(what: "node \(settings.node)", detail: failure)
        }
        // Everything read before the failure was sent and acknowledged; the failure still ends the node in error.
        if let failure = monitor.current.sourceFailure {
            throw ServiceFailure(what: "node \(settings.node)", detail: "its tag source failed: \(failure)")
        }
    }
}
