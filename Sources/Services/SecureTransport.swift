import Foundation
import LinkModel
import Logging
import Messaging
import OpenSSLKit
import Security

/// The coordinator's side of the secure transport: CURVE server sockets with its certified keys; every
/// client admitted by the ZAP handler (lab CA, validity, CRL, node role); every message's sender
/// re-checked against the CRL.
public struct ServerTransport: Sendable {
    public let identity: LocalIdentity
    public let zap: ZAPHandler
    public let context: ZMQContext

    public init(identity: LocalIdentity, zap: ZAPHandler, context: ZMQContext = .shared) {
        self.identity = identity
        self.zap = zap
        self.context = context
    }

    /// Loads the coordinator's certificate and key from `configuration`, verifies them and starts the ZAP
    /// handler (before any server socket binds). Stop it with `zap.stop()` after the service ends.
    public static func load(_ configuration: LinkConfiguration, context: ZMQContext = .shared, logger: Logger) throws -> ServerTransport {
        let security = configuration.security
        let policy = try TrustPolicy(caCertificatePath: security.caCertificate, crlPath: security.crl)
        let identity = try LocalIdentity(certificatePath: configuration.coordinator.certificate, keyPath: configuration.coordinator.privateKey,
                                         role: .coordinator, policy: policy)
        let authenticator = try PeerAuthenticator(
            configuration: TrustConfiguration(caCertificate: security.caCertificate, crl: security.crl,
                                              certificateStore: security.certificateStore),
            requiredRole: .node, logger: logger)
        let zap = try ZAPHandler(authenticator: authenticator, domain: security.zapDomain, context: context, logger: logger)
        return ServerTransport(identity: identity, zap: zap, context: context)
    }

    func socket(_ type: SocketType) throws -> Socket {
        try SecureSockets.server(type, identity: identity, zap: zap, context: context, lingerMs: 200)
    }

    /// Records the handshakes `server` refuses before ZAP is asked (create it on the socket's thread, before binding).
    func watcher(of server: Socket) throws -> HandshakeWatcher {
        try HandshakeWatcher(server: server, authenticator: zap.authenticator, context: context)
    }

    /// The authenticated sender of a received message (certificate name, serial, role, address), or why it must be dropped.
    func sender(of message: Message) -> Result<AuthenticatedSender, VerificationFailure> {
        zap.authenticator.sender(of: message)
    }
}

/// A node's side of the secure transport: CURVE client sockets with the node's certified keys, pinned to
/// the coordinator's certificate after verifying it (lab CA, CRL, coordinator role).
public struct ClientTransport: Sendable {
    public let identity: LocalIdentity
    public let serverCertificate: X509Certificate
    public let policy: TrustPolicy
    public let context: ZMQContext

    public init(identity: LocalIdentity, serverCertificate: X509Certificate, policy: TrustPolicy, context: ZMQContext = .shared) {
        self.identity = identity
        self.serverCertificate = serverCertificate
        self.policy = policy
        self.context = context
    }

    /// Loads the node certificate of `lab` and the coordinator certificate from `configuration`.
    public static func load(_ configuration: LinkConfiguration, lab: String, context: ZMQContext = .shared) throws -> ClientTransport {
        guard let labConfiguration = configuration.lab(named: lab) else {
            throw ServiceFailure(what: "node", detail: "no lab named '\(lab)' in the configuration (labs: \(configuration.labs.map(\.name).joined(separator: ", ")))")
        }
        let security = configuration.security
        let policy = try TrustPolicy(caCertificatePath: security.caCertificate, crlPath: security.crl)
        let identity = try LocalIdentity(certificatePath: labConfiguration.certificate, keyPath: labConfiguration.privateKey,
                                         role: .node, policy: policy)
        let pem: String
        do {
            pem = try String(contentsOfFile: configuration.coordinator.certificate, encoding: .utf8)
        } catch {
            throw ServiceFailure(what: "node", detail: "cannot read the coordinator certificate \(configuration.coordinator.certificate): \(error.localizedDescription)")
        }
        let server = try X509Certificate(pem: pem, context: configuration.coordinator.certificate)
        return ClientTransport(identity: identity, serverCertificate: server, policy: policy, context: context)
    }

    /// A CURVE client socket of `type` pinned to the coordinator (for tools and tests that speak the protocol directly).
    public func socket(_ type: SocketType, logger: Logger) throws -> SecureClient {
        try SecureSockets.client(type, identity: identity, serverCertificate: serverCertificate, policy: policy,
                                 context: context, lingerMs: 0, logger: logger)
    }
}
