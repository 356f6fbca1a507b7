import Foundation
import Logging
import Messaging

/// A client socket with a monitor, so a refusal by the server's ZAP handler stops the endless reconnects
/// and is reported. Owned by one thread, like any ``Socket``.
public final class SecureClient {
    /// The CURVE client socket; use it for sending and receiving.
    public let socket: Socket
    /// The verified server this socket is pinned to.
    public let server: VerifiedIdentity
    private let monitor: SocketMonitor
    private let logger: Logger
    /// Whether a handshake has succeeded since the last connect.
    public private(set) var isAuthenticated = false

    init(socket: Socket, server: VerifiedIdentity, context: ZMQContext, logger: Logger) throws {
        self.socket = socket
        self.server = server
        self.logger = logger
        monitor = try SocketMonitor(socket, context: context)
    }

    /// Connects to `endpoint`.
    public func connect(_ endpoint: String) throws {
        do { try socket.connect(endpoint) } catch {
            throw SecurityError(.invalidArgument, "cannot connect to \(endpoint): \(error)")
        }
    }

    /// Reads pending connection events, waiting up to `timeoutMs` for a handshake to finish when not
    /// authenticated. Returns whether the socket is authenticated now; false if still waiting. Call it
    /// regularly (e.g. in the send loop) so disconnects and refusals are noticed. When the server refuses this client
    /// (ZAP status 400), the socket is closed and a ``SecurityError`` says so: it does not retry.
    @discardableResult
    public func checkHandshake(timeoutMs: Int32) throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(max(0, timeoutMs)))
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            let remainingMs = isAuthenticated ? 0 : Int32(max(0, remaining.components.seconds * 1000
                + remaining.components.attoseconds / 1_000_000_000_000_000))
            let event: MonitorEvent?
            do { event = try monitor.next(timeoutMs: remainingMs) } catch {
                throw SecurityError(.authority, "the connection monitor failed: \(error)")
            }
            guard let event else { return isAuthenticated }
            switch event.kind {
            case .handshakeSucceeded:
                isAuthenticated = true
                logger.info("secure.connected", metadata: ["secure.server": "\(server.name)", "secure.endpoint": "\(event.endpoint)"])
            case .handshakeFailedAuth:
                socket.close()
                logger.error("secure.refused_by_server", metadata: ["secure.server": "\(server.name)",
                                                                     "secure.zap_status": "\(event.value)"])
                throw SecurityError(.verification,
                                    "\(server.name) at \(event.endpoint) refused this node's certificate (ZAP status \(event.value)); not retrying",
                                    hint: "check it with `qlink certs verify`; the coordinator's log names the reason")
            case .handshakeFailedProtocol, .handshakeFailedNoDetail:
                logger.warning("secure.handshake_failed", metadata: ["secure.server": "\(server.name)", "secure.event": "\(event)"])
            case .disconnected:
                isAuthenticated = false
            default:
                break
            }
        }
    }
}
