/// What one incoming sequence number means for a sender's stream.
public enum SequenceVerdict: Sendable, Equatable {
    /// The next expected number.
    case inOrder
    /// Numbers `missing` were skipped (lost or not yet sent).
    case gap(missing: ClosedRange<UInt64>)
    /// Already seen.
    case duplicate
    /// The sender has a new session id: it restarted. The stream starts again at this number.
    case restarted(previousSession: UInt64)
    /// The first message seen from this sender.
    case first
}

/// Receiver bookkeeping for one sender: in order, gap, duplicate, or restarted (new session id).
///
/// Heartbeats carry the last sequence number sent, so loss at the tail of a stream shows up through
/// ``observeHeartbeat(session:lastSent:)`` as a gap.
public struct SequenceTracker: Sendable, Equatable {
    /// The sender's current session id, once seen.
    public private(set) var session: UInt64?
    /// The highest sequence number seen in the current session (0: none).
    public private(set) var lastSeen: UInt64 = 0
    /// Counters over the tracker's life.
    public private(set) var inOrderCount: Int64 = 0
    public private(set) var gapCount: Int64 = 0
    public private(set) var missingCount: Int64 = 0
    public private(set) var duplicateCount: Int64 = 0
    public private(set) var restartCount: Int64 = 0

    public init() {}

    /// Records a message `sequence` from `session` and says what it means.
    public mutating func observe(session: UInt64, sequence: UInt64) -> SequenceVerdict {
        guard let current = self.session else {
            self.session = session
            lastSeen = sequence
            inOrderCount += 1
            return .first
        }
        if current != session {
            self.session = session
            lastSeen = sequence
            restartCount += 1
            return .restarted(previousSession: current)
        }
        if sequence == lastSeen &+ 1 {
            lastSeen = sequence
            inOrderCount += 1
            return .inOrder
        }
        if sequence <= lastSeen {
            duplicateCount += 1
            return .duplicate
        }
        let missing = (lastSeen + 1)...(sequence - 1)
        gapCount += 1
        missingCount += Int64(missing.count)
        lastSeen = sequence
        return .gap(missing: missing)
    }

    /// Records a heartbeat that says `lastSent` was the sender's last number.
    /// - Returns: the numbers never received, if any.
    public mutating func observeHeartbeat(session: UInt64, lastSent: UInt64) -> ClosedRange<UInt64>? {
        guard self.session == session, lastSent > lastSeen else { return nil }
        let missing = (lastSeen + 1)...lastSent
        gapCount += 1
        missingCount += Int64(missing.count)
        lastSeen = lastSent
        return missing
    }
}
