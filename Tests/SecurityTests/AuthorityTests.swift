import Foundation
import Testing
import OpenSSLKit
@testable import Security

@Suite("Lab CA")
struct AuthorityTests {
    @Test("init writes the CA certificate, a 0600 key, the database and an empty CRL", arguments: [KeyAlgorithm.ed25519, .ecdsaP256])
    func initLayout(algorithm: KeyAlgorithm) throws {
        let pki = try TestPKI(algorithm: algorithm)
        defer { pki.remove() }
        let attributes = try FileManager.default.attributesOfItem(atPath: pki.layout.caKey)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let ca = try X509Certificate(pem: String(contentsOfFile: pki.layout.caCertificate, encoding: .utf8))
        #expect(ca.subjectCommonName == "testlab QLink CA")
        #expect(try ca.publicKey().algorithm == algorithm)
        let crl = try X509RevocationList(pem: String(contentsOfFile: pki.layout.crl, encoding: .utf8))
        #expect(crl.revoked.isEmpty)
        #expect(crl.isSigned(by: ca))
        #expect((crl.nextUpdate ?? .distantPast) > Date())
        #expect(throws: SecurityError.self) { try LabAuthority.create(lab: "testlab", directory: pki.layout.directory) }
    }

    @Test("an issued certificate's subject key is the node's X25519 CURVE key, with keyAgreement and the role's EKU")
    func issuedCertificate() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let node = try pki.issue("alice-node", role: .node)
        let coordinator = try pki.issue("coordinator", role: .coordinator)
        let keyPair = try KeyFile.loadCurveKeys(path: node.keyPath)
        let certificate = try X509Certificate(pem: String(contentsOfFile: node.certificatePath, encoding: .utf8))
        #expect(try certificate.publicKey().rawPublicKey() == keyPair.publicKey)
        #expect(try certificate.publicKey().algorithm == .x25519)
        #expect(certificate.allowsKeyAgreement)
        #expect(certificate.allowsClientAuth && !certificate.allowsServerAuth)
        #expect(coordinator.certificate.allowsServerAuth && !coordinator.certificate.allowsClientAuth)
        #expect(certificate.subjectCommonName == "alice-node")
        #expect(certificate.subjectOrganization == "testlab")
        #expect(node.record.serial != coordinator.record.serial)
        #expect(node.record.serial.count == 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: node.keyPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let database = try pki.authority.database()
        #expect(database.certificates.map(\.name) == ["alice-node", "coordinator"])
        #expect(database.certificates.map(\.role) == [.node, .coordinator])
    }

    @Test("serials are unique across many issues")
    func uniqueSerials() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        for index in 0..<20 { try pki.issue("node-\(index)") }
        let serials = try pki.authority.database().certificates.map(\.serial)
        #expect(Set(serials).count == 20)
    }

    @Test("revoke marks the database and the next CRL lists the serial")
    func revoke() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let issued = try pki.issue("bob-node")
        try pki.issue("alice-node")
        let revoked = try pki.authority.revoke(name: "bob-node")
        #expect(revoked.map(\.serial) == [issued.record.serial])
        let crl = try pki.authority.publishCRL(validityDays: 7)
        #expect(crl.revoked.map(\.serialHex) == [issued.record.serial])
        #expect(try pki.authority.database().crlNumber == 2)
        #expect(throws: SecurityError.self) { try pki.authority.revoke(name: "bob-node") }
        #expect(throws: SecurityError.self) { try pki.authority.revoke(name: "nobody") }
    }

    @Test("bad names and validity are refused")
    func badInput() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        #expect(throws: SecurityError.self) { try pki.issue("../evil") }
        #expect(throws: SecurityError.self) { try pki.issue("ca") }
        #expect(throws: SecurityError.self) { try pki.issue("") }
        let now = Date()
        #expect(throws: SecurityError.self) {
            try pki.authority.issue(name: "x", role: .node, notBefore: now, notAfter: now.addingTimeInterval(-1))
        }
        #expect(throws: SecurityError.self) { try pki.authority.publishCRL(validityDays: 0) }
    }

    @Test("a private key readable by others is refused with a chmod 600 hint; 0600 loads")
    func keyPermissions() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let node = try pki.issue("alice-node")
        #expect(chmod(node.keyPath, 0o644) == 0)
        do {
            _ = try KeyFile.loadCurveKeys(path: node.keyPath)
            Issue.record("a 0644 key was accepted")
        } catch let error as SecurityError {
            #expect(error.kind == .insecureKeyFile)
            #expect(error.description.contains("chmod 600 \(node.keyPath)"))
        }
        #expect(chmod(node.keyPath, 0o600) == 0)
        #expect(try KeyFile.loadCurveKeys(path: node.keyPath).publicKeyZ85 == node.publicKeyZ85)
        #expect(chmod(pki.layout.caKey, 0o640) == 0)
        #expect(throws: SecurityError.self) { try LabAuthority.open(directory: pki.layout.directory) }
    }

    @Test("CURVE secret keys never appear in text forms")
    func secretRedacted() throws {
        let pair = try CurveKeys.generate()
        let secretZ85 = try Z85.encode(pair.secretKey.bytes)
        for text in ["\(pair)", String(describing: pair.secretKey), String(reflecting: pair), String(reflecting: pair.secretKey)] {
            #expect(!text.contains(secretZ85))
            #expect(!text.contains(pair.secretKey.bytes.map { String($0) }.joined(separator: ", ")))
        }
        #expect("\(pair)".contains(pair.publicKeyZ85))
    }
}
