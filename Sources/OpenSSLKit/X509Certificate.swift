import COpenSSL
import Foundation

/// An owned OpenSSL `X509` certificate.
public final class X509Certificate: @unchecked Sendable {
    /// The underlying `X509 *`; valid for the life of this object. Do not modify a certificate shared
    /// between threads.
    public let pointer: OpaquePointer

    /// Takes ownership of `pointer` (one reference).
    public init(owning pointer: OpaquePointer) { self.pointer = pointer }

    /// An empty certificate to be filled in by a builder.
    public convenience init() throws {
        self.init(owning: try require(X509_new(), "create certificate"))
    }

    /// Reads the first certificate in PEM text.
    public convenience init(pem: String, context: String = "") throws {
        let bio = try MemoryBIO(text: pem)
        OpenSSLError.clearQueue()
        self.init(owning: try require(PEM_read_bio_X509(bio.pointer, nil, nil, nil), "read certificate", context: context))
    }

    /// Reads every certificate in PEM text (a bundle), in order.
    public static func all(pem: String, context: String = "") throws -> [X509Certificate] {
        let bio = try MemoryBIO(text: pem)
        var certificates: [X509Certificate] = []
        while true {
            OpenSSLError.clearQueue()
            guard let next = PEM_read_bio_X509(bio.pointer, nil, nil, nil) else { break }
            certificates.append(X509Certificate(owning: next))
        }
        OpenSSLError.clearQueue()
        if certificates.isEmpty {
            throw OpenSSLError(operation: "read certificate", context: context, reasons: ["no PEM certificate found"])
        }
        return certificates
    }

    deinit { X509_free(pointer) }

    /// The certificate as PEM text (`-----BEGIN CERTIFICATE-----`).
    public func pem() throws -> String {
        let bio = try MemoryBIO()
        OpenSSLError.clearQueue()
        try check(PEM_write_bio_X509(bio.pointer, pointer), "write certificate")
        return bio.text
    }

    /// The subject's common name (CN), if present.
    public var subjectCommonName: String? { ASN1.nameEntry(X509_get_subject_name(pointer), nid: NID_commonName) }
    /// The subject's organisation (O), if present.
    public var subjectOrganization: String? { ASN1.nameEntry(X509_get_subject_name(pointer), nid: NID_organizationName) }
    /// The issuer's common name (CN), if present.
    public var issuerCommonName: String? { ASN1.nameEntry(X509_get_issuer_name(pointer), nid: NID_commonName) }
    /// The subject name on one line.
    public var subjectText: String { ASN1.oneLine(X509_get_subject_name(pointer)) }
    /// The issuer name on one line.
    public var issuerText: String { ASN1.oneLine(X509_get_issuer_name(pointer)) }

    /// The serial number in upper-case hexadecimal.
    public var serialHex: String { ASN1.hex(X509_get0_serialNumber(pointer)) ?? "" }
    /// Start of the validity period.
    public var notBefore: Date? { ASN1.date(X509_get0_notBefore(pointer)) }
    /// End of the validity period.
    public var notAfter: Date? { ASN1.date(X509_get0_notAfter(pointer)) }

    /// The subject public key (a new reference).
    public func publicKey() throws -> EVPKey {
        OpenSSLError.clearQueue()
        return EVPKey(owning: try require(X509_get_pubkey(pointer), "read certificate public key"))
    }

    /// Whether the extended key usage allows TLS client authentication (false when EKU is absent).
    public var allowsClientAuth: Bool { hasExtendedKeyUsage(qlink_xku_ssl_client()) }
    /// Whether the extended key usage allows TLS server authentication (false when EKU is absent).
    public var allowsServerAuth: Bool { hasExtendedKeyUsage(qlink_xku_ssl_server()) }
    /// Whether the key usage extension is present and includes keyAgreement.
    public var allowsKeyAgreement: Bool {
        let usage = qlink_x509_key_usage(pointer)
        return usage != UInt32.max && usage & qlink_ku_key_agreement() != 0
    }

    private func hasExtendedKeyUsage(_ bit: UInt32) -> Bool {
        let usage = qlink_x509_extended_key_usage(pointer)
        return usage != UInt32.max && usage & bit != 0
    }

    /// The human-readable dump of every field, as `openssl x509 -text` prints it.
    public func text() throws -> String {
        let bio = try MemoryBIO()
        OpenSSLError.clearQueue()
        try check(X509_print(bio.pointer, pointer), "print certificate")
        return bio.text
    }
}
