import CZeroMQ
import Foundation
import Logging
import Messaging
import OpenSSLKit

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
