import CZeroMQ
import Foundation
import Testing
import OpenSSLKit
@testable import Security

@Suite("Interop with the openssl program and libzmq")
struct InteropTests {
    @Test("openssl verify accepts a node certificate with the CRL and strict checks, and refuses it once revoked",
          .enabled(if: openSSLProgramAvailable, "the openssl program is not installed"),
          arguments: [KeyAlgorithm.ed25519, .ecdsaP256])
    func opensslVerify(algorithm: KeyAlgorithm) throws {
        let pki = try TestPKI(algorithm: algorithm)
        defer { pki.remove() }
        let node = try pki.issue("alice-node")
        let coordinator = try pki.issue("coordinator", role: .coordinator)
        let layout = pki.layout
        let verify = { (purpose: String, file: String) in
            try runOpenSSL(["verify", "-x509_strict", "-purpose", purpose, "-CAfile", layout.caCertificate,
                            "-crl_check", "-CRLfile", layout.crl, file])
        }
        let accepted = try verify("sslclient", node.certificatePath)
        #expect(accepted.status == 0, "\(accepted.output)")
        #expect(accepted.output.contains(": OK"))
        #expect(try verify("sslserver", coordinator.certificatePath).status == 0)
        #expect(try verify("sslserver", node.certificatePath).status != 0)

        _ = try pki.authority.revoke(name: "alice-node")
        try pki.authority.publishCRL()
        let refused = try verify("sslclient", node.certificatePath)
        #expect(refused.status != 0)
        #expect(refused.output.contains("certificate revoked"))
    }

    @Test("openssl x509, crl and pkey read what QLink writes",
          .enabled(if: openSSLProgramAvailable, "the openssl program is not installed"))
    func opensslReads() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let node = try pki.issue("bob-node")
        _ = try pki.authority.revoke(name: "bob-node")
        try pki.authority.publishCRL()

        let text = try runOpenSSL(["x509", "-in", node.certificatePath, "-noout", "-text"])
        #expect(text.status == 0)
        #expect(text.output.contains("X25519"))
        #expect(text.output.contains("Key Agreement"))
        #expect(text.output.contains("TLS Web Client Authentication"))
        #expect(text.output.contains("ED25519") || text.output.contains("Ed25519"))

        let crl = try runOpenSSL(["crl", "-in", pki.layout.crl, "-noout", "-text"])
        #expect(crl.status == 0)
        #expect(crl.output.contains(node.record.serial))
        #expect(crl.output.contains("Next Update"))

        let publicKey = try runOpenSSL(["pkey", "-in", node.keyPath, "-pubout"])
        #expect(publicKey.status == 0)
        #expect(publicKey.output == (try node.certificate.publicKey().publicKeyPEM()))
    }

    @Test("libzmq derives the same CURVE public key from the secret key OpenSSL generated")
    func curveCompatible() throws {
        let pair = try CurveKeys.generate()
        let secretZ85 = try Z85.encode(pair.secretKey.bytes)
        var derived = [CChar](repeating: 0, count: 41)
        #expect(zmq_curve_public(&derived, secretZ85) == 0)
        let derivedText = String(decoding: derived.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #expect(derivedText == pair.publicKeyZ85)
    }
}
