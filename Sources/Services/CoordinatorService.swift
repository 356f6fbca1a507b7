import Correlation
import Foundation
import Journal
import Logging
import Messaging
import Protocol
import Security
import ServiceLifecycle
import Synchronization

/// What the running coordinator shows to the outside (CLI, tests): endpoints, status, counters.
public final class CoordinatorMonitor: Sendable {
    public struct State: Sendable {
        /// Endpoints actually bound (with real ports), once bound.
        public var controlEndpoint: String?
        public var publishEndpoint: String?
        public var status: StatusReport?
        /// The live analysis' latest complete snapshot (after shutdown: the final one, over everything received).
        public var analysis: LinkAnalysisSnapshot?
        public var rejected = ProtocolCounters()
        /// Handshakes refused, by ``RefusalReason`` raw value: by the ZAP handler (unknown key, untrusted
        /// issuer, expired, revoked, wrong role, …) and, before ZAP, by the CURVE handshake itself (wrong
        /// mechanism, handshake failed) as the server sockets' monitors report them.
        public var refusedHandshakesByReason: [String: Int] = [:]
        /// Hellos refused, by ``ClaimRefusal`` raw value (another lab, a node in no lab, …).
        public var refusedHellos: [String: Int] = [:]
        /// Tags dropped from accepted batches because their lab does not own the channel, by ``ClaimRefusal`` raw value.
        public var refusedTags: [String: Int] = [:]
        /// All refused handshakes.
        public var refusedHandshakes: Int { refusedHandshakesByReason.values.reduce(0, +) }
        /// The repetition-rate schedule in force: every committed change, in time order (replayed from the journal).
        public var rateSchedule: [RateCommit] = []
        /// The latest repetition-rate change of this coordinator's lifetime: open, committed or aborted.
        public var rateChange: RateChange?
        /// The latest heralds decided (oldest first, at most 20), as of the latest status.
        public var recentHeralds: [Herald] = []
        /// Why the coordinator stopped, if it failed.
        public var failure: String?
        public var stopped = false
    }

    /// Latencies the coordinator measured since they were last taken, in nanoseconds, and the largest
    /// receive round (messages taken from the ROUTER at once: its backlog).
    public struct Measurements: Sendable {
        /// From taking a round's messages off the ROUTER to sending its acknowledgements (decision, journal
        /// commit with fsync, send), one sample per round that acknowledged batches.
        public var batchAckNs: [Int64] = []
        /// The same for rounds that decided heralds: until the heralds were broadcast.
        public var heraldDecisionNs: [Int64] = []
        /// The largest number of messages handled in one round.
        public var largestRound = 0
    }

    private let state = Mutex(State())
    private let measurements = Mutex(Measurements())
    public init() {}
    public var current: State { state.withLock { $0 } }
    func update(_ body: (inout State) -> Void) { state.withLock { body(&$0) } }

    /// Takes the measurements gathered since the last call (at most the latest 4 096 samples of each kind).
    public func takeMeasurements() -> Measurements {
        measurements.withLock { taken in defer { taken = Measurements() }; return taken }
    }

    func record(round messages: Int, latencyNs: Int64, acknowledged: Bool, heralded: Bool) {
        measurements.withLock { m in
            m.largestRound = max(m.largestRound, messages)
            if acknowledged { m.batchAckNs.append(latencyNs); if m.batchAckNs.count > 4096 { m.batchAckNs.removeFirst(m.batchAckNs.count - 4096) } }
            if heralded { m.heraldDecisionNs.append(latencyNs); if m.heraldDecisionNs.count > 4096 { m.heraldDecisionNs.removeFirst(m.heraldDecisionNs.count - 4096) } }
        }
    }
}

/// The link coordinator as a ServiceLifecycle service: a ROUTER for node traffic and a PUB for heralds
/// and status, on a dedicated thread; journal on SQLite. Stops on graceful shutdown (SIGTERM/SIGINT via
/// ServiceGroup): publishes a last status, closes the sockets; every journal write is already durable.
public final class CoordinatorService: Service, Sendable {
    public let settings: CoordinatorSettings
    public let transport: ServerTransport
    public let monitor = CoordinatorMonitor()
    private let logger: Logger
    private let rateRequests = Mutex<[Double]>([])

    public init(settings: CoordinatorSettings, transport: ServerTransport, logger: Logger) {
        self.settings = settings
        self.transport = transport
        self.logger = logger
    }

    /// Asks both labs to run at `rateHz`: a two-phase change (proposal, each lab node's earliest applicable link
    /// time, commit at the latest plus ``CoordinatorSettings/rateChangeMarginPs`` or abort after a refusal or
    /// ``CoordinatorSettings/rateChangeTimeoutMs``), applied by every lab at the same link time or by none. The
    /// outcome shows in ``CoordinatorMonitor/State/rateSchedule`` and ``CoordinatorMonitor/State/rateChange``.
    public func requestRepetitionRate(_ rateHz: Double) {
        rateRequests.withLock { $0.append(rateHz) }
    }

    public func run() async throws {
        let logger = logger, monitor = monitor
        await DedicatedThread.run(name: "qlink.coordinator") { [self] thread in
            do {
                try loop(thread: thread)
            } catch {
                logger.error("coordinator.failed", metadata: ["qlink.error": "\(error)"])
                monitor.update { $0.failure = "\(error)" }
            }
            monitor.update { $0.stopped = true }
        }
        if let failure = monitor.current.failure {
            throw ServiceFailure(what: "coordinator", detail: failure)
        }
    }

    private func loop(thread: SocketThread) throws {
        let journal = try CoordinatorJournal(path: settings.journalPath)
        let transport = transport
        let core = try CoordinatorCore(settings: settings, journal: journal, logger: logger,
                                       authenticatedSender: { transport.sender(of: $0) })
        // On every way out the analysis thread ends (on the normal one, before the last status).
        defer { core.finishAnalysis() }
        let router = try transport.socket(.router)
        try router.set(.maxMessageSize(Int64(settings.maxPayloadBytes) + 4096))
        let publisher = try transport.socket(.publisher)
        // Handshakes refused before ZAP is asked (NULL or PLAIN, a key without its secret, another server key
        // pinned) appear only on the sockets' monitors: read them every loop.
        let watchers = try [router, publisher].map { try transport.watcher(of: $0) }
        let control = try Self.bind(router, settings.controlEndpoint, logger: logger)
        let publish = try Self.bind(publisher, settings.publishEndpoint, logger: logger)
        defer {
            router.close()
            publisher.close()
        }
        monitor.update {
            $0.controlEndpoint = control
            $0.publishEndpoint = publish
        }
        logger.info("coordinator.started", metadata: ["qlink.control": "\(control)", "qlink.publish": "\(publish)",
                                                      "qlink.journal": "\(settings.journalPath)", "qlink.zap_domain": "\(transport.zap.domain)",
                                                      "qlink.run_id": "\(core.runId)"])
        func send(_ outgoing: [Outgoing]) throws {
            for item in outgoing {
                switch item {
                case .reply(let peer, let message):
                    // A peer that vanished is not an error for the coordinator; dropped replies are resent by protocol.
                    _ = try router.send(Message([peer, FrameCodec.frame(message)]), options: .dontWait)
                case .broadcast(let message):
                    _ = try publisher.send(Message([Frame(message.broadcastFrame())]), options: .dontWait)
                }
            }
        }
        let clock = ContinuousClock()
        var nextStatus = clock.now
        var journaledHandshakes: [RefusalReason: Int] = [:]
        /// Shows the refusal counts and journals the handshakes refused since the last call, one entry per reason.
        func publishRefusals() {
            let handshakes = transport.zap.authenticator.refusalCounts()
            for (reason, count) in handshakes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where count > journaledHandshakes[reason] ?? 0 {
                try? journal.recordAlert(level: "refused", message: "\(count - (journaledHandshakes[reason] ?? 0)) handshakes refused (\(reason.rawValue))")
            }
            journaledHandshakes = handshakes
            monitor.update {
                $0.refusedHandshakesByReason = Dictionary(uniqueKeysWithValues: handshakes.map { ($0.key.rawValue, $0.value) })
                $0.refusedHellos = Dictionary(uniqueKeysWithValues: core.refusedHellos.map { ($0.key.rawValue, $0.value) })
                $0.refusedTags = Dictionary(uniqueKeysWithValues: core.refusedTags.map { ($0.key.rawValue, $0.value) })
            }
        }
        while !thread.isStopRequested {
            for watcher in watchers { watcher.drain() }
            let ready = try Poller.poll([(router, .readable)], timeoutMs: 2)
            if ready[0].contains(.readable) {
                let roundStart = DispatchTime.now().uptimeNanoseconds
                var handled = 0
                while handled < 1024, let message = try router.receive(options: .dontWait) {
                    core.receive(message)
                    handled += 1
                }
                let outgoing = try core.commit()
                try send(outgoing)
                var acknowledged = false, heralded = false
                for item in outgoing {
                    switch item {
                    case .reply(_, let message): acknowledged = acknowledged || message.header.type == .acknowledgement
                    case .broadcast(let message): heralded = heralded || message.header.type == .herald
                    }
                }
                monitor.record(round: handled, latencyNs: Int64(DispatchTime.now().uptimeNanoseconds - roundStart),
                               acknowledged: acknowledged, heralded: heralded)
            }
            for rate in rateRequests.withLock({ requests in defer { requests.removeAll() }; return requests }) {
                try send(core.requestRepetitionRate(rate))
            }
            try send(core.rateTick())
            monitor.update {
                $0.rateSchedule = core.rates.schedule
                $0.rateChange = core.rates.current
            }
            if clock.now >= nextStatus {
                try send(core.tick())
                publishRefusals()
                monitor.update {
                    $0.status = core.status
                    $0.analysis = settings.analysis == nil ? nil : core.snapshot
                    $0.rejected = core.counters
                    $0.recentHeralds = core.recentHeralds
                }
                nextStatus = clock.now.advanced(by: .milliseconds(settings.statusIntervalMs))
            }
        }
        core.finishAnalysis()
        try send(core.tick())
        for watcher in watchers { watcher.drain() }
        publishRefusals()
        monitor.update {
            $0.status = core.status
            $0.analysis = settings.analysis == nil ? nil : core.snapshot
            $0.rejected = core.counters
            $0.recentHeralds = core.recentHeralds
        }
        logger.info("coordinator.stopped", metadata: ["qlink.batches": "\(core.status.batchesAccepted)", "qlink.heralds": "\(core.status.heralds)"])
    }
}

extension CoordinatorService {
    /// Binds, retrying for up to 2 s while the address is still in use (a coordinator restarted on the
    /// same port right after the previous process or socket closed).
    static func bind(_ socket: Socket, _ endpoint: String, logger: Logger) throws -> String {
        var attempt = 0
        while true {
            do {
                return try socket.bind(endpoint)
            } catch {
                guard error.code == EADDRINUSE, attempt < 40 else { throw error }
                if attempt == 0 { logger.notice("coordinator.bind.retrying", metadata: ["qlink.endpoint": "\(endpoint)"]) }
                attempt += 1
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }
}

/// A service that stopped because of an error: which service and why.
public struct ServiceFailure: Error, Sendable, CustomStringConvertible {
    public var what: String
    public var detail: String
    public init(what: String, detail: String) {
        self.what = what
        self.detail = detail
    }
    public var description: String { "\(what) stopped: \(detail)" }
}
