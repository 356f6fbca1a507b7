import CZeroMQ
import Foundation
import Logging
import Messaging
import OpenSSLKit

/// This process's own certificate and the CURVE keys it certifies.
public struct LocalIdentity: Sendable {
    /// The certificate (its subject key is ``keys``' public key).
    public let certificate: X509Certificate
    /// The CURVE key pair from the 0600 key file.
    public let keys: CurveKeys

    /// Loads the certificate and key and checks that the key is the one the certificate carries.
    public init(certificatePath: String, keyPath: String) throws {
        let certificate = try wrap {
            try X509Certificate(pem: try TextFile.read(certificatePath, what: "certificate"), context: certificatePath)
        }
        let keys = try KeyFile.loadCurveKeys(path: keyPath)
        guard (try? certificate.publicKey().rawPublicKey()) == keys.publicKey else {
            throw SecurityError(.verification, "\(keyPath) does not hold the key certified by \(certificatePath)",
                                hint: "use the key file written together with the certificate by `qlink certs issue`")
        }
        self.certificate = certificate
        self.keys = keys
    }

    /// Loads as above and also verifies the certificate for `role` with `policy`, so a process does not
    /// start with a certificate its peers will refuse.
    public init(certificatePath: String, keyPath: String, role: NodeRole, policy: TrustPolicy) throws {
        try self.init(certificatePath: certificatePath, keyPath: keyPath)
        do {
            _ = try policy.verify(certificate, role: role)
        } catch let failure as VerificationFailure {
            throw SecurityError(.verification, "own certificate \(certificatePath) is refused (\(failure))",
                                hint: "issue a new one with `qlink certs issue`")
        }
    }
}

/// Factories for QLink's authenticated sockets: every socket uses CURVE, every server enforces ZAP.
public enum SecureSockets {
    /// A CURVE server socket whose clients are admitted by `zap` (ZAP domain set and enforced).
    /// Bind it after creating it; the ZAP handler is already running. ZMTP heartbeats every `heartbeatMs`
    /// drop dead connections after three missed beats.
    public static func server(_ type: SocketType, identity: LocalIdentity, zap: ZAPHandler,
                              context: ZMQContext = .shared, lingerMs: Int32 = 0, heartbeatMs: Int32 = 1000) throws -> Socket {
        do {
            let socket = try Socket(type, context: context, lingerMs: lingerMs)
            try socket.set([
                .zapDomain(zap.domain), .zapEnforceDomain(true), .curveServer(true),
                .curvePublicKey(identity.keys.publicKey), .curveSecretKey(identity.keys.secretKey.bytes),
                .heartbeatInterval(milliseconds: heartbeatMs), .heartbeatTimeout(milliseconds: 3 * heartbeatMs),
            ])
            return socket
        } catch {
            throw SecurityError(.authority, "cannot create a secure \(type) server socket: \(error)")
        }
    }

    /// A CURVE client socket that talks only to the holder of `serverCertificate`, after verifying that
    /// certificate (lab CA, validity, CRL, coordinator role) with `policy`. ZMTP heartbeats every
    /// `heartbeatMs` detect a session that died (for instance after a corrupted frame: libzmq 4.3.4 keeps
    /// such a TCP connection open but delivers nothing more), so the socket reconnects.
    public static func client(_ type: SocketType, identity: LocalIdentity, serverCertificate: X509Certificate,
                              policy: TrustPolicy, context: ZMQContext = .shared, lingerMs: Int32 = 0,
                              heartbeatMs: Int32 = 1000, logger: Logger) throws -> SecureClient {
        let server: VerifiedIdentity
        do {
            server = try policy.verify(serverCertificate, role: .coordinator)
        } catch let failure as VerificationFailure {
            logger.error("secure.server_certificate_refused", metadata: ["auth.reason": "\(failure.reason.rawValue)",
                                                                          "auth.detail": "\(failure.detail)"])
            throw SecurityError(.verification, "the server certificate is refused (\(failure))",
                                hint: "check it with `qlink certs verify FILE --role coordinator`")
        }
        do {
            let socket = try Socket(type, context: context, lingerMs: lingerMs)
            try socket.set([
                .curveServerKey(server.curvePublicKey), .curvePublicKey(identity.keys.publicKey),
                .curveSecretKey(identity.keys.secretKey.bytes),
                .heartbeatInterval(milliseconds: heartbeatMs), .heartbeatTimeout(milliseconds: 3 * heartbeatMs),
            ])
            return try SecureClient(socket: socket, server: server, context: context, logger: logger)
        } catch let error as SecurityError {
            throw error
        } catch {
            throw SecurityError(.authority, "cannot create a secure \(type) client socket: \(error)")
        }
    }
}

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

/// Who sent a message on a secure server socket, from the ZAP User-Id and serial metadata.
public struct AuthenticatedSender: Sendable, Equatable {
    /// The certificate's common name.
    public var name: String
    /// The certificate's serial (hexadecimal).
    public var serial: String
}

extension PeerAuthenticator {
    /// The authenticated sender of `message` as received on a secure server socket, re-checked against the
    /// current CRL; a failure (revoked since the handshake, expired CRL, missing properties) is counted and
    /// logged, and the message must be dropped.
    public func sender(of message: Message) -> Result<AuthenticatedSender, VerificationFailure> {
        guard let frame = message.frames.last, let name = frame.property("User-Id"), !name.isEmpty,
              let serial = frame.property(ZAPProperty.serial) else {
            let failure = VerificationFailure(.unknownKey, "a message without ZAP identity")
            record(failure)
            return .failure(failure)
        }
        guard isStillTrusted(serial: serial) else {
            let expired = crlHasExpired()
            let failure = VerificationFailure(expired ? .crlExpired : .revoked, "message from \(name) serial \(serial) dropped")
            record(failure)
            return .failure(failure)
        }
        return .success(AuthenticatedSender(name: name, serial: serial))
    }
}

/// Counts the handshakes a secure server refused before asking ZAP (NULL clients, wrong keys), from the
/// server socket's monitor. Owned by the thread that owns the server socket.
public final class HandshakeWatcher {
    private let monitor: SocketMonitor
    private let authenticator: PeerAuthenticator

    /// Watches `server` (create it right after the socket, on the owning thread).
    public init(server: Socket, authenticator: PeerAuthenticator, context: ZMQContext = .shared) throws {
        do { monitor = try SocketMonitor(server, context: context) } catch {
            throw SecurityError(.authority, "cannot monitor the server socket: \(error)")
        }
        self.authenticator = authenticator
    }

    /// Reads connection events for up to `timeoutMs` or until a refusal is seen, then whatever else is
    /// already queued, and records the refusals. Returns how many were recorded.
    @discardableResult
    public func drain(timeoutMs: Int32 = 0) -> Int {
        var recorded = 0
        let deadline = ContinuousClock.now + .milliseconds(Int(max(0, timeoutMs)))
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            let remainingMs = recorded > 0 ? 0 : Int32(max(0, remaining.components.seconds * 1000
                + remaining.components.attoseconds / 1_000_000_000_000_000))
            guard let event = try? monitor.next(timeoutMs: remainingMs) else { break }
            switch event.kind {
            case .handshakeFailedProtocol:
                let reason: RefusalReason = Int32(bitPattern: event.value) == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
                    ? .wrongMechanism : .handshakeFailed
                authenticator.record(VerificationFailure(reason, "handshake from \(event.endpoint) failed (protocol error 0x\(String(event.value, radix: 16)))"))
                recorded += 1
            case .handshakeFailedNoDetail:
                authenticator.record(VerificationFailure(.handshakeFailed, "handshake from \(event.endpoint) failed"))
                recorded += 1
            default:
                break
            }
        }
        return recorded
    }
}
