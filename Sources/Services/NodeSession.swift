import Foundation
import Journal
import Logging
import Messaging
import Protocol
import Security
import TimeTags

/// One batch's identity: the node session that spooled it and its sequence in that session.
struct BatchKey: Hashable {
    var session: UInt64
    var sequence: UInt64
}

/// The node on its socket thread: executes what its protocol state machine (``NodeSessionMachine``) decides,
/// and moves batches from the source through the spool to the coordinator within credit.
///
/// A restarted node resumes from its spool: the same session id, sequence numbers after the last one it spooled,
/// its source carrying on after the tags it already spooled, and a herald log whose holes are fetched.
final class NodeSession {
    let settings: NodeSettings
    let logger: Logger
    let monitor: NodeMonitor
    let spool: NodeSpool
    let source: TagSourceRunner
    let dealerClient: SecureClient
    let subscriberClient: SecureClient
    var dealer: Socket { dealerClient.socket }
    var subscriber: Socket { subscriberClient.socket }
    /// The spool's session id: the same across restarts of the node, so the coordinator's journal tells what it holds.
    let sessionId: UInt64
    var nextSequence: UInt64
    var machine: NodeSessionMachine
    let clock = ContinuousClock()
    var credit: UInt32 = 1
    var inFlight: Set<BatchKey> = []
    /// When each batch in flight was sent (monotonic ns), for the acknowledgement latency.
    var sentAtNs: [BatchKey: UInt64] = [:]
    var lastSentPosition: Int64 = 0
    /// Repetition-rate changes agreed with the coordinator (``NodeRateAgreement``).
    var rateAgreement = NodeRateAgreement()
    var sourceDrained = false
    weak var thread: SocketThread?
    var statusesReceived: Int64 = 0
    var creditStalled = false
    var lastSentSequence: UInt64 = 0
    /// Batches just spooled and not yet sent, kept in memory so sending does not read them back from
    /// SQLite. Used only while the node is caught up (everything before them sent); any resend or an
    /// overflow clears it and sending falls back to the spool file.
    var sendCache: [SpooledBatch] = []
    var sendCacheHead = 0
    var sendCacheBytes = 0
    var lastAppendedPosition: Int64 = 0
    static let sendCacheLimitBytes = 64 << 20
    /// Acknowledged batches and received heralds of this round, written to the spool file together.
    var acknowledged: [(session: UInt64, sequence: UInt64)] = []
    var heraldsToLog: [Herald] = []

    init(settings: NodeSettings, transport: ClientTransport, logger: Logger, monitor: NodeMonitor) throws {
        self.settings = settings
        self.logger = logger
        self.monitor = monitor
        spool = try NodeSpool(path: settings.spoolPath, maxBytes: settings.spoolMaxBytes)
        let resume = try spool.resumePoint()
        sessionId = resume.session
        nextSequence = resume.lastSequence + 1
        let log = try spool.heraldLogHoles()
        machine = NodeSessionMachine(now: ContinuousClock.now, heartbeatIntervalMs: settings.heartbeatIntervalMs,
                                     coordinatorTimeoutMs: settings.coordinatorTimeoutMs,
                                     heralds: SequenceTracker(session: 0, lastSeen: log.last, missing: log.holes))
        dealerClient = try transport.socket(.dealer, logger: logger)
        try dealerClient.socket.set([.immediate(true), .reconnectInterval(milliseconds: 100)])
        subscriberClient = try transport.socket(.subscriber, logger: logger)
        try subscriberClient.socket.set([.subscribe(prefix: WireMessage.topic(for: .herald)), .subscribe(prefix: WireMessage.topic(for: .status)),
                                         .reconnectInterval(milliseconds: 100)])
        try dealerClient.connect(settings.controlEndpoint)
        try subscriberClient.connect(settings.publishEndpoint)
        source = TagSourceRunner(spec: settings.source, resumeAfterTags: resume.tagsSpooled, holdUntilScheduled: true)
        lastAppendedPosition = try spool.lastPosition()
        if resume.lastSequence > 0 || log.last > 0 {
            logger.notice("node.resumed", metadata: ["qlink.node": "\(settings.node)", "qlink.session": "\(resume.session)",
                                                     "qlink.last_sequence": "\(resume.lastSequence)", "qlink.tags_spooled": "\(resume.tagsSpooled)",
                                                     "qlink.last_herald": "\(log.last)", "qlink.herald_holes": "\(log.holes.count)"])
        }
        let session = sessionId, heralds = machine.heralds, hold = rateHoldReason()
        monitor.update {
            $0.rateHold = hold
            $0.sessionId = session
            $0.lastHeraldSequence = heralds.lastSeen
            $0.missingHeralds = Int(heralds.missingNow)
        }
    }

    deinit {
        source.stop()
        dealer.close()
        subscriber.close()
    }

    func run(thread: SocketThread) throws {
        self.thread = thread
        logger.info("node.started", metadata: ["qlink.node": "\(settings.node)", "qlink.lab": "\(settings.lab)",
                                               "qlink.session": "\(sessionId)", "qlink.control": "\(settings.controlEndpoint)"])
        while !thread.isStopRequested, !machine.isStopped {
            try round(timeoutMs: 2)
            if settings.stopWhenDone, sourceDrained, try spool.usage().batches == 0 { break }
        }
        // A graceful stop: the source stops; spooled batches keep going out until all are acknowledged; then the
        // node waits for a status published after that and fetches every herald it announces.
        source.stop()
        try execute(machine.stopRequested(now: clock.now, drainMs: settings.drainOnStopMs))
        while !machine.isStopped {
            try round(timeoutMs: 5)
            if source.queue.isDrained, try spool.usage().batches == 0 { machine.outboxEmpty(statusesReceived: statusesReceived) }
        }
        if case .stopped(let drained) = machine.state, settings.drainOnStopMs > 0 {
            if drained {
                logger.info("node.drained", metadata: ["qlink.node": "\(settings.node)", "qlink.last_herald": "\(machine.heralds.lastSeen)"])
            } else {
                logger.warning("node.drain.incomplete", metadata: ["qlink.node": "\(settings.node)", "qlink.timeout_ms": "\(settings.drainOnStopMs)",
                                                                   "qlink.missing_heralds": "\(machine.heralds.missingNow)"])
            }
        }
        let waiting = try spool.usage().batches
        monitor.update { $0.spoolBatches = waiting }
        logger.info("node.stopped", metadata: ["qlink.node": "\(settings.node)", "qlink.spooled_unacknowledged": "\(waiting)"])
    }

    /// One pass of the loop: sockets, source, timers, sending.
    private func round(timeoutMs: Int) throws {
        let ready = try Poller.poll([(dealer, .readable), (subscriber, .readable)], timeoutMs: timeoutMs)
        try drainSockets(dealerReadable: ready[0].contains(.readable), subscriberReadable: ready[1].contains(.readable))
        try pullFromSource()
        try timers()
        try sendWithinCredit()
    }

    /// Carries out the state machine's decisions.
    private func execute(_ actions: [NodeSessionMachine.Action]) throws {
        for action in actions {
            switch action {
            case .sendHello:
                try send(.hello(Hello(node: settings.node, lab: settings.lab)))
            case .requestSchedule:
                let requests = if case .awaiting(_, let count) = machine.schedule { count } else { 0 }
                let hold = rateHoldReason()
                monitor.update { $0.rateHold = hold }
                logger.warning("node.rate.schedule.requested", metadata: ["qlink.node": "\(settings.node)", "qlink.requests": "\(requests)",
                                                                          "qlink.detail": "no rate schedule since the welcome; the source holds"])
                try send(.hello(Hello(node: settings.node, lab: settings.lab)))
            case .sendHeartbeat:
                // The heartbeat's event time tells the coordinator how far this lab's source has got, which can be
                // well past the batches still waiting in the spool (rate changes are scheduled after it).
                try send(.heartbeat, sequence: nextSequence - 1, timePs: max(0, source.generatedThroughPs ?? 0))
                let dropped = source.queue.dropped
                let usage = try spool.usage()
                monitor.update {
                    $0.droppedBatches = dropped.batches
                    $0.droppedTags = dropped.tags
                    $0.spoolBatches = usage.batches
                    $0.spoolBytes = usage.bytes
                }
            case .resendFromOldest:
                try flushRound()
                restartSending()
            case .trimSpool(let through):
                // The coordinator already holds these: their acknowledgements were lost.
                try flushRound()
                try spool.removeThrough(session: sessionId, sequence: through)
            case .requestHeralds(let range):
                monitor.update { $0.heraldsRequested += 1 }
                try send(.heraldRequest(HeraldRequest(first: range.lowerBound, last: range.upperBound)))
            case .connected(let connected):
                if connected {
                    logger.info("node.welcomed", metadata: ["qlink.node": "\(settings.node)", "qlink.session": "\(sessionId)",
                                                            "qlink.missing_heralds": "\(machine.heralds.missingNow)"])
                } else {
                    logger.warning("node.coordinator.lost", metadata: ["qlink.node": "\(settings.node)"])
                }
                monitor.update { $0.connected = connected }
            case .stop:
                break
            }
        }
        let heralds = machine.heralds, hold = rateHoldReason()
        monitor.update {
            $0.lastHeraldSequence = heralds.lastSeen
            $0.missingHeralds = Int(heralds.missingNow)
            $0.rateHold = hold
        }
    }

    /// Why the source is held for rate agreement, in words (nil: it runs).
    private func rateHoldReason() -> String? {
        switch rateAgreement.state {
        case .awaitingSchedule:
            guard machine.isIntroduced else { return "waiting for the coordinator's rate schedule: not connected to the coordinator" }
            if case .awaiting(_, let requests) = machine.schedule, requests > 0 {
                return "waiting for the coordinator's rate schedule: not received after the welcome (requests sent: \(requests))"
            }
            return "waiting for the coordinator's rate schedule (sent after the welcome)"
        case .holding(let answer):
            return "held at \(answer.earliestPs) ps (link time) for proposed rate change \(answer.changeId) until it is committed or aborted"
        case .following:
            return nil
        }
    }

    /// Handles everything waiting on the sockets, then writes the round's acknowledgements and heralds
    /// to the spool file in one transaction each.
    private func drainSockets(dealerReadable: Bool, subscriberReadable: Bool) throws {
        if dealerReadable {
            while let message = try dealer.receive(options: .dontWait) { try handle(message, fromBroadcast: false) }
        }
        if subscriberReadable {
            while let message = try subscriber.receive(options: .dontWait) { try handle(message, fromBroadcast: true) }
        }
        try flushRound()
    }

    private func flushRound() throws {
        if !acknowledged.isEmpty {
            try spool.remove(acknowledged)
            acknowledged.removeAll(keepingCapacity: true)
            let waiting = try spool.usage().batches
            monitor.update { $0.spoolBatches = waiting }
        }
        if !heraldsToLog.isEmpty {
            try spool.logHeralds(heraldsToLog)
            heraldsToLog.removeAll(keepingCapacity: true)
        }
    }

    private func send(_ body: WireMessage.Body, sequence: UInt64 = 0, timePs: Int64 = 0) throws {
        let message = WireMessage(sessionId: sessionId, sequence: sequence, eventTimePs: timePs, body: body)
        _ = try dealer.send(Message([FrameCodec.frame(message)]), options: .dontWait)
    }

    private func handle(_ message: Message, fromBroadcast: Bool) throws {
        guard message.count == 1 else {
            monitor.update { $0.rejected.count(ProtocolError(.frameCount, "\(message.count) frames")) }
            return
        }
        let frames = message.frames
        let decoded: WireMessage
        let result = fromBroadcast ? FrameCodec.decodeBroadcast(frames[0], maxPayloadBytes: 64 << 20)
            : FrameCodec.decode(frames[0], maxPayloadBytes: 64 << 20)
        switch result {
        case .success(let value): decoded = value
        case .failure(let error):
            logger.warning("node.message.rejected", metadata: ["qlink.kind": "\(error.kind.rawValue)", "qlink.detail": "\(error.detail)"])
            monitor.update { $0.rejected.count(error) }
            return
        }
        if !fromBroadcast { machine.heard(now: clock.now) }
        switch decoded.body {
        case .welcome(let welcome):
            let actions = machine.welcomed(welcome, now: clock.now)
            if !actions.isEmpty { credit = max(1, welcome.credit) }
            try execute(actions)
        case .acknowledgement(let ack):
            credit = max(1, ack.credit)
            let key = BatchKey(session: ack.session, sequence: ack.sequence)
            inFlight.remove(key)
            if let sent = sentAtNs.removeValue(forKey: key) {
                monitor.recordAcknowledgementLatency(nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds - sent))
            }
            switch ack.status {
            case .accepted, .duplicate:
                acknowledged.append((ack.session, ack.sequence))
                monitor.update {
                    if ack.status == .accepted { $0.batchesAcknowledged += 1 } else { $0.duplicatesAcknowledged += 1 }
                }
            case .resendFrom, .corrupt:
                monitor.update { $0.resendRequests += 1 }
                try execute(machine.resendRequested())
            }
        case .herald(let herald):
            heraldsToLog.append(herald)
            let before = machine.heralds.gapCount
            let (verdict, actions) = machine.herald(sequence: herald.sequence)
            let gap = machine.heralds.gapCount > before
            // Count each herald once: new ones, and re-sent ones that fill a gap; others are repeats.
            monitor.update {
                if verdict == .new { $0.heraldsReceived += 1 } else { $0.heraldRepeats += 1 }
                if gap { $0.heraldGaps += 1 }
            }
            try execute(actions)
        case .status(let status):
            statusesReceived += 1
            monitor.update { $0.lastStatus = status }
            try execute(machine.status(heralds: UInt64(max(0, status.heralds)), statusesReceived: statusesReceived))
        case .rateProposal, .rateCommit, .rateAbort, .rateSchedule:
            let reaction = rateAgreement.receive(decoded.body, source: source)
            if case .awaitingSchedule = rateAgreement.state {} else { machine.scheduleReceived() }
            reaction.report(node: settings.node, agreement: rateAgreement, logger: logger, monitor: monitor)
            for reply in reaction.replies { try send(reply) }
            try execute([])
        case .error(let report):
            logger.warning("node.coordinator.error", metadata: ["qlink.code": "\(report.code)", "qlink.text": "\(report.text)"])
            if ProtocolError.kind(forCode: report.code) == .notIntroduced { try execute(machine.notIntroduced(now: clock.now)) }
        case .heartbeat:
            break
        case .hello, .tagBatch, .heraldRequest, .rateAnswer, .rateApplied:
            monitor.update { $0.rejected.count(ProtocolError(.unknownType, "\(decoded.header.type) is not sent to nodes")) }
        }
    }

    /// Keeps freshly spooled batches in memory for sending when everything before them has been sent.
    private func cacheForSending(_ entries: [NodeSpool.Entry], _ positions: [Int64?]) {
        // Cache only a contiguous run that starts right after the last batch sent.
        var caching = sendCacheHead == sendCache.count ? lastSentPosition >= lastAppendedPosition : true
        for (entry, position) in zip(entries, positions) {
            guard let position else { continue }
            defer { lastAppendedPosition = max(lastAppendedPosition, position) }
            guard caching, sendCacheBytes + entry.payload.count <= Self.sendCacheLimitBytes else {
                clearSendCache()
                caching = false
                continue
            }
            sendCache.append(SpooledBatch(position: position, session: entry.session, sequence: entry.sequence,
                                          header: entry.header, payload: entry.payload, tags: entry.tags))
            sendCacheBytes += entry.payload.count
        }
    }

    private func clearSendCache() {
        sendCache.removeAll(keepingCapacity: true)
        sendCacheHead = 0
        sendCacheBytes = 0
    }

    /// Sends everything in the spool again from the oldest batch (the coordinator deduplicates).
    private func restartSending() {
        clearSendCache()
        inFlight.removeAll()
        sentAtNs.removeAll()
        lastSentPosition = 0
        lastSentSequence = 0
    }

    private func pullFromSource() throws {
        var entries: [NodeSpool.Entry] = []
        // Everything the source has ready (up to 64 batches) goes into the spool in one transaction.
        while entries.count < 64 {
            guard let batch = source.queue.pop() else {
                if source.queue.isDrained, !sourceDrained {
                    sourceDrained = true
                    let failure = source.failureDescription
                    monitor.update {
                        $0.sourceFinished = true
                        $0.sourceFailure = failure
                    }
                    if let failure { logger.error("node.source.failed", metadata: ["qlink.error": "\(failure)"]) }
                }
                break
            }
            if batch.isEmpty { continue }
            let sequence = nextSequence + UInt64(entries.count)
            let message = WireMessage(sessionId: sessionId, sequence: sequence, eventTimePs: batch.timesPs.first ?? 0, body: .tagBatch(batch))
            let (header, payload) = message.encoded()
            entries.append(NodeSpool.Entry(header: header, payload: payload, session: sessionId, sequence: sequence, tags: batch.count))
        }
        var remaining = entries[...]
        while !remaining.isEmpty {
            // The spool is the outbox: a batch exists durably before it is sent.
            let batch = Array(remaining)
            let positions = try spool.appendReturningPositions(batch)
            let stored = positions.count
            cacheForSending(batch, positions)
            nextSequence += UInt64(stored)
            let count = Int64(stored)
            let waiting = try spool.usage().batches
            monitor.update {
                $0.batchesSpooled += count
                $0.spoolBatches = waiting
                $0.spoolHighWater = max($0.spoolHighWater, waiting)
            }
            remaining = remaining.dropFirst(stored)
            if remaining.isEmpty { break }
            monitor.update { $0.spoolFullEvents += 1 }
            logger.warning("node.spool.full", metadata: ["qlink.bytes": "\(settings.spoolMaxBytes)"])
            // Hold the source back until acknowledgements make room.
            try waitForRoom()
            if thread?.isStopRequested == true {
                logger.warning("node.stopped.unspooled", metadata: ["qlink.batches": "\(remaining.count)"])
                break
            }
        }
    }

    private func waitForRoom() throws {
        let ready = try Poller.poll([(dealer, .readable)], timeoutMs: 20)
        try drainSockets(dealerReadable: ready[0].contains(.readable), subscriberReadable: false)
        try timers()
        try sendWithinCredit()
    }

    private func timers() throws {
        // Notices a refusal by the coordinator's ZAP handler (a clear error, no endless retries).
        try dealerClient.checkHandshake(timeoutMs: 0)
        try subscriberClient.checkHandshake(timeoutMs: 0)
        try execute(machine.tick(now: clock.now))
    }

    private func sendWithinCredit() throws {
        guard machine.isIntroduced else { return }
        // Out of credit with batches waiting: the coordinator is slow; the node backs off (counted once per stall).
        if inFlight.count >= Int(credit) {
            if !creditStalled, nextSequence - 1 > lastSentSequence {
                creditStalled = true
                monitor.update { $0.creditStalls += 1 }
            }
            return
        }
        creditStalled = false
        let room = Int(credit) - inFlight.count
        let batches: [SpooledBatch]
        if sendCacheHead < sendCache.count, sendCache[sendCacheHead].position > lastSentPosition {
            let end = min(sendCache.count, sendCacheHead + room)
            batches = Array(sendCache[sendCacheHead..<end])
        } else {
            if sendCacheHead < sendCache.count { clearSendCache() }
            batches = try spool.batches(after: lastSentPosition, limit: room)
        }
        for batch in batches {
            guard try dealer.send(Message([FrameCodec.frame(header: batch.header, payload: batch.payload)]), options: .dontWait) else { return }
            if sendCacheHead < sendCache.count, sendCache[sendCacheHead].position == batch.position {
                sendCacheBytes -= batch.payload.count
                sendCacheHead += 1
                if sendCacheHead == sendCache.count { clearSendCache() } else if sendCacheHead > 1024 {
                    sendCache.removeFirst(sendCacheHead)
                    sendCacheHead = 0
                }
            }
            let key = BatchKey(session: batch.session, sequence: batch.sequence)
            inFlight.insert(key)
            sentAtNs[key] = DispatchTime.now().uptimeNanoseconds
            lastSentPosition = batch.position
            if batch.session == sessionId { lastSentSequence = max(lastSentSequence, batch.sequence) }
            monitor.update { $0.batchesSent += 1 }
        }
    }
}
