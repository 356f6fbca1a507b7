import Foundation
import Logging
import Messaging
import OpenSSLKit
import Security

/// A throwaway lab CA with a coordinator certificate and node certificates, for a demo run or a test:
/// created in a run folder, never reused.
public struct RunCertificates: Sendable {
    public let layout: PKILayout
    public let coordinatorName: String
    public let nodeNames: [String]

    /// Creates the CA in `directory` (which must not hold one) and issues one certificate per name, valid for `days`.
    public static func create(directory: String, lab: String = "demo", coordinator: String = "coordinator",
                              nodes: [String], days: Int = 2) throws -> RunCertificates {
        let authority = try LabAuthority.create(lab: lab, directory: directory)
        let now = Date()
        _ = try authority.issue(name: coordinator, role: .coordinator, notBefore: now.addingTimeInterval(-300),
                                notAfter: now.addingTimeInterval(Double(days) * 86_400))
        for node in nodes {
            _ = try authority.issue(name: node, role: .node, notBefore: now.addingTimeInterval(-300),
                                    notAfter: now.addingTimeInterval(Double(days) * 86_400))
        }
        _ = try authority.publishCRL(validityDays: days)
        return RunCertificates(layout: authority.layout, coordinatorName: coordinator, nodeNames: nodes)
    }

    /// The coordinator's transport (starts a ZAP handler in `context`).
    public func serverTransport(context: ZMQContext, zapDomain: String = "qlink", logger: Logger) throws -> ServerTransport {
        let policy = try TrustPolicy(caCertificatePath: layout.caCertificate, crlPath: layout.crl)
        let identity = try LocalIdentity(certificatePath: layout.certificate(coordinatorName), keyPath: layout.privateKey(coordinatorName),
                                         role: .coordinator, policy: policy)
        let authenticator = try PeerAuthenticator(configuration: TrustConfiguration(layout: layout), requiredRole: .node, logger: logger)
        let zap = try ZAPHandler(authenticator: authenticator, domain: zapDomain, context: context, logger: logger)
        return ServerTransport(identity: identity, zap: zap, context: context)
    }

    /// A node's transport.
    public func clientTransport(node: String, context: ZMQContext) throws -> ClientTransport {
        let policy = try TrustPolicy(caCertificatePath: layout.caCertificate, crlPath: layout.crl)
        let identity = try LocalIdentity(certificatePath: layout.certificate(node), keyPath: layout.privateKey(node), role: .node, policy: policy)
        let server = try X509Certificate(pem: try String(contentsOfFile: layout.certificate(coordinatorName), encoding: .utf8),
                                         context: layout.certificate(coordinatorName))
        return ClientTransport(identity: identity, serverCertificate: server, policy: policy, context: context)
    }
}
