import Messaging
import Protocol

/// The coordinator's view of how far the link has got: the latest link time any node has reported on the
/// ROUTER, read from the header frame alone — a tag batch's event time (its first tag) and a node heartbeat's
/// (the link time its source has generated through, which on a loaded machine can be well past the batches
/// still waiting in its spool). Repetition-rate changes are scheduled a lead ahead of it so that every lab
/// can still apply them at the same link time.
struct LinkTimeTracker {
    /// The latest link time reported, in ps (0 before any).
    private(set) var latestPs: Int64 = 0

    /// Notes a ROUTER message (routing id, header, payload); anything that is not a well-formed tag-batch
    /// or heartbeat header is ignored here (the core rejects it).
    mutating func observe(_ message: Message) {
        guard message.count == 3, let header = FrameCodec.header(message.frames[1]) else { return }
        switch header.type {
        case .tagBatch where header.itemCount > 0, .heartbeat:
            latestPs = max(latestPs, header.eventTimePs)
        default:
            break
        }
    }
}
