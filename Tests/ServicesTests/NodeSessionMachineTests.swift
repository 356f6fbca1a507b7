import Protocol
@testable import Services
import Testing

/// The node's and the coordinator's protocol state machines, driven without sockets or clocks.
@Suite("Session state machines")
struct NodeSessionMachineTests {
    let t0 = ContinuousClock.now
    func at(_ ms: Int) -> ContinuousClock.Instant { t0.advanced(by: .milliseconds(ms)) }

    func machine(heralds: SequenceTracker = SequenceTracker(session: 0, lastSeen: 0)) -> NodeSessionMachine {
        NodeSessionMachine(now: t0, heartbeatIntervalMs: 1000, coordinatorTimeoutMs: 3000, heralds: heralds)
    }

    @Test func connectingSaysHelloEverySecondUntilWelcomed() {
        var node = machine()
        #expect(node.tick(now: at(0)) == [.sendHello, .sendHeartbeat])
        #expect(node.tick(now: at(500)).isEmpty)
        #expect(node.tick(now: at(1000)) == [.sendHello, .sendHeartbeat])
        #expect(!node.isIntroduced)
        let actions = node.welcomed(Welcome(lastAcceptedSequence: 7, credit: 4, nextHeraldSequence: 1, runId: 1), now: at(1100))
        #expect(actions == [.trimSpool(throughSequence: 7), .resendFromOldest, .connected(true)])
        #expect(node.state == .streaming(lastHeardAt: at(1100)))
        // A repeated welcome changes nothing; the heartbeat goes out at once, before any batch.
        #expect(node.welcomed(Welcome(lastAcceptedSequence: 9, credit: 4, nextHeraldSequence: 1, runId: 1), now: at(1150)).isEmpty)
        #expect(node.tick(now: at(1200)) == [.sendHeartbeat])
    }

    @Test func silenceOrNotIntroducedGoesBackToConnecting() {
        var node = machine()
        _ = node.tick(now: at(0))
        _ = node.welcomed(Welcome(lastAcceptedSequence: 0, credit: 4, nextHeraldSequence: 1, runId: 1), now: at(10))
        node.scheduleReceived()
        node.heard(now: at(2000))
        #expect(node.tick(now: at(4000)) == [.sendHeartbeat])
        #expect(node.tick(now: at(5001)) == [.resendFromOldest, .connected(false), .sendHeartbeat])
        #expect(node.state == .connecting(nextHelloAt: at(5001)))
        #expect(node.tick(now: at(5002)) == [.sendHello])
        _ = node.welcomed(Welcome(lastAcceptedSequence: 0, credit: 4, nextHeraldSequence: 1, runId: 1), now: at(5100))
        #expect(node.notIntroduced(now: at(5200)) == [.resendFromOldest, .connected(false)])
        #expect(node.notIntroduced(now: at(5300)).isEmpty)
    }

    @Test func aWelcomedNodeAsksForTheRateScheduleEverySecondUntilItArrives() {
        var node = machine()
        _ = node.tick(now: at(0))
        // Not welcomed: the hellos ask for it; no separate request.
        #expect(node.tick(now: at(1000)) == [.sendHello, .sendHeartbeat])
        _ = node.welcomed(Welcome(lastAcceptedSequence: 0, credit: 4, nextHeraldSequence: 1, runId: 1), now: at(1100))
        #expect(node.schedule == .awaiting(nextRequestAt: at(2100), requests: 0))
        node.heard(now: at(1500))
        #expect(node.tick(now: at(1500)) == [.sendHeartbeat])
        #expect(node.tick(now: at(2100)) == [.requestSchedule])
        node.heard(now: at(2600))
        #expect(node.tick(now: at(3100)) == [.requestSchedule, .sendHeartbeat])
        #expect(node.schedule == .awaiting(nextRequestAt: at(4100), requests: 2))
        // Lost meanwhile: no requests until welcomed again, then a second after the welcome.
        #expect(node.tick(now: at(5700)) == [.resendFromOldest, .connected(false), .sendHeartbeat])
        #expect(node.schedule == .awaiting(nextRequestAt: nil, requests: 2))
        _ = node.welcomed(Welcome(lastAcceptedSequence: 0, credit: 4, nextHeraldSequence: 1, runId: 1), now: at(5800))
        node.scheduleReceived()
        #expect(node.tick(now: at(6800)) == [.sendHeartbeat])
        #expect(node.schedule == .received)
    }

    @Test func restartedNodeFetchesEveryHeraldItMissedInBoundedRequests() {
        // The log holds 1…100 without 40…49; the coordinator has decided 25 000.
        var node = machine(heralds: SequenceTracker(session: 0, lastSeen: 100, missing: [40...49]))
        _ = node.tick(now: at(0))
        // Heralds broadcast before the welcome are logged; their gaps wait for the introduction.
        #expect(node.herald(sequence: 24_999) == (.new, []))
        let actions = node.welcomed(Welcome(lastAcceptedSequence: 0, credit: 4, nextHeraldSequence: 25_001, runId: 1), now: at(10))
        #expect(actions.filter { if case .requestHeralds = $0 { true } else { false } }
                == [.requestHeralds(40...49), .requestHeralds(101...10_100), .requestHeralds(10_101...20_100),
                    .requestHeralds(20_101...24_998), .requestHeralds(25_000...25_000)])
        #expect(node.state == .syncing(lastHeardAt: at(10)))
        for sequence in UInt64(40)...49 { _ = node.herald(sequence: sequence) }
        for sequence in UInt64(101)...24_998 { _ = node.herald(sequence: sequence) }
        #expect(node.herald(sequence: 45) == (.repeated, []))
        #expect(node.state == .syncing(lastHeardAt: at(10)))
        #expect(node.herald(sequence: 25_000) == (.new, []))
        #expect(node.state == .streaming(lastHeardAt: at(10)))
        #expect(node.heralds.missingNow == 0)
        // A status announcing more than the node holds: missing again, asked for.
        #expect(node.status(heralds: 25_003, statusesReceived: 1) == [.requestHeralds(25_001...25_003)])
        #expect(node.heralds.missingNow == 3)
        #expect(node.state == .syncing(lastHeardAt: at(10)))
    }

    @Test func drainEndsAfterALaterStatusWithTheLogCompleteOrAtTheDeadline() {
        var node = machine()
        _ = node.tick(now: at(0))
        _ = node.welcomed(Welcome(lastAcceptedSequence: 0, credit: 4, nextHeraldSequence: 3, runId: 1), now: at(10))
        #expect(node.stopRequested(now: at(20), drainMs: 5000).isEmpty)
        node.outboxEmpty(statusesReceived: 4)
        // Heralds 1 and 2 are still missing: a later status does not end the drain.
        #expect(node.status(heralds: 2, statusesReceived: 5) == [.requestHeralds(1...2)])
        _ = node.herald(sequence: 1)
        _ = node.herald(sequence: 2)
        #expect(node.status(heralds: 2, statusesReceived: 6) == [.stop(drained: true)])
        #expect(node.state == .stopped(drained: true))

        var late = machine()
        _ = late.stopRequested(now: at(0), drainMs: 100)
        #expect(late.tick(now: at(50)) == [.sendHello, .sendHeartbeat])
        #expect(late.tick(now: at(100)) == [.stop(drained: false)])
    }

    @Test func coordinatorJudgesBatchesPerNodeSession() {
        var peers = CoordinatorPeers()
        let stream = BatchStream(node: "alice-node", session: 9)
        peers.load(stream, lastJournaled: 4)
        #expect(peers.judge(stream, sequence: 0) == .invalid("tag batch sequence 0: sequences start at 1"))
        #expect(peers.judge(stream, sequence: 3) == .duplicate)
        #expect(peers.judge(stream, sequence: 7) == .gap(resendFrom: 5))
        #expect(peers.judge(stream, sequence: 5) == .accept)
        #expect(peers.lastAccepted(stream) == 5)
        let peer = CoordinatorPeers.Peer(node: "alice-node", lab: "alice", labIndex: 0, session: 9)
        peers.admit([1], as: peer)
        #expect(peers.peer([1]) == peer)
        peers.refuse([1], .wrongLab)
        #expect(peers.peer([1]) == nil)
        #expect(peers.states[[1]] == .refused(.wrongLab))
    }
}
