import Correlation
import Foundation
import Journal
import LinkModel
import Logging
import Messaging
import Protocol
import Security
import TimeTags

/// What the coordinator sends in answer to a message or a timer.
enum Outgoing {
    /// To one node, through the ROUTER.
    case reply(peer: Frame, WireMessage)
    /// To everyone, through the PUB.
    case broadcast(WireMessage)
}

/// The coordinator's protocol logic, run on its socket thread: introductions, batch acceptance with
/// deduplication and gap handling against the journal, acknowledgements with credit, heralds and status. The
/// live analysis runs on its own thread (``AnalysisThread``): accepted batches are offered to it, never waited for. Never crashes on bad input: it counts, logs and answers with an error.
final class CoordinatorCore {
    typealias Peer = CoordinatorPeers.Peer

    let settings: CoordinatorSettings
    let journal: CoordinatorJournal
    let logger: Logger
    let authenticatedSender: (Message) -> Result<AuthenticatedSender, VerificationFailure>
    let runId: UInt64
    let sessionId = UInt64.random(in: 1...UInt64.max)
    private let started = ContinuousClock.now
    /// Each connection's protocol state and each node session's batch sequencing (``CoordinatorPeers``).
    private var connections = CoordinatorPeers()
    /// The introduced peers by routing id.
    private var peers: [[UInt8]: Peer] { connections.introduced }
    private let roster: LabRoster
    /// Claims refused so far: hellos by reason, and tags on channels the sending lab does not own by reason.
    private(set) var refusedHellos: [ClaimRefusal: Int] = [:]
    private(set) var refusedTags: [ClaimRefusal: Int] = [:]
    /// Batches with refused tags per node and reason (the first and every 1000th are logged and answered).
    private var refusedBatches: [String: Int] = [:]
    /// Tag batches refused because their sequence is not one (0).
    private(set) var invalidSequences: Int64 = 0
    /// Herald requests answered only in part (over ``heraldRequestLimit``).
    private(set) var heraldRequestsTruncated: Int64 = 0
    private let analysis: AnalysisThread?
    private var decider: HeraldDecider?
    private var publishSequence: UInt64 = 0
    private(set) var status: StatusReport
    /// The latest heralds decided (at most ``recentHeraldLimit``, oldest first), for the status page.
    private(set) var recentHeralds: [Herald] = []
    static let recentHeraldLimit = 20
    private(set) var counters = ProtocolCounters()
    /// The live analysis' latest complete results (taken at each status tick; its `linkTimePs` is the link time
    /// they cover).
    private(set) var snapshot = LinkAnalysisSnapshot(durationPs: 0)
    /// Group commit: batches and heralds decided in this receive round, journaled together by ``commit()``
    /// before any acknowledgement or herald of the round leaves.
    private var pendingBatches: [CoordinatorJournal.BatchRecord] = []
    private var pendingHeralds: [Herald] = []
    private var outbox: [Outgoing] = []
    /// Repetition-rate changes both labs agree on, and the schedule in force (``RateChangeCoordinator``).
    private(set) var rates: RateChangeCoordinator!

    init(settings: CoordinatorSettings, journal: CoordinatorJournal, logger: Logger,
         authenticatedSender: @escaping (Message) -> Result<AuthenticatedSender, VerificationFailure>) throws(JournalError) {
        self.settings = settings
        roster = LabRoster(labs: settings.labs, heralds: settings.heralds)
        self.journal = journal
        self.logger = logger
        self.authenticatedSender = authenticatedSender
        runId = try journal.runId()
        status = StatusReport(runId: runId)
        status.tagsByNode = try journal.tagTotals()
        status.batchesAccepted = Int64(try journal.count(.batch))
        let last = try journal.lastHerald()
        status.heralds = Int64(last.sequence)
        analysis = settings.analysis.map { AnalysisThread(layout: $0, capacity: settings.analysisQueueBatches, logger: logger) }
        analysis?.start()
        if let heralds = settings.heralds {
            decider = HeraldDecider(repetitionPeriodPs: heralds.repetitionPeriodPs, windowStartPs: heralds.windowStartPs,
                                    windowEndPs: heralds.windowEndPs, stationChannels: heralds.stationChannels,
                                    heraldProtocol: heralds.heraldProtocol,
                                    nextSequence: last.sequence + 1, lastDecidedAttempt: last.attemptId)
        }
        rates = try RateChangeCoordinator(settings: settings, journal: journal, logger: logger, sessionId: sessionId)
        rates.replay(into: &decider)
    }

    /// Takes one message received on the ROUTER; its answers wait in the outbox until ``commit()``.
    func receive(_ message: Message) {
        outbox += handle(message)
    }

    /// Journals everything received since the last commit in one transaction, then hands out the
    /// answers (acknowledgements, heralds, errors) in order. A journal failure is thrown: nothing of the
    /// round is acknowledged, and the nodes resend it to a restarted coordinator.
    func commit() throws(JournalError) -> [Outgoing] {
        if !pendingBatches.isEmpty || !pendingHeralds.isEmpty {
            try journal.commit(batches: pendingBatches, heralds: pendingHeralds)
            pendingBatches.removeAll(keepingCapacity: true)
            pendingHeralds.removeAll(keepingCapacity: true)
        }
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }

    /// Handles one message received on the ROUTER: `[routing id, header, payload]`.
    private func handle(_ message: Message) -> [Outgoing] {
        guard let peer = message[safe: 0] else { return [] }
        let sender: AuthenticatedSender
        switch authenticatedSender(message) {
        case .success(let authenticated):
            sender = authenticated
        case .failure(let failure):
            // Revoked since the handshake or no identity: dropped, counted by the authenticator, logged.
            status.unauthenticated += 1
            logger.warning("coordinator.message.unauthenticated", metadata: ["qlink.reason": "\(failure)"])
            return []
        }
        guard message.count == 2 else {
            return reject(ProtocolError(.frameCount, "expected 2 frames (routing id, message), got \(message.count)"), peer: peer)
        }
        let decoded: WireMessage
        switch FrameCodec.decode(message.frames[1], maxPayloadBytes: settings.maxPayloadBytes) {
        case .success(let value):
            decoded = value
        case .failure(let error):
            if error.kind == .checksumMismatch, let header = FrameCodec.header(message.frames[1]), header.type == .tagBatch {
                counters.count(error)
                status.malformed = counters.total
                logger.warning("coordinator.batch.corrupt", metadata: ["qlink.sequence": "\(header.sequence)"])
                return [.reply(peer: peer, envelope(.acknowledgement(Acknowledgement(session: header.sessionId, sequence: header.sequence,
                                                                                   status: .corrupt, credit: settings.credit))))]
            }
            return reject(error, peer: peer)
        }
        do {
            return try dispatch(decoded, peer: peer, sender: sender)
        } catch {
            logger.error("coordinator.journal.failed", metadata: ["qlink.error": "\(error)"])
            try? journal.recordAlert(level: "error", message: "\(error)")
            return [.reply(peer: peer, envelope(.error(ErrorReport(code: 0, text: "coordinator journal failure: \(error)"))))]
        }
    }

    private func reject(_ error: ProtocolError, peer: Frame) -> [Outgoing] {
        counters.count(error)
        status.malformed = counters.total
        logger.warning("coordinator.message.rejected", metadata: ["qlink.kind": "\(error.kind.rawValue)", "qlink.detail": "\(error.detail)"])
        return [.reply(peer: peer, envelope(.error(ErrorReport(error))))]
    }

    private func envelope(_ body: WireMessage.Body, sequence: UInt64 = 0, timePs: Int64 = 0) -> WireMessage {
        WireMessage(sessionId: sessionId, sequence: sequence, eventTimePs: timePs, body: body)
    }

    private func dispatch(_ message: WireMessage, peer: Frame, sender: AuthenticatedSender) throws(JournalError) -> [Outgoing] {
        let key = peer.bytes
        switch message.body {
        case .hello(let hello):
            return try introduce(hello, session: message.header.sessionId, peer: peer, sender: sender)
        case .tagBatch(let batch):
            guard let known = connections.peer(key) else {
                return reject(ProtocolError(.notIntroduced, "a tag batch from a peer that has not said hello"), peer: peer)
            }
            return try accept(batch, header: message.header, from: known, peer: peer)
        case .heartbeat:
            return []
        case .heraldRequest(let request):
            guard connections.peer(key) != nil else {
                return reject(ProtocolError(.notIntroduced, "a herald request from a peer that has not said hello"), peer: peer)
            }
            return try answer(request, peer: peer)
        case .rateAnswer(let answer):
            guard let known = connections.peer(key) else {
                return reject(ProtocolError(.notIntroduced, "a rate answer from a peer that has not said hello"), peer: peer)
            }
            return try rates.receive(answer, from: known.node, nowNs: Self.nowNs, members: members, decider: &decider)
        case .rateApplied(let applied):
            guard let known = connections.peer(key) else {
                return reject(ProtocolError(.notIntroduced, "a rate confirmation from a peer that has not said hello"), peer: peer)
            }
            try rates.receive(applied, from: known.node)
            return []
        case .error(let report):
            logger.warning("coordinator.peer.error", metadata: ["qlink.code": "\(report.code)", "qlink.text": "\(report.text)"])
            return []
        case .welcome, .acknowledgement, .herald, .status, .rateProposal, .rateCommit, .rateAbort, .rateSchedule:
            return reject(ProtocolError(.unknownType, "\(message.header.type) is not sent to the coordinator"), peer: peer)
        }
    }

    private func introduce(_ hello: Hello, session: UInt64, peer: Frame, sender: AuthenticatedSender) throws(JournalError) -> [Outgoing] {
        guard hello.protocolVersion == Int(MessageHeader.currentVersion) else {
            return reject(ProtocolError(.versionMismatch, "node speaks version \(hello.protocolVersion)"), peer: peer)
        }
        let labIndex: Int
        switch roster.admit(hello, from: sender) {
        case .success(let index):
            labIndex = index
        case .failure(let refusal):
            return refuse(hello, from: sender, refusal, peer: peer)
        }
        connections.admit(peer.bytes, as: Peer(node: hello.node, lab: hello.lab, labIndex: labIndex, session: session))
        let last = try lastSequence(BatchStream(node: hello.node, session: session))
        logger.info("coordinator.node.welcomed", metadata: ["qlink.node": "\(hello.node)", "qlink.lab": "\(hello.lab)",
                                                            "qlink.last_sequence": "\(last)"])
        let welcome = Welcome(lastAcceptedSequence: last, credit: settings.credit,
                              nextHeraldSequence: decider?.nextSequence ?? UInt64(status.heralds + 1), runId: runId)
        return [.reply(peer: peer, envelope(.welcome(welcome)))] + rates.welcome(peer: peer)
    }

    /// Refuses a hello's claim: an error answer naming the reason, a warning with the peer address, node, claimed
    /// lab and reason, a count by reason and an entry in the journal's event (alert) table. A peer that was
    /// introduced before on this connection is forgotten: its batches are refused until a hello is admitted.
    private func refuse(_ hello: Hello, from sender: AuthenticatedSender, _ refusal: ClaimRefusal, peer: Frame) -> [Outgoing] {
        connections.refuse(peer.bytes, refusal)
        refusedHellos[refusal, default: 0] += 1
        let assigned = roster.labs(of: sender.name)
        let detail: String
        switch refusal {
        case .nodeMismatch: detail = "the hello names node '\(hello.node)' but the certificate says '\(sender.name)'"
        case .unlistedNode: detail = "certificate '\(sender.name)' serves no lab of the configuration (labs[].node)"
        case .wrongLab: detail = "certificate '\(sender.name)' may speak only for lab '\(assigned)', not '\(hello.lab)'"
        case .wrongRole: detail = "certificate '\(sender.name)' does not grant the node role (\(sender.role?.rawValue ?? "none"))"
        case .foreignChannel, .stationChannel: detail = refusal.rawValue
        }
        logger.warning("coordinator.hello.refused", metadata: [
            "qlink.peer_address": "\(sender.peerAddress ?? "unknown")", "qlink.node": "\(sender.name)",
            "qlink.claimed_node": "\(hello.node)", "qlink.claimed_lab": "\(hello.lab)", "qlink.reason": "\(refusal.rawValue)",
            "qlink.detail": "\(detail)"])
        try? journal.recordAlert(level: "refused", message: "hello from \(sender.name) at \(sender.peerAddress ?? "unknown address") claiming lab '\(hello.lab)' refused (\(refusal.rawValue)): \(detail)")
        let error = ProtocolError(.refused, "\(refusal.rawValue): \(detail)")
        return [.reply(peer: peer, envelope(.error(ErrorReport(error))))]
    }

    /// Removes the tags on channels the lab at `index` does not own; counts, logs and journals (the first and
    /// every 1000th batch of a node and reason) and answers with an error alongside the acknowledgement.
    private func ownChannels(_ batch: TagBatch, lab index: Int, node: String, peer: Frame) -> (TagBatch, [Outgoing]) {
        guard batch.channels.contains(where: { roster.refusal(channel: $0, lab: index) != nil }) else { return (batch, []) }
        var kept = TagBatch(timesPs: [], channels: [], markers: batch.markers, gaps: batch.gaps)
        var refused: [ClaimRefusal: Int] = [:]
        var channels: [ClaimRefusal: Set<TagChannel>] = [:]
        for position in 0..<batch.count {
            let channel = batch.channels[position]
            if let refusal = roster.refusal(channel: channel, lab: index) {
                refused[refusal, default: 0] += 1
                channels[refusal, default: []].insert(channel)
            } else {
                kept.append(timePs: batch.timesPs[position], channel: channel)
            }
        }
        var out: [Outgoing] = []
        for (refusal, count) in refused.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            refusedTags[refusal, default: 0] += count
            let key = "\(node)/\(refusal.rawValue)"
            refusedBatches[key, default: 0] += 1
            guard refusedBatches[key]! % 1000 == 1 else { continue }
            let owner = refusal == .stationChannel ? "the station's, recorded by lab '\(roster.stationLab.map { roster.labs[$0].name } ?? "?")'"
                : "not a detector of lab '\(roster.labs[index].name)'"
            let detail = "\(count) tags on channels \(channels[refusal]!.sorted()) dropped: \(owner) (batch \(refusedBatches[key]!) with such tags)"
            logger.warning("coordinator.tags.refused", metadata: ["qlink.node": "\(node)", "qlink.lab": "\(roster.labs[index].name)",
                                                                 "qlink.reason": "\(refusal.rawValue)", "qlink.detail": "\(detail)"])
            try? journal.recordAlert(level: "refused", message: "tags from \(node) (lab '\(roster.labs[index].name)') refused (\(refusal.rawValue)): \(detail)")
            out.append(.reply(peer: peer, envelope(.error(ErrorReport(ProtocolError(.refused, "\(refusal.rawValue): \(detail)"))))))
        }
        return (kept, out)
    }

    /// The last sequence journaled in `stream` (loaded from the journal once, then tracked).
    private func lastSequence(_ stream: BatchStream) throws(JournalError) -> UInt64 {
        if !connections.knows(stream) {
            connections.load(stream, lastJournaled: try journal.lastSequence(node: stream.node, session: stream.session))
        }
        return connections.lastAccepted(stream)
    }

    /// Herald requests are answered with at most ``heraldRequestLimit`` heralds; a longer request gets those and an
    /// error naming the limit and the first sequence to ask for next.
    static let heraldRequestLimit: UInt64 = 10_000

    private func answer(_ request: HeraldRequest, peer: Frame) throws(JournalError) -> [Outgoing] {
        guard request.first >= 1, request.first <= request.last else {
            return reject(ProtocolError(.badPayload, "herald request \(request.first)…\(request.last) is not a range of herald sequences"), peer: peer)
        }
        let last = request.last - request.first >= Self.heraldRequestLimit ? request.first + Self.heraldRequestLimit - 1 : request.last
        // Heralds of this round are not journaled yet: commit them first, keeping the outbox order.
        if !pendingBatches.isEmpty || !pendingHeralds.isEmpty {
            try journal.commit(batches: pendingBatches, heralds: pendingHeralds)
            pendingBatches.removeAll(keepingCapacity: true)
            pendingHeralds.removeAll(keepingCapacity: true)
        }
        var out: [Outgoing] = try journal.heralds(in: request.first...last).map { herald in
            .reply(peer: peer, envelope(.herald(herald), sequence: herald.sequence, timePs: herald.timePs))
        }
        if last < request.last {
            heraldRequestsTruncated += 1
            let detail = "herald request \(request.first)…\(request.last) is over the limit of \(Self.heraldRequestLimit): answered \(request.first)…\(last); ask again from \(last + 1)"
            logger.notice("coordinator.herald_request.truncated", metadata: ["qlink.first": "\(request.first)", "qlink.last": "\(request.last)",
                                                                            "qlink.answered_through": "\(last)"])
            out.append(.reply(peer: peer, envelope(.error(ErrorReport(ProtocolError(.oversized, detail))))))
        }
        return out
    }

    private func accept(_ batch: TagBatch, header: MessageHeader, from peer: Peer, peer frame: Frame) throws(JournalError) -> [Outgoing] {
        let stream = BatchStream(node: peer.node, session: header.sessionId)
        _ = try lastSequence(stream)
        func ack(_ status: AcknowledgementStatus, resendFrom: UInt64 = 0) -> Outgoing {
            .reply(peer: frame, envelope(.acknowledgement(Acknowledgement(session: header.sessionId, sequence: header.sequence,
                                                                         status: status, credit: settings.credit, resendFrom: resendFrom))))
        }
        switch connections.judge(stream, sequence: header.sequence) {
        case .accept:
            break
        case .duplicate:
            status.duplicates += 1
            return [ack(.duplicate)]
        case .gap(let resendFrom):
            status.gaps += 1
            logger.warning("coordinator.batch.gap", metadata: ["qlink.node": "\(peer.node)", "qlink.expected": "\(resendFrom)",
                                                               "qlink.received": "\(header.sequence)"])
            return [ack(.resendFrom, resendFrom: resendFrom)]
        case .invalid(let reason):
            invalidSequences += 1
            return reject(ProtocolError(.badHeader, "\(reason) (node \(peer.node), session \(header.sessionId))"), peer: frame)
        }
        let record = CoordinatorJournal.BatchRecord(node: peer.node, session: header.sessionId, sequence: header.sequence,
                                                    checksum: header.checksum, firstPs: batch.timesPs.first ?? 0,
                                                    lastPs: batch.timesPs.last ?? 0, tags: batch.count)
        pendingBatches.append(record)
        status.batchesAccepted += 1
        let (kept, refusals) = ownChannels(batch, lab: peer.labIndex, node: peer.node, peer: frame)
        if let firstPs = batch.timesPs.first, let lastPs = batch.timesPs.last {
            coverageByLab[peer.labIndex, default: LinkCoverage(startPs: firstPs, reachedPs: lastPs)].extend(firstPs: firstPs, lastPs: lastPs, kept: kept.count)
        }
        let batch = kept
        status.tagsByNode[peer.node, default: 0] += Int64(batch.count)
        countChannels(batch)
        var out: [Outgoing] = [ack(.accepted)] + refusals
        let labIndex = peer.labIndex
        // The station's lab: the heralds decided from this batch (possibly none), which cover it.
        var decidedHeralds: [Herald]?
        if var decider, let heralds = settings.heralds, heralds.stationLab == labIndex {
            let decided = decider.process(batch)
            decidedHeralds = decided
            for herald in decided {
                pendingHeralds.append(herald)
                status.heralds += 1
                if herald.outcome != .failure { status.heraldSuccesses += 1 }
                recentHeralds.append(herald)
                out.append(.broadcast(envelope(.herald(herald), sequence: herald.sequence, timePs: herald.timePs)))
            }
            self.decider = decider
            if recentHeralds.count > Self.recentHeraldLimit { recentHeralds.removeFirst(recentHeralds.count - Self.recentHeraldLimit) }
        }
        if labIndex < 2 { analysis?.offer(lab: labIndex, batch: batch, heralds: decidedHeralds) }
        return out
    }

    /// Tags per channel over the run (for singles rates per detector).
    private var tagsByChannel: [TagChannel: Int64] = [:]
    /// The link time each lab's accepted batches covered since the coordinator started, on that lab's clock, by lab
    /// index: every rate in the status and the monitoring is counted over link time, never over this process' clock.
    private var coverageByLab: [Int: LinkCoverage] = [:]

    private func countChannels(_ batch: TagBatch) {
        var run: (channel: TagChannel, count: Int64)?
        for channel in batch.channels {
            if run?.channel == channel { run?.count += 1; continue }
            if let previous = run { tagsByChannel[previous.channel, default: 0] += previous.count }
            run = (channel, 1)
        }
        if let previous = run { tagsByChannel[previous.channel, default: 0] += previous.count }
    }

    /// Heralded link: fidelity per herald type (`psi_plus`, `psi_minus`) to its own state — the full fidelity when
    /// every herald type has it, else the Z/X lower bounds.
    static func fidelityByHerald(_ snapshot: LinkAnalysisSnapshot) -> [String: Estimate] {
        let bounded = snapshot.heralded.filter { $0.fidelityLowerBound != nil }
        let useFull = !bounded.isEmpty && bounded.allSatisfy { $0.fidelity != nil }
        var result: [String: Estimate] = [:]
        for entry in snapshot.heralded {
            guard let value = useFull ? entry.fidelity : entry.fidelityLowerBound else { continue }
            result[entry.state == .psiPlus ? "psi_plus" : entry.state == .psiMinus ? "psi_minus" : entry.state.rawValue] = value
        }
        return result
    }

    /// Ends the live analysis (at shutdown): everything queued is analysed and the final snapshot taken; the
    /// next ``tick()`` reports it.
    func finishAnalysis() {
        analysis?.finish()
    }

    /// The periodic status broadcast (also journaled), with the analysis' latest complete snapshot; asks the
    /// analysis thread for the next one. New clock measurements are journaled.
    func tick() -> [Outgoing] {
        status.tagsByChannel = Dictionary(uniqueKeysWithValues: tagsByChannel.map { ("\($0.key)", $0.value) })
        status.linkTimeByNode = Dictionary(coverageByLab.map { (roster.labs[$0.key].node, $0.value.reachedPs) }, uniquingKeysWith: max)
        // A kept tag's channel belongs to exactly one lab (its detector, or the station's for the station's lab).
        status.linkTimeByChannel = tagsByChannel.keys.reduce(into: [:]) { times, channel in
            if let lab = roster.labs.indices.first(where: { roster.refusal(channel: channel, lab: $0) == nil }), let reached = coverageByLab[lab] {
                times["\(channel)"] = reached.reachedPs
            }
        }
        // The decider decides the heralds of each station batch as it is accepted: they cover the station's link time.
        if let heralds = settings.heralds { status.heraldLinkTimePs = coverageByLab[heralds.stationLab]?.reachedPs }
        for (lab, coverage) in coverageByLab {
            if let rate = coverage.rateHz { status.rateHzByNode[roster.labs[lab].node] = rate }
        }
        if let analysis {
            if let latest = analysis.latestSnapshot { snapshot = latest }
            analysis.requestSnapshot()
            status.analysisDroppedBatches = analysis.progress.droppedBatches
            status.analysisLinkTimePs = snapshot.linkTimePs
            for measurement in analysis.takeClockMeasurements() {
                do {
                    try journal.recordClockOffset(timePs: measurement.timePs, offsetPs: measurement.offsetPs)
                } catch {
                    logger.error("coordinator.journal.failed", metadata: ["qlink.error": "\(error)", "qlink.record": "clock offset"])
                }
            }
        }
        let fidelity = snapshot.reportedFidelity
        status.fidelityIsLowerBound = fidelity?.isLowerBound
        status.accidentals = snapshot.accidentals?.value
        status.clockResidualPs = snapshot.clock?.residualPs
        let byHerald = Self.fidelityByHerald(snapshot)
        if !byHerald.isEmpty {
            status.fidelityByHerald = byHerald.mapValues(\.value)
            status.fidelityErrorByHerald = byHerald.mapValues(\.standardError)
        }
        status.rateSchedule = rates.schedule.isEmpty ? nil : rates.schedule
        status.rateChangesAborted = rates.aborted == 0 ? nil : Int64(rates.aborted)
        let elapsed = (ContinuousClock.now - started).components
        status.elapsedSeconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        status.malformed = counters.total
        status.coincidences = snapshot.heralded.isEmpty ? snapshot.coincidences : snapshot.heraldsWithOutcomes
        status.fidelity = fidelity?.estimate.value
        status.fidelityError = fidelity?.estimate.standardError
        status.clockOffsetPs = snapshot.clock?.offsetPs?.value
        status.clockDriftPpm = snapshot.clock?.driftPpm?.value
        status.clockUpdates = snapshot.clock?.offsetPs == nil ? nil : snapshot.clock?.measurements
        if let json = String(data: (try? JSONEncoder().encode(status)) ?? Data(), encoding: .utf8) {
            try? journal.recordResult(json: json)
        }
        publishSequence += 1
        return [.broadcast(envelope(.status(status), sequence: publishSequence))]
    }

    /// The monotonic clock rate-change deadlines run on, ns.
    static var nowNs: UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// The introduced nodes (routing id, name).
    private var members: [RateChangeCoordinator.Member] { peers.map { (Frame($0.key), $0.value.node) } }

    /// Asks both labs to run at `rateHz` (``RateChangeCoordinator``).
    func requestRepetitionRate(_ rateHz: Double) throws(JournalError) -> [Outgoing] {
        try rates.request(rateHz, nowNs: Self.nowNs, members: members)
    }

    /// Rate-change deadlines and resends.
    func rateTick() throws(JournalError) -> [Outgoing] {
        try rates.tick(nowNs: Self.nowNs, members: members, decider: &decider)
    }
}

/// The link time a lab's accepted batches covered (from the first tag of its first batch to the last tag of its
/// latest, on the lab's clock) and the tags the coordinator kept from them.
struct LinkCoverage {
    var startPs: Int64
    /// The latest tag time the lab's batches reached, ps.
    var reachedPs: Int64
    var tags: Int64 = 0

    /// Adds a batch from `firstPs` to `lastPs` of which `kept` tags were kept.
    mutating func extend(firstPs: Int64, lastPs: Int64, kept: Int) {
        startPs = min(startPs, firstPs)
        reachedPs = max(reachedPs, lastPs)
        tags += Int64(kept)
    }

    /// Kept tags per second of the covered link time, Hz; nil before the batches span any time.
    var rateHz: Double? {
        guard reachedPs > startPs else { return nil }
        return Double(tags) / (Double(reachedPs - startPs) * 1e-12)
    }
}
