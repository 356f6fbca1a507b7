import Foundation
import Journal
import Logging
import Messaging
import Protocol
import Security
import TimeTags

/// The node's state machine on its socket thread.
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
    let sessionId = UInt64.random(in: 1...UInt64.max)
    var nextSequence: UInt64 = 1
    var welcomed = false
    var credit: UInt32 = 1
    var inFlight: Set<String> = []
    var lastSentPosition: Int64 = 0
    var lastHeard = Date.distantPast
    var nextHello = Date.distantPast
    var nextHeartbeat = Date()
    var lastHeraldSequence: UInt64 = 0
    var heraldsSynced = false
    var controlSequence: UInt64 = 0
    var sourceDrained = false

    init(settings: NodeSettings, transport: ClientTransport, logger: Logger, monitor: NodeMonitor) throws {
        self.settings = settings
        self.logger = logger
        self.monitor = monitor
        spool = try NodeSpool(path: settings.spoolPath, maxBytes: settings.spoolMaxBytes)
        dealerClient = try transport.socket(.dealer, logger: logger)
        try dealerClient.socket.set([.immediate(true), .reconnectInterval(milliseconds: 100)])
        subscriberClient = try transport.socket(.subscriber, logger: logger)
        try subscriberClient.socket.set([.subscribe(prefix: WireMessage.topic(for: .herald)), .subscribe(prefix: WireMessage.topic(for: .status)),
                                         .reconnectInterval(milliseconds: 100)])
        try dealerClient.connect(settings.controlEndpoint)
        try subscriberClient.connect(settings.publishEndpoint)
        source = TagSourceRunner(spec: settings.source)
        let session = sessionId
        monitor.update { $0.sessionId = session }
    }

    deinit {
        source.stop()
        dealer.close()
        subscriber.close()
    }

    func run(thread: SocketThread) throws {
        logger.info("node.started", metadata: ["qlink.node": "\(settings.node)", "qlink.lab": "\(settings.lab)",
                                               "qlink.session": "\(sessionId)", "qlink.control": "\(settings.controlEndpoint)"])
        while !thread.isStopRequested {
            let ready = try Poller.poll([(dealer, .readable), (subscriber, .readable)], timeoutMs: 2)
            if ready[0].contains(.readable) {
                while let message = try dealer.receive(options: .dontWait) { try handle(message, fromBroadcast: false) }
            }
            if ready[1].contains(.readable) {
                while let message = try subscriber.receive(options: .dontWait) { try handle(message, fromBroadcast: true) }
            }
            try pullFromSource()
            try timers()
            try sendWithinCredit()
            if settings.stopWhenDone, sourceDrained, try spool.usage().batches == 0 { break }
        }
        let waiting = try spool.usage().batches
        logger.info("node.stopped", metadata: ["qlink.node": "\(settings.node)", "qlink.spooled_unacknowledged": "\(waiting)"])
    }

    private func key(_ session: UInt64, _ sequence: UInt64) -> String { "\(session)/\(sequence)" }

    private func send(_ body: WireMessage.Body, sequence: UInt64 = 0) throws {
        let message = WireMessage(sessionId: sessionId, sequence: sequence, body: body)
        _ = try dealer.send(Message(FrameCodec.frames(message)), options: .dontWait)
    }

    private func handle(_ message: Message, fromBroadcast: Bool) throws {
        let frames = fromBroadcast ? Array(message.frames.dropFirst()) : message.frames
        guard frames.count == 2 else {
            monitor.update { $0.rejected.count(ProtocolError(.frameCount, "\(message.count) frames")) }
            return
        }
        let decoded: WireMessage
        switch FrameCodec.decode(header: frames[0], payload: frames[1], maxPayloadBytes: 64 << 20) {
        case .success(let value): decoded = value
        case .failure(let error):
            logger.warning("node.message.rejected", metadata: ["qlink.kind": "\(error.kind.rawValue)", "qlink.detail": "\(error.detail)"])
            monitor.update { $0.rejected.count(error) }
            return
        }
        if !fromBroadcast { lastHeard = Date() }
        switch decoded.body {
        case .welcome(let welcome):
            welcomed = true
            credit = max(1, welcome.credit)
            // The coordinator already holds these: the acknowledgements were lost.
            try spool.removeThrough(session: sessionId, sequence: welcome.lastAcceptedSequence)
            restartSending()
            if !heraldsSynced {
                // Heralds before this node first joined are not its business; it follows from here.
                lastHeraldSequence = max(lastHeraldSequence, welcome.nextHeraldSequence &- 1)
                heraldsSynced = true
            }
            monitor.update { $0.connected = true }
            logger.info("node.welcomed", metadata: ["qlink.node": "\(settings.node)", "qlink.last_accepted": "\(welcome.lastAcceptedSequence)"])
        case .acknowledgement(let ack):
            credit = max(1, ack.credit)
            inFlight.remove(key(ack.session, ack.sequence))
            switch ack.status {
            case .accepted, .duplicate:
                try spool.remove(session: ack.session, sequence: ack.sequence)
                monitor.update {
                    if ack.status == .accepted { $0.batchesAcknowledged += 1 } else { $0.duplicatesAcknowledged += 1 }
                }
            case .resendFrom, .corrupt:
                monitor.update { $0.resendRequests += 1 }
                restartSending()
            }
        case .herald(let herald):
            try spool.logHerald(herald)
            if heraldsSynced, herald.sequence > lastHeraldSequence + 1 {
                monitor.update { $0.heraldGaps += 1 }
                try send(.heraldRequest(HeraldRequest(first: lastHeraldSequence + 1, last: herald.sequence - 1)))
            }
            lastHeraldSequence = max(lastHeraldSequence, herald.sequence)
            let last = lastHeraldSequence
            monitor.update {
                $0.heraldsReceived += 1
                $0.lastHeraldSequence = last
            }
        case .status(let status):
            monitor.update { $0.lastStatus = status }
            // Heralds lost at the tail (the PUB drops for slow or reconnecting subscribers).
            if heraldsSynced, welcomed, status.heralds > 0, UInt64(status.heralds) > lastHeraldSequence {
                try send(.heraldRequest(HeraldRequest(first: lastHeraldSequence + 1, last: UInt64(status.heralds))))
            }
        case .setRepetitionRate(let request):
            let inForce = source.setRepetitionRate(request.rateHz)
            monitor.update { $0.repetitionRateHz = inForce }
            controlSequence += 1
            try send(.controlAck(ControlAck(requestId: request.requestId, applied: true, valueInForce: inForce)), sequence: controlSequence)
        case .error(let report):
            logger.warning("node.coordinator.error", metadata: ["qlink.code": "\(report.code)", "qlink.text": "\(report.text)"])
            if ProtocolError.kind(forCode: report.code) == .notIntroduced { lostConnection() }
        case .heartbeat:
            break
        case .hello, .tagBatch, .controlAck, .heraldRequest:
            monitor.update { $0.rejected.count(ProtocolError(.unknownType, "\(decoded.header.type) is not sent to nodes")) }
        }
    }

    /// Sends everything in the spool again from the oldest batch (the coordinator deduplicates).
    private func restartSending() {
        inFlight.removeAll()
        lastSentPosition = 0
    }

    private func lostConnection() {
        if welcomed { logger.warning("node.coordinator.lost", metadata: ["qlink.node": "\(settings.node)"]) }
        welcomed = false
        nextHello = Date()
        restartSending()
        monitor.update { $0.connected = false }
    }

    private func pullFromSource() throws {
        var pulled = 0
        while pulled < 16 {
            guard let batch = source.queue.pop() else {
                if source.queue.isDrained, !sourceDrained {
                    sourceDrained = true
                    let failure = source.failureDescription
                    monitor.update { $0.sourceFinished = true }
                    if let failure { logger.error("node.source.failed", metadata: ["qlink.error": "\(failure)"]) }
                }
                return
            }
            pulled += 1
            if batch.isEmpty { continue }
            let message = WireMessage(sessionId: sessionId, sequence: nextSequence, eventTimePs: batch.timesPs.first ?? 0, body: .tagBatch(batch))
            let (header, payload) = message.encoded()
            // The spool is the outbox: a batch exists durably before it is sent.
            while try !spool.append(header: header, payload: payload, session: sessionId, sequence: nextSequence, tags: batch.count) {
                monitor.update { $0.spoolFullEvents += 1 }
                logger.warning("node.spool.full", metadata: ["qlink.bytes": "\(settings.spoolMaxBytes)"])
                // Hold the source back until acknowledgements make room.
                try waitForRoom()
                if !welcomed, Date().timeIntervalSince(lastHeard) > 60 { return }
            }
            nextSequence += 1
            monitor.update { $0.batchesSpooled += 1 }
        }
    }

    private func waitForRoom() throws {
        let ready = try Poller.poll([(dealer, .readable)], timeoutMs: 20)
        if ready[0].contains(.readable) {
            while let message = try dealer.receive(options: .dontWait) { try handle(message, fromBroadcast: false) }
        }
        try timers()
        try sendWithinCredit()
    }

    private func timers() throws {
        // Notices a refusal by the coordinator's ZAP handler (a clear error, no endless retries).
        try dealerClient.checkHandshake(timeoutMs: 0)
        try subscriberClient.checkHandshake(timeoutMs: 0)
        let now = Date()
        if !welcomed, now >= nextHello {
            try send(.hello(Hello(node: settings.node, lab: settings.lab)))
            nextHello = now.addingTimeInterval(1)
        }
        if welcomed, now.timeIntervalSince(lastHeard) * 1000 > Double(settings.coordinatorTimeoutMs) {
            lostConnection()
        }
        if now >= nextHeartbeat {
            try send(.heartbeat, sequence: nextSequence - 1)
            nextHeartbeat = now.addingTimeInterval(Double(settings.heartbeatIntervalMs) / 1000)
            let dropped = source.queue.dropped
            let usage = try spool.usage()
            monitor.update {
                $0.droppedBatches = dropped.batches
                $0.droppedTags = dropped.tags
                $0.spoolBatches = usage.batches
            }
        }
    }

    private func sendWithinCredit() throws {
        guard welcomed, inFlight.count < Int(credit) else { return }
        let batches = try spool.batches(after: lastSentPosition, limit: Int(credit) - inFlight.count)
        for batch in batches {
            guard try dealer.send(Message([Frame(batch.header), Frame(batch.payload)]), options: .dontWait) else { return }
            inFlight.insert(key(batch.session, batch.sequence))
            lastSentPosition = batch.position
            monitor.update { $0.batchesSent += 1 }
        }
    }
}
