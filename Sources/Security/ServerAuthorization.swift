import CZeroMQ
import Foundation
import Messaging

/// Who sent a message on a secure server socket, from the ZAP User-Id and serial metadata.
public struct AuthenticatedSender: Sendable, Equatable {
    /// The certificate's common name.
    public var name: String
    /// The certificate's serial (hexadecimal).
    public var serial: String
    /// The role the certificate grants (ZAP metadata `X-Role`); nil when the metadata is missing or unknown.
    public var role: NodeRole?
    /// The peer's address as libzmq reports it (`Peer-Address`), when known.
    public var peerAddress: String?

    /// Collects the sender's identity.
    public init(name: String, serial: String, role: NodeRole?, peerAddress: String? = nil) {
        self.name = name
        self.serial = serial
        self.role = role
        self.peerAddress = peerAddress
    }
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
        return .success(AuthenticatedSender(name: name, serial: serial, role: frame.property(ZAPProperty.role).flatMap(NodeRole.init(rawValue:)),
                                            peerAddress: frame.property("Peer-Address")))
    }
}

/// Counts the handshakes a secure server refused before asking ZAP (NULL or PLAIN clients, a public key
/// presented without its secret key, a client pinning another server key), from the server socket's
/// monitor. Owned by the thread that owns the server socket.
///
/// libzmq 4.3.4's stable monitor names only the server's listening endpoint for these events, not the peer
/// (the peer's address reaches the application only through ZAP, which these handshakes never get to, and the
/// `ACCEPTED` event's file descriptor is closed by the time the failure is read): the log says so, and gives
/// instead the monitor event (`auth.event`), the listening endpoint (`auth.endpoint`), the reason and the
/// ZMTP error in the detail; the refusal is counted by reason. Refusals decided by ZAP are counted and logged,
/// with the peer address, by the ``PeerAuthenticator`` itself; the monitor's `HANDSHAKE_FAILED_AUTH` events for
/// them are not counted again.
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
                authenticator.record(VerificationFailure(reason, "handshake on \(event.endpoint) failed before ZAP (\(Self.describe(protocolError: event.value)))"),
                                     peerAddress: Self.unreportedPeer, event: "HANDSHAKE_FAILED_PROTOCOL", listeningEndpoint: event.endpoint)
                recorded += 1
            case .handshakeFailedNoDetail:
                authenticator.record(VerificationFailure(.handshakeFailed, "handshake on \(event.endpoint) failed before ZAP (errno \(event.value))"),
                                     peerAddress: Self.unreportedPeer, event: "HANDSHAKE_FAILED_NO_DETAIL", listeningEndpoint: event.endpoint)
                recorded += 1
            default:
                break
            }
        }
        return recorded
    }
}

extension HandshakeWatcher {
    /// What the log says for the peer of a handshake that failed before ZAP.
    static let unreportedPeer = "not reported by libzmq before ZAP"

    /// The ZMTP protocol error of a `HANDSHAKE_FAILED_PROTOCOL` event in words.
    static func describe(protocolError value: UInt32) -> String {
        let code = Int32(bitPattern: value)
        let text: String
        switch code {
        case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: text = "the client offered another mechanism than CURVE"
        case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: text = "a CURVE box did not decrypt: a key without its secret, or another server key pinned"
        case ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA: text = "invalid metadata in the handshake"
        default: text = "protocol error"
        }
        return "\(text), 0x\(String(value, radix: 16))"
    }
}
