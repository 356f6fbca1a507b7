import CZeroMQ

/// The ZeroMQ socket patterns QLink uses.
public enum SocketType: Sendable, CaseIterable, CustomStringConvertible {
    case pair, publisher, subscriber, request, reply, dealer, router, pull, push

    var rawValue: Int32 {
        switch self {
        case .pair: return ZMQ_PAIR
        case .publisher: return ZMQ_PUB
        case .subscriber: return ZMQ_SUB
        case .request: return ZMQ_REQ
        case .reply: return ZMQ_REP
        case .dealer: return ZMQ_DEALER
        case .router: return ZMQ_ROUTER
        case .pull: return ZMQ_PULL
        case .push: return ZMQ_PUSH
        }
    }

    public var description: String {
        switch self {
        case .pair: return "PAIR"
        case .publisher: return "PUB"
        case .subscriber: return "SUB"
        case .request: return "REQ"
        case .reply: return "REP"
        case .dealer: return "DEALER"
        case .router: return "ROUTER"
        case .pull: return "PULL"
        case .push: return "PUSH"
        }
    }
}
