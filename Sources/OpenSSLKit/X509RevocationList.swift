import COpenSSL
import Foundation

/// An owned OpenSSL `X509_CRL`: a certificate revocation list.
public final class X509RevocationList: @unchecked Sendable {
    /// The underlying `X509_CRL *`; valid for the life of this object.
    public let pointer: OpaquePointer

    /// Takes ownership of `pointer` (one reference).
    public init(owning pointer: OpaquePointer) { self.pointer = pointer }

    /// Reads a CRL from PEM text (`-----BEGIN X509 CRL-----`).
    public convenience init(pem: String, context: String = "") throws {
        let bio = try MemoryBIO(text: pem)
        OpenSSLError.clearQueue()
        self.init(owning: try require(PEM_read_bio_X509_CRL(bio.pointer, nil, nil, nil), "read CRL", context: context))
    }

    deinit { X509_CRL_free(pointer) }

    /// The CRL as PEM text.
    public func pem() throws -> String {
        let bio = try MemoryBIO()
        OpenSSLError.clearQueue()
        try check(PEM_write_bio_X509_CRL(bio.pointer, pointer), "write CRL")
        return bio.text
    }

    /// When this CRL was issued.
    public var lastUpdate: Date? { ASN1.date(X509_CRL_get0_lastUpdate(pointer)) }
    /// When the next CRL is due; after this instant the CRL is expired and verification fails.
    public var nextUpdate: Date? { ASN1.date(X509_CRL_get0_nextUpdate(pointer)) }
    /// The issuer's common name.
    public var issuerCommonName: String? { ASN1.nameEntry(X509_CRL_get_issuer(pointer), nid: NID_commonName) }

    /// Serial numbers (hexadecimal) of the revoked certificates, with their revocation dates.
    public var revoked: [(serialHex: String, date: Date?)] {
        guard let stack = X509_CRL_get_REVOKED(pointer) else { return [] }
        var entries: [(serialHex: String, date: Date?)] = []
        for index in 0..<max(0, qlink_sk_x509_revoked_num(stack)) {
            guard let entry = qlink_sk_x509_revoked_value(stack, index) else { continue }
            let serial = ASN1.hex(X509_REVOKED_get0_serialNumber(entry)) ?? ""
            entries.append((serial, ASN1.date(X509_REVOKED_get0_revocationDate(entry))))
        }
        return entries
    }

    /// Whether the CRL's signature verifies with `issuer`'s public key.
    public func isSigned(by issuer: X509Certificate) -> Bool {
        guard let key = try? issuer.publicKey() else { return false }
        let ok = X509_CRL_verify(pointer, key.pointer) == 1
        OpenSSLError.clearQueue()
        return ok
    }

    /// The human-readable dump, as `openssl crl -text` prints it.
    public func text() throws -> String {
        let bio = try MemoryBIO()
        OpenSSLError.clearQueue()
        try check(X509_CRL_print(bio.pointer, pointer), "print CRL")
        return bio.text
    }

    /// Builds and signs a version 2 CRL listing `revoked` serials, with a CRL number and the issuer's key id.
    public static func make(issuer: X509Certificate, signingKey: EVPKey, number: Int,
                            lastUpdate: Date, nextUpdate: Date,
                            revoked: [(serialHex: String, date: Date)]) throws -> X509RevocationList {
        OpenSSLError.clearQueue()
        let list = X509RevocationList(owning: try require(X509_CRL_new(), "create CRL"))
        let crl = list.pointer
        try check(X509_CRL_set_version(crl, 1), "set CRL version")
        try check(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer.pointer)), "set CRL issuer")
        let start = try ASN1.makeTime(lastUpdate)
        defer { ASN1_TIME_free(start) }
        let end = try ASN1.makeTime(nextUpdate)
        defer { ASN1_TIME_free(end) }
        try check(X509_CRL_set1_lastUpdate(crl, start), "set CRL last update")
        try check(X509_CRL_set1_nextUpdate(crl, end), "set CRL next update")

        for entry in revoked {
            let item = try require(X509_REVOKED_new(), "create CRL entry")
            let serial: UnsafeMutablePointer<ASN1_INTEGER>
            do { serial = try ASN1.makeInteger(hex: entry.serialHex) } catch { X509_REVOKED_free(item); throw error }
            defer { ASN1_INTEGER_free(serial) }
            let date = try ASN1.makeTime(entry.date)
            defer { ASN1_TIME_free(date) }
            guard X509_REVOKED_set_serialNumber(item, serial) == 1,
                  X509_REVOKED_set_revocationDate(item, date) == 1,
                  X509_CRL_add0_revoked(crl, item) == 1 else {
                X509_REVOKED_free(item)
                throw OpenSSLError(operation: "add CRL entry", context: entry.serialHex)
            }
        }
        try check(X509_CRL_sort(crl), "sort CRL")
        try check(qlink_x509_crl_add_number(crl, number), "add CRL number")
        try check(qlink_x509_crl_add_ext(crl, issuer.pointer, NID_authority_key_identifier, "keyid:always"),
                  "add CRL authority key identifier")
        let digest = signingKey.algorithm == .ecdsaP256 ? EVP_sha256() : nil
        OpenSSLError.clearQueue()
        guard X509_CRL_sign(crl, signingKey.pointer, digest) > 0 else {
            throw OpenSSLError(operation: "sign CRL")
        }
        return list
    }
}
