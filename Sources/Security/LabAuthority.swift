import Foundation
import OpenSSLKit
import COpenSSL

/// A lab certificate authority: issues node and coordinator certificates that carry their CURVE keys,
/// revokes them and publishes signed CRLs.
public struct LabAuthority: Sendable {
    /// Where the CA files live.
    public let layout: PKILayout
    /// The CA certificate.
    public let certificate: X509Certificate
    private let signingKey: EVPKey

    /// Creates a new CA in `directory`: key (0600), self-signed certificate, database and an empty CRL.
    /// Refuses to overwrite an existing CA.
    public static func create(lab: String, directory: String, algorithm: KeyAlgorithm = .ed25519,
                              validityDays: Int = 3650, crlDays: Int = 30, now: Date = Date()) throws -> LabAuthority {
        try Names.check(lab, what: "lab name")
        guard algorithm != .x25519 else {
            throw SecurityError(.invalidArgument, "a CA key must be able to sign: use ed25519 or ecdsa-p256")
        }
        guard (1...36500).contains(validityDays) else {
            throw SecurityError(.invalidArgument, "CA validity must be 1 to 36500 days, got \(validityDays)")
        }
        let layout = PKILayout(directory: directory)
        if FileManager.default.fileExists(atPath: layout.caCertificate) || FileManager.default.fileExists(atPath: layout.caKey) {
            throw SecurityError(.authority, "a CA already exists in \(directory)",
                                hint: "use another --out folder, or remove the old CA deliberately")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SecurityError(.fileAccess, "cannot create \(directory): \(error.localizedDescription)")
        }
        let key = try wrap { try EVPKey.generate(algorithm) }
        let builder = CertificateBuilder(
            serialHex: try SerialNumbers.random(), commonName: "\(lab) QLink CA", organization: lab,
            notBefore: now.addingTimeInterval(-300), notAfter: now.addingTimeInterval(Double(validityDays) * 86_400),
            publicKey: key,
            extensions: [
                (NID_basic_constraints, "critical,CA:TRUE,pathlen:0"),
                (NID_key_usage, "critical,keyCertSign,cRLSign"),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
            ])
        let certificate = try wrap { try builder.sign(with: key, issuer: nil) }
        try KeyFile.write(pem: try wrap { try key.privateKeyPEM() }, to: layout.caKey)
        try TextFile.write(try wrap { try certificate.pem() }, to: layout.caCertificate)
        try AuthorityDatabase(lab: lab).save(path: layout.database)
        let authority = LabAuthority(layout: layout, certificate: certificate, signingKey: key)
        _ = try authority.publishCRL(validityDays: crlDays, now: now)
        return authority
    }

    /// Opens the CA in `directory` (its key must be mode 0600).
    public static func open(directory: String) throws -> LabAuthority {
        let layout = PKILayout(directory: directory)
        guard FileManager.default.fileExists(atPath: layout.caCertificate) else {
            throw SecurityError(.authority, "no lab CA in \(directory) (\(layout.caCertificate) is missing)",
                                hint: "create one with `qlink certs init --lab NAME --out \(directory)`")
        }
        let certificate = try wrap {
            try X509Certificate(pem: try TextFile.read(layout.caCertificate, what: "CA certificate"), context: layout.caCertificate)
        }
        let key = try KeyFile.loadKey(path: layout.caKey)
        guard (try? certificate.publicKey().hasSamePublicKey(as: key)) == true else {
            throw SecurityError(.authority, "\(layout.caKey) does not match \(layout.caCertificate)")
        }
        return LabAuthority(layout: layout, certificate: certificate, signingKey: key)
    }

    private init(layout: PKILayout, certificate: X509Certificate, signingKey: EVPKey) {
        self.layout = layout
        self.certificate = certificate
        self.signingKey = signingKey
    }

    /// The CA's database.
    public func database() throws -> AuthorityDatabase { try AuthorityDatabase.load(path: layout.database) }

    /// Issues `name` a fresh CURVE key pair and a certificate for `role`, valid from `notBefore` to `notAfter`.
    /// Writes `DIR/NAME.crt` and `DIR/private/NAME.key` (0600) and records the serial. Re-issuing a name
    /// (rotation) replaces its files; the previous certificate stays valid until revoked or expired.
    @discardableResult
    public func issue(name: String, role: NodeRole, notBefore: Date, notAfter: Date) throws -> IssuedCertificate {
        try Names.check(name, what: "node name")
        guard notAfter > notBefore else {
            throw SecurityError(.invalidArgument, "the validity period ends before it starts")
        }
        var database = try database()
        let keyPair = try CurveKeys.generate()
        let publicKey = try wrap { try EVPKey(x25519PublicKey: keyPair.publicKey) }
        var serial = try SerialNumbers.random()
        while database.certificates.contains(where: { $0.serial == serial }) { serial = try SerialNumbers.random() }
        let builder = CertificateBuilder(
            serialHex: serial, commonName: name, organization: database.lab,
            notBefore: notBefore, notAfter: notAfter, publicKey: publicKey,
            extensions: [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, "critical,keyAgreement"),
                (NID_ext_key_usage, role.extendedKeyUsage),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
            ])
        let issued = try wrap { try builder.sign(with: signingKey, issuer: certificate) }
        try KeyFile.write(pem: try wrap { try keyPair.evpKey().privateKeyPEM() }, to: layout.privateKey(name))
        try TextFile.write(try wrap { try issued.pem() }, to: layout.certificate(name))
        let record = CertificateRecord(serial: issued.serialHex, name: name, role: role,
                                       notBefore: notBefore, notAfter: notAfter, revokedAt: nil)
        database.certificates.append(record)
        try database.save(path: layout.database)
        return IssuedCertificate(record: record, certificate: issued, publicKeyZ85: keyPair.publicKeyZ85,
                                 certificatePath: layout.certificate(name), keyPath: layout.privateKey(name))
    }

    /// Marks the standing certificates of `name` (or only the one with `serial`) revoked at `date`.
    /// Returns the records revoked; publish a CRL afterwards for it to take effect.
    public func revoke(name: String, serial: String? = nil, at date: Date = Date()) throws -> [CertificateRecord] {
        var database = try database()
        var revoked: [CertificateRecord] = []
        for index in database.certificates.indices {
            let record = database.certificates[index]
            guard record.name == name, record.revokedAt == nil else { continue }
            if let serial, record.serial.caseInsensitiveCompare(serial) != .orderedSame { continue }
            database.certificates[index].revokedAt = date
            revoked.append(database.certificates[index])
        }
        guard !revoked.isEmpty else {
            throw SecurityError(.invalidArgument, "no standing certificate for '\(name)'\(serial.map { " with serial \($0)" } ?? "")",
                                hint: "see \(layout.database) for what was issued")
        }
        try database.save(path: layout.database)
        return revoked
    }

    /// Signs and writes `DIR/ca.crl` listing every revoked certificate, due for renewal in `validityDays`.
    @discardableResult
    public func publishCRL(validityDays: Int = 30, now: Date = Date()) throws -> X509RevocationList {
        guard (1...3650).contains(validityDays) else {
            throw SecurityError(.invalidArgument, "CRL validity must be 1 to 3650 days, got \(validityDays)")
        }
        return try publishCRL(lastUpdate: now, nextUpdate: now.addingTimeInterval(Double(validityDays) * 86_400))
    }

    /// Signs and writes `DIR/ca.crl` with explicit dates (a past `nextUpdate` makes an expired CRL).
    @discardableResult
    public func publishCRL(lastUpdate: Date, nextUpdate: Date) throws -> X509RevocationList {
        var database = try database()
        database.crlNumber += 1
        let entries = database.certificates.compactMap { record in
            record.revokedAt.map { (serialHex: record.serial, date: $0) }
        }
        let list = try wrap {
            try X509RevocationList.make(issuer: certificate, signingKey: signingKey, number: database.crlNumber,
                                        lastUpdate: lastUpdate, nextUpdate: nextUpdate, revoked: entries)
        }
        try TextFile.write(try wrap { try list.pem() }, to: layout.crl)
        try database.save(path: layout.database)
        return list
    }
}

/// The outcome of issuing a certificate.
public struct IssuedCertificate: Sendable {
    /// What the database recorded.
    public var record: CertificateRecord
    /// The certificate itself.
    public var certificate: X509Certificate
    /// The CURVE public key (Z85), also the certificate's subject key.
    public var publicKeyZ85: String
    /// Where the certificate was written.
    public var certificatePath: String
    /// Where the private key was written (mode 0600).
    public var keyPath: String
}

/// Checks on names used in file names and certificate subjects.
enum Names {
    static func check(_ name: String, what: String) throws {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F
        }
        guard allowed, (1...64).contains(name.utf8.count), !name.hasPrefix("."), name != "ca" else {
            throw SecurityError(.invalidArgument,
                                "\(what) '\(name)' must be 1 to 64 letters, digits, '.', '-' or '_', not start with '.', and not be 'ca'")
        }
    }
}

/// Random positive 128-bit serial numbers.
enum SerialNumbers {
    static func random() throws -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        guard RAND_bytes(&bytes, 16) == 1 else {
            throw SecurityError(.openSSL, "the random generator failed")
        }
        bytes[0] = (bytes[0] & 0x7F) | 0x40  // positive, and always 16 significant bytes
        return bytes.map { byte in
            let text = String(byte, radix: 16, uppercase: true)
            return text.count == 1 ? "0" + text : text
        }.joined()
    }
}
