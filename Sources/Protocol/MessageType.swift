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
    /// Coordinator → node: change the source repetition rate; the node answers with `controlAck`.
    case setRepetitionRate = 9
    /// Node → coordinator: the result of a control request.
    case controlAck = 10
    /// Node → coordinator: please resend heralds in a sequence range (the node saw a gap).
    case heraldRequest = 11

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
        case .setRepetitionRate: return "set-repetition-rate"
        case .controlAck: return "control-ack"
        case .heraldRequest: return "herald-request"
        }
    }
}
