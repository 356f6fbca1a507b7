import OpenSSLKit

/// The role a certificate grants, carried in its extended key usage.
public enum NodeRole: String, Sendable, CaseIterable, Codable {
    /// A lab node: connects to the coordinator (clientAuth).
    case node
    /// The coordinator: accepts nodes (serverAuth).
    case coordinator

    /// The OpenSSL purpose checked for this role.
    var purpose: CertificatePurpose { self == .node ? .client : .server }

    /// The extended key usage text written into certificates of this role.
    var extendedKeyUsage: String { self == .node ? "clientAuth" : "serverAuth" }

    /// The role a certificate's extended key usage grants, or nil when it grants neither or both.
    public init?(certificate: X509Certificate) {
        switch (certificate.allowsClientAuth, certificate.allowsServerAuth) {
        case (true, false): self = .node
        case (false, true): self = .coordinator
        default: return nil
        }
    }
}
