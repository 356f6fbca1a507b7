/// The payloads of a repetition-rate change both labs agree on (message types 12–17, docs/protocol.md,
/// "Repetition-rate changes"): the coordinator proposes, each node answers with the earliest link time it can
/// apply the change at, the coordinator commits the latest of those plus a margin (or aborts), each node
/// confirms; the schedule in force goes to a node right after every welcome.

/// Coordinator → node: phase one of change `changeId`: could you run at `rateHz`? Fixed 16 bytes.
public struct RateProposal: Sendable, Hashable {
    /// The change's number, unique over the run (it continues across coordinator restarts).
    public var changeId: UInt64
    public var rateHz: Double
    public init(changeId: UInt64, rateHz: Double) {
        self.changeId = changeId
        self.rateHz = rateHz
    }
    static let size = 16
}

/// A node's verdict on a proposal.
public enum RateVerdict: UInt8, Sendable, Equatable, Codable {
    /// The node holds its source at `earliestPs` until it learns the change's fate and can apply it at any
    /// link time from there on.
    case ready = 1
    /// The node's source has no repetition rate (a file replay, a pipe): the change cannot be agreed.
    case noRate = 2
    /// The link cannot run at the proposed rate (e.g. Barrett–Kok rounds no longer fit the period).
    case invalidRate = 3
}

/// Node → coordinator: the answer to a proposal. Fixed 24 bytes.
public struct RateAnswer: Sendable, Hashable {
    public var changeId: UInt64
    /// The earliest link time the node can apply the change at, ps (``RateVerdict/ready``; else 0): how far its
    /// source has generated, where it now holds.
    public var earliestPs: Int64
    public var verdict: RateVerdict
    public init(changeId: UInt64, earliestPs: Int64, verdict: RateVerdict) {
        self.changeId = changeId
        self.earliestPs = earliestPs
        self.verdict = verdict
    }
    static let size = 24
}

/// Coordinator → node: phase two: change `changeId` is decided; from link time `atPs` on the link runs at
/// `rateHz`. Also one entry of ``RateScheduleInForce``. Fixed 24 bytes.
public struct RateCommit: Sendable, Hashable, Codable {
    public var changeId: UInt64
    /// The link time from which the new rate applies, ps (on a heralded link an attempt of the old grid).
    public var atPs: Int64
    public var rateHz: Double
    public init(changeId: UInt64, atPs: Int64, rateHz: Double) {
        self.changeId = changeId
        self.atPs = atPs
        self.rateHz = rateHz
    }
    static let size = 24
}

/// A wire code (raw values 1, 2, 3, …) named in logs and the journal by one word per case, in raw-value order.
public protocol WireWords: RawRepresentable, CustomStringConvertible where RawValue == UInt8 {
    /// The word of each case: `words[rawValue - 1]`.
    static var words: [String] { get }
}

extension WireWords {
    public var description: String { Self.words[Int(rawValue) - 1] }
}

/// Why a change was aborted.
public enum RateAbortReason: UInt8, Sendable, Equatable, Codable, WireWords {
    /// Not every lab's node answered before the deadline.
    case timeout = 1
    /// A node answered that it cannot apply the change.
    case refused = 2
    /// The coordinator restarted while the change was proposed (its journal had no decision).
    case coordinatorRestart = 3

    public static let words = ["timeout", "refused", "coordinator-restart"]
}

/// Coordinator → node: phase two: change `changeId` will never apply; the node releases its source. Fixed 16 bytes.
public struct RateAbort: Sendable, Hashable {
    public var changeId: UInt64
    public var reason: RateAbortReason
    public init(changeId: UInt64, reason: RateAbortReason) {
        self.changeId = changeId
        self.reason = reason
    }
    static let size = 16
}

/// What a node did with a decided change.
public enum RateOutcome: UInt8, Sendable, Equatable, Codable, WireWords {
    /// The source runs at the new rate from `effectivePs` on.
    case applied = 1
    /// The change was aborted; the source runs on at the old rate.
    case released = 2
    /// A committed change the source could not apply (it had generated past the commit time): the labs disagree.
    /// Never expected; the coordinator raises an error.
    case failed = 3

    public static let words = ["applied", "released", "failed"]
}

/// Node → coordinator: the confirmation of a decided change. Fixed 24 bytes.
public struct RateApplied: Sendable, Hashable {
    public var changeId: UInt64
    /// For ``RateOutcome/applied``: the link time the source switched at (the commit's time); else 0.
    public var effectivePs: Int64
    public var outcome: RateOutcome
    public init(changeId: UInt64, effectivePs: Int64, outcome: RateOutcome) {
        self.changeId = changeId
        self.effectivePs = effectivePs
        self.outcome = outcome
    }
    static let size = 24
}

/// Coordinator → node, right after every welcome (and again until the node confirms the latest decided change):
/// every committed change of the run in time order, the change still being proposed with its rate (id 0: none;
/// the node answers it as it answers a proposal) and the latest decided change (0: none). A change proposed to the
/// node earlier that is neither open nor committed was aborted. 32 bytes + 24 per change.
public struct RateScheduleInForce: Sendable, Equatable {
    public var openChangeId: UInt64
    /// The open change's rate (0 when none is open).
    public var openRateHz: Double
    public var lastDecidedChangeId: UInt64
    public var changes: [RateCommit]
    public init(openChangeId: UInt64 = 0, openRateHz: Double = 0, lastDecidedChangeId: UInt64 = 0, changes: [RateCommit] = []) {
        self.openChangeId = openChangeId
        self.openRateHz = openRateHz
        self.lastDecidedChangeId = lastDecidedChangeId
        self.changes = changes
    }
    static let fixedSize = 32
}

extension RateCommit {
    func write(to writer: inout ByteWriter) {
        writer.put(changeId)
        writer.put(atPs)
        writer.put(rateHz)
    }

    static func read(from reader: inout ByteReader) throws(ProtocolError) -> RateCommit {
        let id: UInt64 = try reader.read()
        let atPs: Int64 = try reader.read()
        let rate = try reader.readDouble()
        guard rate.isFinite, rate > 0 else { throw ProtocolError(.badPayload, "repetition rate \(rate) Hz is not a positive number") }
        return RateCommit(changeId: id, atPs: atPs, rateHz: rate)
    }
}

extension WireMessage.Body {
    /// The payload of a rate-change message (types 12–17); nil for other bodies.
    func ratePayloadBytes() -> [UInt8]? {
        var writer = ByteWriter()
        switch self {
        case .rateProposal(let proposal):
            writer.put(proposal.changeId)
            writer.put(proposal.rateHz)
        case .rateAnswer(let answer):
            writer.put(answer.changeId)
            writer.put(answer.earliestPs)
            writer.put(answer.verdict.rawValue)
            writer.put(bytes: [UInt8](repeating: 0, count: 7))
        case .rateCommit(let commit):
            commit.write(to: &writer)
        case .rateAbort(let abort):
            writer.put(abort.changeId)
            writer.put(abort.reason.rawValue)
            writer.put(bytes: [UInt8](repeating: 0, count: 7))
        case .rateApplied(let applied):
            writer.put(applied.changeId)
            writer.put(applied.effectivePs)
            writer.put(applied.outcome.rawValue)
            writer.put(bytes: [UInt8](repeating: 0, count: 7))
        case .rateSchedule(let schedule):
            writer.put(schedule.openChangeId)
            writer.put(schedule.openRateHz)
            writer.put(schedule.lastDecidedChangeId)
            writer.put(UInt32(truncatingIfNeeded: schedule.changes.count))
            writer.put(UInt32(0))
            for change in schedule.changes { change.write(to: &writer) }
        default:
            return nil
        }
        return writer.bytes
    }

    /// Decodes a rate-change payload (types 12–17); nil for other types.
    static func decodeRate(header: MessageHeader, payload: UnsafeRawBufferPointer) throws(ProtocolError) -> WireMessage.Body? {
        var reader = ByteReader(payload)
        switch header.type {
        case .rateProposal:
            try requireSize(payload, RateProposal.size, header.type)
            let id: UInt64 = try reader.read()
            let rate = try reader.readDouble()
            guard rate.isFinite, rate > 0 else { throw ProtocolError(.badPayload, "repetition rate \(rate) Hz is not a positive number") }
            return .rateProposal(RateProposal(changeId: id, rateHz: rate))
        case .rateAnswer:
            try requireSize(payload, RateAnswer.size, header.type)
            let id: UInt64 = try reader.read()
            let earliest: Int64 = try reader.read()
            let raw: UInt8 = try reader.read()
            _ = try reader.readBytes(7)
            guard let verdict = RateVerdict(rawValue: raw) else { throw ProtocolError(.badPayload, "rate verdict \(raw) is unknown") }
            return .rateAnswer(RateAnswer(changeId: id, earliestPs: earliest, verdict: verdict))
        case .rateCommit:
            try requireSize(payload, RateCommit.size, header.type)
            return .rateCommit(try RateCommit.read(from: &reader))
        case .rateAbort:
            try requireSize(payload, RateAbort.size, header.type)
            let id: UInt64 = try reader.read()
            let raw: UInt8 = try reader.read()
            _ = try reader.readBytes(7)
            guard let reason = RateAbortReason(rawValue: raw) else { throw ProtocolError(.badPayload, "rate abort reason \(raw) is unknown") }
            return .rateAbort(RateAbort(changeId: id, reason: reason))
        case .rateApplied:
            try requireSize(payload, RateApplied.size, header.type)
            let id: UInt64 = try reader.read()
            let effective: Int64 = try reader.read()
            let raw: UInt8 = try reader.read()
            _ = try reader.readBytes(7)
            guard let outcome = RateOutcome(rawValue: raw) else { throw ProtocolError(.badPayload, "rate outcome \(raw) is unknown") }
            return .rateApplied(RateApplied(changeId: id, effectivePs: effective, outcome: outcome))
        case .rateSchedule:
            guard payload.count >= RateScheduleInForce.fixedSize else {
                throw ProtocolError(.badLength, "\(header.type) payload has \(payload.count) bytes, needs at least \(RateScheduleInForce.fixedSize)")
            }
            let open: UInt64 = try reader.read()
            let openRate = try reader.readDouble()
            let decided: UInt64 = try reader.read()
            guard open == 0 || (openRate.isFinite && openRate > 0) else {
                throw ProtocolError(.badPayload, "open rate change \(open) has rate \(openRate) Hz, not a positive number")
            }
            let count: UInt32 = try reader.read()
            _ = try reader.read(UInt32.self)
            try requireSize(payload, RateScheduleInForce.fixedSize + Int(count) * RateCommit.size, header.type)
            var changes: [RateCommit] = []
            changes.reserveCapacity(Int(count))
            for _ in 0..<count { changes.append(try RateCommit.read(from: &reader)) }
            guard zip(changes, changes.dropFirst()).allSatisfy({ $0.atPs <= $1.atPs }) else {
                throw ProtocolError(.badPayload, "rate schedule changes are not in time order")
            }
            return .rateSchedule(RateScheduleInForce(openChangeId: open, openRateHz: openRate, lastDecidedChangeId: decided, changes: changes))
        default:
            return nil
        }
    }
}
