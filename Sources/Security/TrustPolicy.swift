import COpenSSL
import Foundation
import OpenSSLKit

/// Why a peer or certificate was refused. The raw value is the label used in logs and counters.
public enum RefusalReason: String, Sendable, CaseIterable, Codable {
    /// No certificate in the store carries the presented CURVE key.
    case unknownKey = "unknown-key"
    /// The certificate does not chain to the lab CA (another CA, or a bad signature).
    case untrustedIssuer = "untrusted-issuer"
    /// The certificate's validity period has ended.
    case expired
    /// The certificate's validity period has not started.
    case notYetValid = "not-yet-valid"
    /// The certificate is on the current CRL.
    case revoked
    /// The certificate does not grant the role required (client for nodes, server for the coordinator).
    case wrongRole = "wrong-role"
    /// The CRL is past its next-update date: every peer is refused until a new CRL is published.
    case crlExpired = "crl-expired"
    /// No usable CRL (missing, unreadable, not yet valid, or not signed by the lab CA).
    case crlInvalid = "crl-invalid"
    /// The certificate breaks QLink's policy (not an X25519 key, no keyAgreement, malformed).
    case invalidCertificate = "invalid-certificate"
    /// The peer did not use the CURVE mechanism.
    case wrongMechanism = "wrong-mechanism"
    /// The ZAP request named another domain.
    case wrongDomain = "wrong-domain"
    /// The CURVE handshake failed before ZAP was asked (wrong secret key for the public key, or the client
    /// pinned another server key).
    case handshakeFailed = "handshake-failed"
}

/// A refusal: the reason and what was refused.
public struct VerificationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason, as counted.
    public var reason: RefusalReason
    /// Details for the log: which certificate and what OpenSSL said.
    public var detail: String

    /// Creates a refusal for `reason` with `detail`.
    public init(_ reason: RefusalReason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}

/// A certificate that passed verification, and what it says about its holder.
public struct VerifiedIdentity: Sendable, Equatable {
    /// The holder's name (CN), used as the ZAP User-Id.
    public var name: String
    /// The lab or experiment (O).
    public var lab: String
    /// The role granted.
    public var role: NodeRole
    /// The serial number (hexadecimal), returned as ZAP metadata.
    public var serial: String
    /// The CURVE public key (32 bytes), the certificate's subject key.
    public var curvePublicKey: [UInt8]
    /// End of validity.
    public var notAfter: Date
}

/// QLink's certificate policy: the lab CA as the only trust anchor, the current CRL, strict X.509 checks,
/// an X25519 subject key with keyAgreement, and the role's purpose.
public final class TrustPolicy: Sendable {
    private let verifier: ChainVerifier
    /// Serials on the CRL (upper-case hexadecimal).
    public let revokedSerials: Set<String>
    /// When the CRL must be replaced; nil when no CRL is checked.
    public let crlNextUpdate: Date?

    /// A policy trusting only `trustAnchor` and checking `revocationList` when given.
    public init(trustAnchor: X509Certificate, revocationList: X509RevocationList?) throws {
        if let revocationList, !revocationList.isSigned(by: trustAnchor) {
            throw SecurityError(.verification, "the CRL is not signed by the lab CA '\(trustAnchor.subjectText)'")
        }
        verifier = try wrap { try ChainVerifier(trustAnchor: trustAnchor, revocationList: revocationList) }
        revokedSerials = Set(revocationList?.revoked.map { $0.serialHex.uppercased() } ?? [])
        crlNextUpdate = revocationList?.nextUpdate
    }

    /// Loads the CA certificate and, when `crlPath` is given, the CRL.
    public convenience init(caCertificatePath: String, crlPath: String?) throws {
        let anchor = try wrap {
            try X509Certificate(pem: try TextFile.read(caCertificatePath, what: "CA certificate", whenMissing: TextFile.noLabCAHint), context: caCertificatePath)
        }
        let crl = try crlPath.map { path in
            try wrap { try X509RevocationList(pem: try TextFile.read(path, what: "CRL"), context: path) }
        }
        try self.init(trustAnchor: anchor, revocationList: crl)
    }

    /// The lab CA certificate.
    public var trustAnchor: X509Certificate { verifier.trustAnchor }

    /// Whether `serial` is on the CRL this policy was built with.
    public func isRevoked(serial: String) -> Bool { revokedSerials.contains(serial.uppercased()) }

    /// Verifies `certificate` for `role` at `time`; throws a ``VerificationFailure`` with the reason.
    public func verify(_ certificate: X509Certificate, role: NodeRole, at time: Date = Date()) throws -> VerifiedIdentity {
        let subject = certificate.subjectText
        guard let key = try? certificate.publicKey(), key.algorithm == .x25519,
              let curveKey = try? key.rawPublicKey(), curveKey.count == 32 else {
            throw VerificationFailure(.invalidCertificate, "\(subject): the subject key is not an X25519 CURVE key")
        }
        guard certificate.allowsKeyAgreement else {
            throw VerificationFailure(.invalidCertificate, "\(subject): key usage does not include keyAgreement")
        }
        do {
            try verifier.verify(certificate, purpose: role.purpose, at: time)
        } catch let failure as ChainFailure {
            throw VerificationFailure(Self.reason(for: failure.code), "\(subject) serial \(certificate.serialHex): \(failure.text)")
        } catch {
            throw VerificationFailure(.invalidCertificate, "\(subject): \(error)")
        }
        guard NodeRole(certificate: certificate) == role else {
            throw VerificationFailure(.wrongRole, "\(subject): the certificate does not grant the \(role.rawValue) role")
        }
        guard let name = certificate.subjectCommonName, !name.isEmpty, let notAfter = certificate.notAfter else {
            throw VerificationFailure(.invalidCertificate, "\(subject): no common name or validity end")
        }
        return VerifiedIdentity(name: name, lab: certificate.subjectOrganization ?? "", role: role,
                                serial: certificate.serialHex, curvePublicKey: curveKey, notAfter: notAfter)
    }

    /// Maps an OpenSSL verification error to the reason QLink reports.
    static func reason(for code: Int32) -> RefusalReason {
        switch code {
        case X509_V_ERR_CERT_HAS_EXPIRED: .expired
        case X509_V_ERR_CERT_NOT_YET_VALID: .notYetValid
        case X509_V_ERR_CERT_REVOKED: .revoked
        case X509_V_ERR_CRL_HAS_EXPIRED: .crlExpired
        case X509_V_ERR_UNABLE_TO_GET_CRL, X509_V_ERR_CRL_NOT_YET_VALID, X509_V_ERR_CRL_SIGNATURE_FAILURE,
             X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE, X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD,
             X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD, X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
            .crlInvalid
        case X509_V_ERR_INVALID_PURPOSE: .wrongRole
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
             X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_CERT_SIGNATURE_FAILURE,
             X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
             X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, X509_V_ERR_AKID_SKID_MISMATCH:
            .untrustedIssuer
        default: .invalidCertificate
        }
    }
}
