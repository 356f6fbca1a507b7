import Foundation

/// Where a lab CA keeps its files; matches `configs/loopback.yaml`.
public struct PKILayout: Sendable {
    /// The CA folder, e.g. `certs/loopback`.
    public var directory: String

    /// The layout rooted at `directory`.
    public init(directory: String) { self.directory = directory }

    /// `DIR/ca.crt`: the lab CA certificate, the only trust anchor.
    public var caCertificate: String { path("ca.crt") }
    /// `DIR/ca.crl`: the current revocation list.
    public var crl: String { path("ca.crl") }
    /// `DIR/private/ca.key`: the CA signing key (mode 0600).
    public var caKey: String { path("private/ca.key") }
    /// `DIR/ca-database.json`: the index of issued certificates.
    public var database: String { path("ca-database.json") }
    /// `DIR/NAME.crt`: a node or coordinator certificate.
    public func certificate(_ name: String) -> String { path("\(name).crt") }
    /// `DIR/private/NAME.key`: a node or coordinator CURVE key (mode 0600).
    public func privateKey(_ name: String) -> String { path("private/\(name).key") }

    private func path(_ relative: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(relative).path
    }
}

/// One certificate the CA issued.
public struct CertificateRecord: Codable, Sendable, Equatable {
    /// Serial number, upper-case hexadecimal.
    public var serial: String
    /// Node or coordinator name (the certificate's CN).
    public var name: String
    /// The role granted.
    public var role: NodeRole
    /// Start of validity.
    public var notBefore: Date
    /// End of validity.
    public var notAfter: Date
    /// When it was revoked, or nil while it stands.
    public var revokedAt: Date?
}

/// The CA's index of issued certificates, kept as JSON next to the CA certificate.
public struct AuthorityDatabase: Codable, Sendable {
    /// The lab (experiment) name, the O of every certificate.
    public var lab: String
    /// Number of the last CRL published (the CRL number extension).
    public var crlNumber: Int
    /// Every certificate issued, oldest first.
    public var certificates: [CertificateRecord]

    /// An empty database for `lab`.
    public init(lab: String) {
        self.lab = lab
        crlNumber = 0
        certificates = []
    }

    /// Reads the database at `path`.
    public static func load(path: String) throws -> AuthorityDatabase {
        let text = try TextFile.read(path, what: "CA database")
        do {
            return try decoder.decode(AuthorityDatabase.self, from: Data(text.utf8))
        } catch {
            throw SecurityError(.authority, "CA database \(path) is not valid: \(error)")
        }
    }

    /// Writes the database to `path` atomically.
    public func save(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let data: Data
        do { data = try encoder.encode(self) } catch {
            throw SecurityError(.authority, "cannot encode CA database: \(error)")
        }
        try TextFile.write(String(decoding: data, as: UTF8.self) + "\n", to: path)
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
