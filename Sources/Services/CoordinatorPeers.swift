import Protocol

/// One node's stream of tag batches: the node and the session (its spool's, the same across node restarts).
struct BatchStream: Hashable {
    var node: String
    var session: UInt64
}

/// The coordinator's per-connection protocol state as a state machine without sockets, and each node's batch
/// sequencing (one ``SequenceTracker`` per ``BatchStream``, taken strictly in order).
///
/// ```
///   (unknown) ── hello admitted ──▶ introduced(node, lab, session)
///   introduced ── hello admitted ──▶ introduced (the node said hello again: a new connection or a restart)
///   (unknown) / introduced ── hello refused ──▶ refused(reason)
///   refused ── hello admitted ──▶ introduced
///   (unknown) / refused: tag batches and herald requests are answered "not introduced" (the node says hello again)
/// ```
/// A batch from an introduced peer is judged against its stream: sequence 0 is invalid, the next sequence is
/// accepted, an earlier one is a duplicate (acknowledged again), a later one a gap (resend from the next expected).
struct CoordinatorPeers {
    struct Peer: Equatable {
        var node: String
        var lab: String
        var labIndex: Int
        var session: UInt64
    }

    enum State: Equatable {
        case introduced(Peer)
        case refused(ClaimRefusal)
    }

    /// What to do with one tag batch.
    enum BatchVerdict: Equatable {
        case accept
        /// Already journaled: acknowledged as a duplicate (the acknowledgement was lost).
        case duplicate
        /// Batches before it are missing: the node resends from `resendFrom`.
        case gap(resendFrom: UInt64)
        /// Not a batch sequence (0): refused with an error.
        case invalid(String)
    }

    /// Connections by ZeroMQ routing id.
    private(set) var states: [[UInt8]: State] = [:]
    /// Each node session's batches journaled so far (loaded from the journal on first use).
    private var streams: [BatchStream: SequenceTracker] = [:]

    /// The introduced peers by routing id.
    var introduced: [[UInt8]: Peer] {
        states.compactMapValues { state -> Peer? in
            guard case .introduced(let peer) = state else { return nil }
            return peer
        }
    }

    func peer(_ id: [UInt8]) -> Peer? {
        guard case .introduced(let peer)? = states[id] else { return nil }
        return peer
    }

    mutating func admit(_ id: [UInt8], as peer: Peer) {
        states[id] = .introduced(peer)
    }

    mutating func refuse(_ id: [UInt8], _ refusal: ClaimRefusal) {
        states[id] = .refused(refusal)
    }

    /// Whether the stream's tracker is loaded.
    func knows(_ stream: BatchStream) -> Bool { streams[stream] != nil }

    /// Loads a stream's tracker from the journal's last sequence.
    mutating func load(_ stream: BatchStream, lastJournaled: UInt64) {
        streams[stream] = SequenceTracker(session: stream.session, lastSeen: lastJournaled)
    }

    /// The highest sequence accepted in `stream` (the welcome's `lastAcceptedSequence`).
    func lastAccepted(_ stream: BatchStream) -> UInt64 { streams[stream]?.lastSeen ?? 0 }

    /// Judges batch `sequence` of `stream` (which must be loaded); an accepted batch advances the stream.
    mutating func judge(_ stream: BatchStream, sequence: UInt64) -> BatchVerdict {
        guard sequence > 0 else { return .invalid("tag batch sequence 0: sequences start at 1") }
        var tracker = streams[stream] ?? SequenceTracker(session: stream.session, lastSeen: 0)
        defer { streams[stream] = tracker }
        switch tracker.accept(session: stream.session, sequence: sequence) {
        case .inOrder, .first, .restarted: return .accept
        case .duplicate, .filled: return .duplicate
        case .gap(let missing): return .gap(resendFrom: missing.lowerBound)
        }
    }
}
