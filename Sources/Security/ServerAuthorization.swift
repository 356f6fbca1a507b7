import CZeroMQ
import Foundation
import Messaging

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
