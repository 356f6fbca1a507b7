import Foundation
import OpenSSLKit

/// This process's own certificate and the CURVE keys it certifies.
public struct LocalIdentity: Sendable {
    /// The certificate (its subject key is ``keys``' public key).
    public let certificate: X509Certificate
    /// The CURVE key pair from the 0600 key file.
    public let keys: CurveKeys

    /// Loads the certificate and key and checks that the key is the one the certificate carries.
    public init(certificatePath: String, keyPath: String) throws {
        let certificate = try wrap {
            try X509Certificate(pem: try TextFile.read(certificatePath, what: "certificate", whenMissing: TextFile.noLabCAHint), context: certificatePath)
        }
        let keys = try KeyFile.loadCurveKeys(path: keyPath)
        guard (try? certificate.publicKey().rawPublicKey()) == keys.publicKey else {
            throw SecurityError(.verification, "\(keyPath) does not hold the key certified by \(certificatePath)",
                                hint: "use the key file written together with the certificate by `qlink certs issue`")
        }
        self.certificate = certificate
        self.keys = keys
    }

    /// Loads as above and also verifies the certificate for `role` with `policy`, so a process does not
    /// start with a certificate its peers will refuse.
    public init(certificatePath: String, keyPath: String, role: NodeRole, policy: TrustPolicy) throws {
        try self.init(certificatePath: certificatePath, keyPath: keyPath)
        do {
            _ = try policy.verify(certificate, role: role)
        } catch let failure as VerificationFailure {
            throw SecurityError(.verification, "own certificate \(certificatePath) is refused (\(failure))",
                                hint: "issue a new one with `qlink certs issue`")
        }
    }
}
