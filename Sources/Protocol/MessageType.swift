/// The kinds of message QLink nodes and the coordinator exchange (byte 3 of the header).
public enum MessageType: UInt8, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// Node → coordinator: introduces the node (name, version, capabilities, session).
    case hello = 1
    /// Coordinator → node: accepts a hello; says what it already holds and grants credit.
    case welcome = 2
    /// Node → coordinator: a batch of time tags with sequence number and CRC32C.
    case tagBatch = 3
    /// Coordinator → node: a batch was journaled (or was a duplicate, or must be resent); grants credit.
    case acknowledgement = 4
    /// Either way: I am alive; the header's sequence is the last sequence number sent.
    case heartbeat = 5
    /// Coordinator → all (PUB) and → one node (resend): the outcome of one heralding attempt.
    case herald = 6
    /// Coordinator → all (PUB): rolling results (JSON).
    case status = 7
    /// Either way: a rejected message or a failure, with a code and text.
    case error = 8
    /// Node → coordinator: please resend heralds in a sequence range (the node saw a gap).
    case heraldRequest = 11
    /// Coordinator → node: phase one of a repetition-rate change (the node answers with `rateAnswer`).
    /// Types 9 and 10 (a one-shot rate request and its answer) are retired.
    case rateProposal = 12
    /// Node → coordinator: the earliest link time the node can apply a proposed change at, or why it cannot.
    case rateAnswer = 13
    /// Coordinator → node: a change is decided, with the link time it applies from.
    case rateCommit = 14
    /// Coordinator → node: a change will never apply.
    case rateAbort = 15
    /// Node → coordinator: what the node did with a decided change.
    case rateApplied = 16
    /// Coordinator → node: the rate schedule in force (after every welcome).
    case rateSchedule = 17

    public var description: String {
        switch self {
        case .hello: return "hello"
        case .welcome: return "welcome"
        case .tagBatch: return "tag-batch"
        case .acknowledgement: return "acknowledgement"
        case .heartbeat: return "heartbeat"
        case .herald: return "herald"
        case .status: return "status"
        case .error: return "error"
        case .heraldRequest: return "herald-request"
        case .rateProposal: return "rate-proposal"
        case .rateAnswer: return "rate-answer"
        case .rateCommit: return "rate-commit"
        case .rateAbort: return "rate-abort"
        case .rateApplied: return "rate-applied"
        case .rateSchedule: return "rate-schedule"
        }
    }
}
