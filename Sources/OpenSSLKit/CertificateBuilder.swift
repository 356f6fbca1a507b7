import COpenSSL
import Foundation

/// The fields of an X.509 v3 certificate to be signed by a CA key.
///
/// The subject key may be any key, including an X25519 key-agreement key that cannot sign itself (RFC 8410):
/// the certificate is built directly, without a certificate request.
public struct CertificateBuilder {
    /// Serial number in hexadecimal; must be positive and unique per CA.
    public var serialHex: String
    /// Subject common name (CN).
    public var commonName: String
    /// Subject organisation (O), e.g. the lab or experiment name.
    public var organization: String
    /// Start of validity.
    public var notBefore: Date
    /// End of validity.
    public var notAfter: Date
    /// The subject's public key.
    public var publicKey: EVPKey
    /// Extensions in `openssl.cnf` text form, added in order, e.g. `(NID_key_usage, "critical,keyAgreement")`.
    /// `subjectKeyIdentifier` must come before `authorityKeyIdentifier` on a self-signed certificate.
    public var extensions: [(nid: Int32, value: String)]

    /// Collects the fields of a certificate.
    public init(serialHex: String, commonName: String, organization: String, notBefore: Date, notAfter: Date,
                publicKey: EVPKey, extensions: [(nid: Int32, value: String)]) {
        self.serialHex = serialHex
        self.commonName = commonName
        self.organization = organization
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.publicKey = publicKey
        self.extensions = extensions
    }

    /// Builds the certificate and signs it with `signingKey`; `issuer` is the CA certificate, or nil for a
    /// self-signed certificate (the subject is then also the issuer).
    public func sign(with signingKey: EVPKey, issuer: X509Certificate?) throws -> X509Certificate {
        let certificate = try X509Certificate()
        let cert = certificate.pointer
        OpenSSLError.clearQueue()
        try check(X509_set_version(cert, Int(X509_VERSION_3)), "set certificate version")

        let serial = try ASN1.makeInteger(hex: serialHex)
        defer { ASN1_INTEGER_free(serial) }
        try check(X509_set_serialNumber(cert, serial), "set serial number")

        let name = try require(X509_NAME_new(), "create name")
        defer { X509_NAME_free(name) }
        try Self.add(organization, field: "O", to: name)
        try Self.add(commonName, field: "CN", to: name)
        try check(X509_set_subject_name(cert, name), "set subject name")
        let issuerName = issuer.map { X509_get_subject_name($0.pointer) } ?? name
        try check(X509_set_issuer_name(cert, issuerName), "set issuer name")

        let start = try ASN1.makeTime(notBefore)
        defer { ASN1_TIME_free(start) }
        let end = try ASN1.makeTime(notAfter)
        defer { ASN1_TIME_free(end) }
        try check(X509_set1_notBefore(cert, start), "set validity start")
        try check(X509_set1_notAfter(cert, end), "set validity end")
        try check(X509_set_pubkey(cert, publicKey.pointer), "set subject public key")

        let issuerPointer = issuer?.pointer ?? cert
        for ext in extensions {
            try check(qlink_x509_add_ext(cert, issuerPointer, ext.nid, ext.value),
                      "add extension", context: "\(String(cString: OBJ_nid2sn(ext.nid))) = \(ext.value)")
        }
        try Self.sign(cert, with: signingKey)
        return certificate
    }

    /// Signs with Ed25519 (no separate digest) or ECDSA with SHA-256.
    static func sign(_ cert: OpaquePointer, with key: EVPKey) throws {
        let digest = key.algorithm == .ecdsaP256 ? EVP_sha256() : nil
        OpenSSLError.clearQueue()
        guard X509_sign(cert, key.pointer, digest) > 0 else {
            throw OpenSSLError(operation: "sign certificate")
        }
    }

    static func add(_ value: String, field: String, to name: OpaquePointer) throws {
        guard !value.isEmpty else { return }
        let bytes = Array(value.utf8)
        let ok = bytes.withUnsafeBufferPointer {
            X509_NAME_add_entry_by_txt(name, field, qlink_mbstring_utf8(), $0.baseAddress, Int32($0.count), -1, 0)
        }
        try check(ok, "add name entry", context: "\(field)=\(value)")
    }
}
