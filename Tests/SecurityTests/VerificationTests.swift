import Foundation
import Logging
import Testing
import OpenSSLKit
@testable import Security

@Suite("Certificate verification")
struct VerificationTests {
    let day = TestPKI.day

    func reason(_ body: () throws -> VerifiedIdentity) -> RefusalReason? {
        do {
            _ = try body()
            return nil
        } catch let failure as VerificationFailure {
            return failure.reason
        } catch {
            return .invalidCertificate
        }
    }

    @Test("a valid node certificate verifies with its identity, role, serial and key")
    func valid() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let node = try pki.issue("alice-node")
        let identity = try pki.policy().verify(node.certificate, role: .node)
        #expect(identity.name == "alice-node")
        #expect(identity.lab == "testlab")
        #expect(identity.serial == node.record.serial)
        #expect(try Z85.encode(identity.curvePublicKey) == node.publicKeyZ85)
    }

    @Test("each refusal carries its reason")
    func refusals() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let other = try TestPKI(lab: "otherlab")
        defer { other.remove() }
        let now = Date()
        let foreign = try other.issue("mallory")
        let expired = try pki.authority.issue(name: "old", role: .node, notBefore: now.addingTimeInterval(-10 * day),
                                              notAfter: now.addingTimeInterval(-day))
        let future = try pki.authority.issue(name: "future", role: .node, notBefore: now.addingTimeInterval(day),
                                             notAfter: now.addingTimeInterval(10 * day))
        let coordinator = try pki.issue("coordinator", role: .coordinator)
        let revoked = try pki.issue("bob-node")
        _ = try pki.authority.revoke(name: "bob-node")
        try pki.authority.publishCRL()
        let policy = try pki.policy()

        #expect(reason { try policy.verify(foreign.certificate, role: .node) } == .untrustedIssuer)
        #expect(reason { try policy.verify(expired.certificate, role: .node) } == .expired)
        #expect(reason { try policy.verify(future.certificate, role: .node) } == .notYetValid)
        #expect(reason { try policy.verify(revoked.certificate, role: .node) } == .revoked)
        #expect(reason { try policy.verify(coordinator.certificate, role: .node) } == .wrongRole)
        #expect(reason { try policy.verify(pki.issue("n2").certificate, role: .coordinator) } == .wrongRole)
        #expect(reason { try policy.verify(coordinator.certificate, role: .coordinator) } == nil)
        #expect(reason { try policy.verify(pki.authority.certificate, role: .node) } == .invalidCertificate)
    }

    @Test("an expired CRL fails closed; a CRL from another CA is refused at load")
    func crlChecks() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let node = try pki.issue("alice-node")
        let now = Date()
        try pki.authority.publishCRL(lastUpdate: now.addingTimeInterval(-10 * day), nextUpdate: now.addingTimeInterval(-day))
        #expect(reason { try pki.policy().verify(node.certificate, role: .node) } == .crlExpired)

        let other = try TestPKI(lab: "otherlab")
        defer { other.remove() }
        #expect(throws: SecurityError.self) {
            try TrustPolicy(caCertificatePath: pki.layout.caCertificate, crlPath: other.layout.crl)
        }
    }

    @Test("the authenticator admits by exact key, counts refusals and picks up a new CRL without restart")
    func authenticator() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let node = try pki.issue("alice-node")
        let authenticator = try PeerAuthenticator(configuration: TrustConfiguration(layout: pki.layout),
                                                  logger: Logger(label: "test"))
        let key = try Z85.decode(node.publicKeyZ85)
        #expect(try authenticator.authenticate(curvePublicKey: key).get().name == "alice-node")
        var stranger = key
        stranger[0] ^= 1
        #expect(throws: VerificationFailure(.unknownKey, "no certificate in \(pki.layout.directory) has this key")) {
            try authenticator.authenticate(curvePublicKey: stranger).get()
        }
        #expect(authenticator.isStillTrusted(serial: node.record.serial))

        _ = try pki.authority.revoke(name: "alice-node")
        try pki.authority.publishCRL()
        #expect(!authenticator.isStillTrusted(serial: node.record.serial))
        #expect(throws: VerificationFailure.self) { try authenticator.authenticate(curvePublicKey: key).get() }
        #expect(authenticator.refusalCounts() == [.unknownKey: 1, .revoked: 1])
        #expect(authenticator.admitted == 1)
    }
}
