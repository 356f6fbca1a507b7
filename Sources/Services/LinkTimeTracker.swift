import Messaging
import Protocol

/// The coordinator's view of how far the link has got: the latest event time (a batch's first tag) of the tag
/// batches received on the ROUTER, read from the header frame alone. Repetition-rate changes are scheduled a
/// lead ahead of it so that every lab applies them at the same link time.
struct LinkTimeTracker {
    /// The latest batch time seen, in ps (0 before any batch).
    private(set) var latestPs: Int64 = 0

    /// Notes a ROUTER message (routing id, header, payload); anything that is not a well-formed tag-batch
    /// header is ignored here (the core rejects it).
    mutating func observe(_ message: Message) {
        guard message.count == 3, let header = FrameCodec.header(message.frames[1]), header.type == .tagBatch,
              header.itemCount > 0 else { return }
        latestPs = max(latestPs, header.eventTimePs)
    }
}
