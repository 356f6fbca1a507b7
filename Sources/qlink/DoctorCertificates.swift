import Foundation
import LinkModel
import OpenSSLKit
import Security

/// The certificate part of `qlink doctor`: CRL freshness and every configured identity, checked as peers will.
enum DoctorCertificates {
    /// Prints one line per check and returns the problems found.
    static func check(_ link: LinkConfiguration) -> [String] {
        var problems: [String] = []
        let security = link.security
        let policy: TrustPolicy
        do {
            policy = try TrustPolicy(caCertificatePath: security.caCertificate, crlPath: security.crl)
        } catch {
            return ["cannot load the lab CA or CRL: \(error)"]
        }
        if let next = policy.crlNextUpdate {
            let expired = next < Date()
            print("            CRL next update \(dateText(next))\(expired ? " — EXPIRED, every peer is refused" : "")")
            if expired { problems.append("the CRL expired; publish a new one with `qlink certs crl`") }
        } else {
            print("            no CRL configured: revocation is not checked")
        }
        var identities = [(link.coordinator.name, link.coordinator.certificate, link.coordinator.privateKey, NodeRole.coordinator)]
        for lab in link.labs { identities.append((lab.node, lab.certificate, lab.privateKey, .node)) }
        for (name, certificate, key, role) in identities {
            guard FileManager.default.fileExists(atPath: certificate) else {
                print("            \(name): no certificate yet (`qlink certs issue \(name) --role \(role.rawValue)`)")
                continue
            }
            do {
                if FileManager.default.fileExists(atPath: key) {
                    _ = try LocalIdentity(certificatePath: certificate, keyPath: key, role: role, policy: policy)
                    print("            \(name): certificate and key ok")
                } else {
                    let pem = try TextFile.read(certificate, what: "certificate")
                    _ = try policy.verify(try X509Certificate(pem: pem, context: certificate), role: role)
                    print("            \(name): certificate ok (its key lives on another machine)")
                }
            } catch {
                print("            \(name): NOT USABLE (see below)")
                problems.append("\(name): \(error)")
            }
        }
        return problems
    }
}
