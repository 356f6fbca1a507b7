import Foundation
import Logging
import Messaging
import Synchronization

/// The ZAP handler (ZeroMQ RFC 27) of one ZeroMQ context, on its own thread at `inproc://zeromq.zap.01`.
///
/// libzmq asks it about every handshake on a socket with a ZAP domain; it admits a CURVE client only if the
/// ``PeerAuthenticator`` finds a valid certificate with exactly the presented key. Start it before any
/// server socket binds, and keep it running while they exist: with `ZMQ_ZAP_ENFORCE_DOMAIN` set, no handler
/// means every client is refused.
public final class ZAPHandler: Sendable {
    /// The endpoint libzmq sends ZAP requests to.
    public static let endpoint = "inproc://zeromq.zap.01"
    /// The ZAP domain this handler answers for.
    public let domain: String
    /// The decision maker (also holds the refusal counters).
    public let authenticator: PeerAuthenticator
    private let thread: SocketThread

    /// Binds the handler in `context` and starts answering; returns once it is bound.
    public init(authenticator: PeerAuthenticator, domain: String, context: ZMQContext = .shared, logger: Logger) throws {
        self.domain = domain
        self.authenticator = authenticator
        let startup = StartupSignal()
        thread = SocketThread(name: "qlink-zap") { [authenticator, domain] thread in
            let socket: Socket
            do {
                socket = try Socket(.reply, context: context, lingerMs: 0)
                try socket.bind(ZAPHandler.endpoint)
                try socket.set(.receiveTimeout(milliseconds: 20))
            } catch {
                startup.finish(error: "\(error)")
                return
            }
            startup.finish(error: nil)
            logger.info("zap.started", metadata: ["zap.domain": "\(domain)"])
            while !thread.isStopRequested {
                do {
                    guard let message = try socket.receive() else { continue }
                    let frames = message.frames.map(\.bytes)
                    let reply: [[UInt8]]
                    if let request = ZAPRequest(frames: frames) {
                        reply = authenticator.reply(to: request, domain: domain).frames(requestID: request.requestID)
                    } else {
                        logger.error("zap.malformed_request", metadata: ["zap.frames": "\(frames.count)"])
                        reply = ZAPReply(statusCode: "500", statusText: "malformed request", userID: "", metadata: [])
                            .frames(requestID: frames.count > 1 ? frames[1] : [])
                    }
                    _ = try socket.send(Message(reply.map { Frame($0) }))
                } catch let error as ZMQError where error.isContextTerminated {
                    break
                } catch {
                    logger.error("zap.socket_error", metadata: ["zap.error": "\(error)"])
                }
            }
            socket.close()
            logger.info("zap.stopped", metadata: ["zap.domain": "\(domain)"])
        }
        if let error = startup.wait() {
            thread.join()
            throw SecurityError(.authority, "cannot start the ZAP handler at \(ZAPHandler.endpoint): \(error)",
                                hint: "only one ZAP handler may run per ZeroMQ context")
        }
    }

    /// Stops answering and waits for the thread to end. Servers in this context then refuse every client.
    public func stop() {
        thread.stop()
        thread.join()
    }
}

/// A one-shot signal from the handler thread that it is bound (or failed to bind).
final class StartupSignal: Sendable {
    private let state = Mutex<(done: Bool, error: String?)>((false, nil))
    private let condition = NSCondition()

    func finish(error: String?) {
        condition.lock()
        state.withLock { $0 = (true, error) }
        condition.broadcast()
        condition.unlock()
    }

    func wait() -> String? {
        condition.lock()
        defer { condition.unlock() }
        while !state.withLock({ $0.done }) { condition.wait() }
        return state.withLock { $0.error }
    }
}
