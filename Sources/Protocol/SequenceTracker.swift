/// What one incoming sequence number means for a sender's stream.
public enum SequenceVerdict: Sendable, Equatable {
    /// The next expected number.
    case inOrder
    /// Numbers `missing` were skipped (lost or not yet sent).
    case gap(missing: ClosedRange<UInt64>)
    /// A number skipped earlier arrived late: it is no longer missing.
    case filled
    /// Already seen.
    case duplicate
    /// The sender has a new session id: it restarted. The stream starts again at this number.
    case restarted(previousSession: UInt64)
    /// The first message seen from this sender.
    case first
}

/// Receiver bookkeeping for one sender's numbered stream: in order, gap, late arrival of a missing number,
/// duplicate, or restarted (new session id). The numbers skipped and not received since are kept as ranges
/// (``missing``), so a receiver knows at every moment exactly what to ask for again.
///
/// Two receivers use it: the coordinator for each node's tag batches (strictly in order: ``accept(session:sequence:)``
/// never moves past a gap, the node resends from the first missing number), and a node for the heralds
/// (``observe(session:sequence:)`` records gaps and fills them as re-requested heralds arrive). Heartbeats and
/// status reports carry the sender's last number, so loss at the tail of a stream shows up through
/// ``observeHeartbeat(session:lastSent:)`` as a gap.
public struct SequenceTracker: Sendable, Equatable {
    /// The sender's current session id, once seen.
    public private(set) var session: UInt64?
    /// The highest sequence number seen (or announced) in the current session (0: none).
    public private(set) var lastSeen: UInt64 = 0
    /// Numbers skipped and not received since: disjoint, in increasing order, all below or at ``lastSeen``.
    public private(set) var missing: [ClosedRange<UInt64>] = []
    /// Counters over the tracker's life.
    public private(set) var inOrderCount: Int64 = 0
    public private(set) var gapCount: Int64 = 0
    public private(set) var missingCount: Int64 = 0
    public private(set) var filledCount: Int64 = 0
    public private(set) var duplicateCount: Int64 = 0
    public private(set) var restartCount: Int64 = 0

    public init() {}

    /// A tracker resumed from durable state: `session`, the highest number held and the numbers below it not held.
    public init(session: UInt64?, lastSeen: UInt64, missing: [ClosedRange<UInt64>] = []) {
        self.session = session
        self.lastSeen = lastSeen
        for range in missing.sorted(by: { $0.lowerBound < $1.lowerBound }) where range.upperBound <= lastSeen { add(range) }
    }

    /// How many numbers are missing right now.
    public var missingNow: UInt64 { missing.reduce(0) { $0 + UInt64($1.count) } }

    /// Records a message `sequence` from `session` and says what it means (gaps are remembered in ``missing``).
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
            missing.removeAll()
            restartCount += 1
            return .restarted(previousSession: current)
        }
        if sequence == lastSeen &+ 1 {
            lastSeen = sequence
            inOrderCount += 1
            return .inOrder
        }
        if sequence <= lastSeen {
            if remove(sequence) {
                filledCount += 1
                return .filled
            }
            duplicateCount += 1
            return .duplicate
        }
        let gap = (lastSeen + 1)...(sequence - 1)
        recordGap(gap)
        lastSeen = sequence
        return .gap(missing: gap)
    }

    /// Records a message for a receiver that takes a stream strictly in order: only the next number (or the
    /// first of a new session) advances it; a later number is a gap that is *not* skipped (the sender resends
    /// from `lastSeen + 1`), an earlier one a duplicate.
    public mutating func accept(session: UInt64, sequence: UInt64) -> SequenceVerdict {
        if self.session != session || sequence <= lastSeen || sequence == lastSeen &+ 1 {
            let verdict = observe(session: session, sequence: sequence)
            return verdict
        }
        gapCount += 1
        missingCount += Int64(sequence - lastSeen - 1)
        return .gap(missing: (lastSeen + 1)...(sequence - 1))
    }

    /// Records a heartbeat or status saying that `lastSent` was the sender's last number.
    /// - Returns: the numbers never received, if any (also added to ``missing``).
    @discardableResult
    public mutating func observeHeartbeat(session: UInt64, lastSent: UInt64) -> ClosedRange<UInt64>? {
        if self.session == nil { self.session = session }
        guard self.session == session, lastSent > lastSeen else { return nil }
        let gap = (lastSeen + 1)...lastSent
        recordGap(gap)
        lastSeen = lastSent
        return gap
    }

    /// The missing numbers as requests of at most `limit` numbers each, lowest first, at most `count` of them.
    public func requests(limit: UInt64, count: Int = .max) -> [ClosedRange<UInt64>] {
        var result: [ClosedRange<UInt64>] = []
        for range in missing {
            var first = range.lowerBound
            while first <= range.upperBound, result.count < count {
                let last = range.upperBound - first >= limit ? first + limit - 1 : range.upperBound
                result.append(first...last)
                if last == range.upperBound { break }
                first = last + 1
            }
            if result.count >= count { break }
        }
        return result
    }

    private mutating func recordGap(_ gap: ClosedRange<UInt64>) {
        gapCount += 1
        missingCount += Int64(gap.count)
        add(gap)
    }

    /// Appends `range` (above every range held, or merged into the last one).
    private mutating func add(_ range: ClosedRange<UInt64>) {
        if let last = missing.last, last.upperBound &+ 1 >= range.lowerBound {
            missing[missing.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
        } else {
            missing.append(range)
        }
    }

    /// Removes `sequence` from ``missing``. - Returns: whether it was missing.
    private mutating func remove(_ sequence: UInt64) -> Bool {
        // Binary search for the range holding `sequence`.
        var low = 0, high = missing.count
        while low < high {
            let mid = (low + high) / 2
            if missing[mid].upperBound < sequence { low = mid + 1 } else { high = mid }
        }
        guard low < missing.count, missing[low].contains(sequence) else { return false }
        let range = missing[low]
        var replacement: [ClosedRange<UInt64>] = []
        if range.lowerBound < sequence { replacement.append(range.lowerBound...(sequence - 1)) }
        if sequence < range.upperBound { replacement.append((sequence + 1)...range.upperBound) }
        missing.replaceSubrange(low...low, with: replacement)
        return true
    }
}
