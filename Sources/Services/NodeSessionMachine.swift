import Protocol

/// The node's side of the protocol as a state machine without sockets: what the node is doing with the
/// coordinator (``State``), the transitions written out below, and what the socket thread must do on each
/// (``Action``). ``NodeSession`` feeds it the events it sees (timer ticks, a welcome, heralds, status, a refusal,
/// a stop) and only executes the actions. Deadlines are instants of the monotonic clock.
///
/// ```
///            hello every 1 s
///   ┌──────────────┐  welcome   ┌─────────┐  herald log complete  ┌───────────┐
///   │  connecting  │──────────▶│ syncing │─────────────────────▶│ streaming │
///   └──────────────┘            └─────────┘◀─────────────────────└───────────┘
///          ▲   silence > timeout or "not introduced" │     a gap / a status announcing heralds not held
///          └──────────────────────────────────────────┘
///   any of them ── stop requested ──▶ draining ── spool empty, a later status, log complete ──▶ stopped(drained)
///                                       └────────── drain deadline ──────────────────────────▶ stopped(incomplete)
/// ```
/// While draining the connection keeps its own sub-state (``Link``: connecting or introduced), so a drain
/// survives a lost coordinator until its deadline.
///
/// Beside it the machine tracks the coordinator's rate schedule (``ScheduleWait``): the node's source holds until
/// one has arrived, and while welcomed without one the node asks for it again (a hello, which the coordinator
/// answers with a welcome and the schedule) every hello interval, so a schedule lost or late never leaves the
/// node held for good.
struct NodeSessionMachine {
    typealias Instant = ContinuousClock.Instant

    /// The connection to the coordinator.
    enum Link: Equatable {
        /// Saying hello until welcomed; the next hello is due at `nextHelloAt`.
        case connecting(nextHelloAt: Instant)
        /// Welcomed; the coordinator was last heard at `lastHeardAt`.
        case introduced(lastHeardAt: Instant)
    }

    enum State: Equatable {
        /// Not (or no longer) introduced: hellos go out every second; nothing else is sent but heartbeats.
        case connecting(nextHelloAt: Instant)
        /// Welcomed; heralds the node does not hold are being fetched. Batches flow within credit.
        case syncing(lastHeardAt: Instant)
        /// Welcomed and the herald log holds every herald announced so far. Batches flow within credit.
        case streaming(lastHeardAt: Instant)
        /// The source is stopped; spooled batches still go out and missing heralds are fetched until `deadline`.
        /// `statusMark`: statuses received when the spool became empty (the drain ends after a later one).
        case draining(link: Link, deadline: Instant, statusMark: Int64?)
        /// Done: everything acknowledged and every announced herald held (`drained`), or the deadline passed.
        case stopped(drained: Bool)
    }

    /// The coordinator's rate schedule, which the node's source waits for (``NodeRateAgreement``).
    enum ScheduleWait: Equatable {
        /// None has arrived since the node started. Welcomed, it is asked for at `nextRequestAt` (nil while not
        /// welcomed: the hellos ask for it); `requests`: times asked for since the first welcome.
        case awaiting(nextRequestAt: Instant?, requests: Int)
        /// A schedule has been applied; the coordinator sends later ones until the node confirms them.
        case received
    }

    /// What the socket thread does.
    enum Action: Equatable {
        case sendHello
        /// Ask for the rate schedule again: a hello, answered with a welcome (ignored) and the schedule.
        case requestSchedule
        /// A heartbeat carrying the last sequence spooled and the source's link time.
        case sendHeartbeat
        /// Forget what is in flight and send the spool again from its oldest batch (the coordinator deduplicates).
        case resendFromOldest
        /// The coordinator holds every batch of this node's session through `throughSequence`: drop them.
        case trimSpool(throughSequence: UInt64)
        case requestHeralds(ClosedRange<UInt64>)
        /// Connected (welcomed) or not, for the monitor and the log.
        case connected(Bool)
        /// Leave the loop.
        case stop(drained: Bool)
    }

    /// How a herald counts.
    enum HeraldVerdict: Equatable {
        /// Newer than any held, or one that was missing.
        case new
        /// Held already (an answer to a repeated request).
        case repeated
    }

    /// Largest herald range asked for in one request (the coordinator answers at most this many at once).
    static let heraldRequestLimit: UInt64 = 10_000
    /// At most this many herald requests go out at once (the rest after the next status).
    static let heraldRequestsPerRound = 8

    let helloIntervalNs: Int64 = 1_000_000_000
    let heartbeatIntervalNs: Int64
    let coordinatorTimeoutNs: Int64
    private(set) var state: State
    private(set) var nextHeartbeatAt: Instant
    /// The heralds held (in the node's log) and those known to be missing.
    private(set) var heralds: SequenceTracker
    /// Whether the rate schedule has arrived, and when to ask for it again.
    private(set) var schedule = ScheduleWait.awaiting(nextRequestAt: nil, requests: 0)

    /// - Parameter heralds: the herald log as resumed from the spool (highest held, holes below it).
    init(now: Instant, heartbeatIntervalMs: Int, coordinatorTimeoutMs: Int, heralds: SequenceTracker) {
        heartbeatIntervalNs = Int64(heartbeatIntervalMs) * 1_000_000
        coordinatorTimeoutNs = Int64(coordinatorTimeoutMs) * 1_000_000
        state = .connecting(nextHelloAt: now)
        nextHeartbeatAt = now
        self.heralds = heralds
    }

    /// Whether batches may go out (welcomed, possibly draining).
    var isIntroduced: Bool {
        switch state {
        case .syncing, .streaming, .draining(.introduced, _, _): return true
        case .connecting, .draining(.connecting, _, _), .stopped: return false
        }
    }

    var isStopped: Bool {
        guard case .stopped = state else { return false }
        return true
    }

    /// The link sub-state of the current state.
    private var link: Link? {
        switch state {
        case .connecting(let next): return .connecting(nextHelloAt: next)
        case .syncing(let heard), .streaming(let heard): return .introduced(lastHeardAt: heard)
        case .draining(let link, _, _): return link
        case .stopped: return nil
        }
    }

    /// Moves to `link`, keeping a drain in progress.
    private mutating func enter(_ link: Link) {
        switch state {
        case .draining(_, let deadline, let mark): state = .draining(link: link, deadline: deadline, statusMark: mark)
        case .stopped: return
        default:
            switch link {
            case .connecting(let next): state = .connecting(nextHelloAt: next)
            case .introduced(let heard): state = heralds.missing.isEmpty ? .streaming(lastHeardAt: heard) : .syncing(lastHeardAt: heard)
            }
        }
    }

    // MARK: Events

    /// The timers: hello, heartbeat, coordinator silence, drain deadline.
    mutating func tick(now: Instant) -> [Action] {
        var actions: [Action] = []
        if case .draining(_, let deadline, _) = state, now >= deadline {
            state = .stopped(drained: false)
            return [.stop(drained: false)]
        }
        switch link {
        case .connecting(let next) where now >= next:
            actions.append(.sendHello)
            enter(.connecting(nextHelloAt: now.advanced(by: .nanoseconds(helloIntervalNs))))
        case .introduced(let heard) where now - heard > .nanoseconds(coordinatorTimeoutNs):
            actions += lost(now: now)
        default:
            break
        }
        if case .awaiting(let next?, let requests) = schedule, isIntroduced, now >= next {
            actions.append(.requestSchedule)
            schedule = .awaiting(nextRequestAt: now.advanced(by: .nanoseconds(helloIntervalNs)), requests: requests + 1)
        }
        if now >= nextHeartbeatAt, !isStopped {
            actions.append(.sendHeartbeat)
            nextHeartbeatAt = now.advanced(by: .nanoseconds(heartbeatIntervalNs))
        }
        return actions
    }

    /// Any message from the coordinator on the control connection.
    mutating func heard(now: Instant) {
        if case .introduced = link { enter(.introduced(lastHeardAt: now)) }
    }

    /// The coordinator's welcome. Repeated welcomes (answers to repeated hellos) change nothing.
    mutating func welcomed(_ welcome: Welcome, now: Instant) -> [Action] {
        guard case .connecting = link else { return [] }
        // Every herald decided so far concerns this node's qubits: those it does not hold are fetched.
        if welcome.nextHeraldSequence > 1 { heralds.observeHeartbeat(session: 0, lastSent: welcome.nextHeraldSequence - 1) }
        enter(.introduced(lastHeardAt: now))
        // The schedule follows the welcome; if it does not come within a hello interval it is asked for again.
        if case .awaiting(_, let requests) = schedule {
            schedule = .awaiting(nextRequestAt: now.advanced(by: .nanoseconds(helloIntervalNs)), requests: requests)
        }
        // A heartbeat goes out before any batch: it tells the coordinator how far this node's source has got.
        nextHeartbeatAt = now
        return [.trimSpool(throughSequence: welcome.lastAcceptedSequence), .resendFromOldest, .connected(true)] + heraldRequests()
    }

    /// The node applied a rate schedule: no more requests.
    mutating func scheduleReceived() {
        schedule = .received
    }

    /// The coordinator no longer knows this node (it restarted): introduce again.
    mutating func notIntroduced(now: Instant) -> [Action] {
        guard case .introduced = link else { return [] }
        return lost(now: now)
    }

    /// The coordinator asked for batches again (a gap or a corrupt payload).
    func resendRequested() -> [Action] { [.resendFromOldest] }

    /// A herald, broadcast or re-sent. - Returns: how it counts, and the requests for a gap it reveals.
    mutating func herald(sequence: UInt64) -> (HeraldVerdict, [Action]) {
        let verdict = heralds.observe(session: 0, sequence: sequence)
        let counted: HeraldVerdict
        var actions: [Action] = []
        switch verdict {
        case .first, .inOrder, .filled, .restarted: counted = .new
        case .duplicate: counted = .repeated
        case .gap(let missing):
            counted = .new
            if isIntroduced { actions = requests(for: [missing]) }
        }
        settleSync()
        return (counted, actions)
    }

    /// A status report announcing `heralds` decided so far: heralds lost at the tail (the PUB drops for slow or
    /// reconnecting subscribers) and every herald still missing are asked for.
    mutating func status(heralds announced: UInt64, statusesReceived: Int64) -> [Action] {
        heralds.observeHeartbeat(session: 0, lastSent: announced)
        settleSync()
        var actions = isIntroduced ? heraldRequests() : []
        if case .draining(_, _, let mark?) = state, statusesReceived > mark, heralds.missing.isEmpty {
            state = .stopped(drained: true)
            actions.append(.stop(drained: true))
        }
        return actions
    }

    /// A graceful stop: drain until `now + drainMs` (0: stop at once).
    mutating func stopRequested(now: Instant, drainMs: Int) -> [Action] {
        guard let link else { return [] }
        guard drainMs > 0 else {
            state = .stopped(drained: false)
            return [.stop(drained: false)]
        }
        if case .draining = state { return [] }
        state = .draining(link: link, deadline: now.advanced(by: .milliseconds(drainMs)), statusMark: nil)
        return []
    }

    /// While draining: the source finished and the spool is empty (everything acknowledged) after `statusesReceived`
    /// statuses; the drain ends with the next status once every herald it announces is held.
    mutating func outboxEmpty(statusesReceived: Int64) {
        if case .draining(let link, let deadline, nil) = state {
            state = .draining(link: link, deadline: deadline, statusMark: statusesReceived)
        }
    }

    // MARK: Transitions' helpers

    private mutating func lost(now: Instant) -> [Action] {
        enter(.connecting(nextHelloAt: now))
        if case .awaiting(_, let requests) = schedule { schedule = .awaiting(nextRequestAt: nil, requests: requests) }
        return [.resendFromOldest, .connected(false)]
    }

    /// syncing ⇄ streaming as the herald log becomes complete or a gap appears.
    private mutating func settleSync() {
        switch state {
        case .syncing(let heard) where heralds.missing.isEmpty: state = .streaming(lastHeardAt: heard)
        case .streaming(let heard) where !heralds.missing.isEmpty: state = .syncing(lastHeardAt: heard)
        default: break
        }
    }

    private func heraldRequests() -> [Action] {
        heralds.requests(limit: Self.heraldRequestLimit, count: Self.heraldRequestsPerRound).map { .requestHeralds($0) }
    }

    private func requests(for ranges: [ClosedRange<UInt64>]) -> [Action] {
        // A scratch tracker holding just `ranges`, to split them like every other request.
        let tracker = SequenceTracker(session: 0, lastSeen: ranges.last?.upperBound ?? 0, missing: ranges)
        return tracker.requests(limit: Self.heraldRequestLimit, count: Self.heraldRequestsPerRound).map { .requestHeralds($0) }
    }
}
