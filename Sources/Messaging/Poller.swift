import CZeroMQ

/// What to wait for on a socket.
public struct PollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    /// A message can be received.
    public static let readable = PollEvents(rawValue: Int16(ZMQ_POLLIN))
    /// A message can be sent without blocking.
    public static let writable = PollEvents(rawValue: Int16(ZMQ_POLLOUT))
}

/// Waits on several sockets owned by the calling thread at once.
public enum Poller {
    /// Waits until one of `items` is ready or `timeoutMs` passes (-1: forever).
    /// - Returns: the ready events for each item, in the same order (empty sets on timeout).
    public static func poll(_ items: [(socket: Socket, events: PollEvents)], timeoutMs: Int) throws(ZMQError) -> [PollEvents] {
        var pollItems: [zmq_pollitem_t] = []
        pollItems.reserveCapacity(items.count)
        for item in items {
            let handle = try item.socket.open("zmq_poll")
            pollItems.append(zmq_pollitem_t(socket: handle, fd: -1, events: item.events.rawValue, revents: 0))
        }
        let count = Int32(pollItems.count)
        try retryingInterrupts("zmq_poll") {
            pollItems.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, count, timeoutMs) }
        }
        return pollItems.map { PollEvents(rawValue: $0.revents) }
    }
}
