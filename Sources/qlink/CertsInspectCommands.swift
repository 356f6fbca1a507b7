import ArgumentParser
import Foundation
import OpenSSLKit
import Security

extension CertsCommand {
    /// `qlink certs show FILE`
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Describe a certificate, CRL or private key file (secret keys are never printed).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "PEM file: certificate, CRL or private key.") var file: String
        @Flag(help: "Also print every field, as `openssl x509 -text` does.") var text = false

        func run() throws {
            let content = try report { try TextFile.read(file, what: "PEM file") }
            try report {
                if content.contains("-----BEGIN CERTIFICATE-----") {
                    try showCertificate(X509Certificate(pem: content, context: file))
                } else if content.contains("-----BEGIN X509 CRL-----") {
                    try showCRL(X509RevocationList(pem: content, context: file))
                } else if content.contains("PRIVATE KEY-----") {
                    let key = try KeyFile.loadKey(path: file)
                    print("private key  \(file) (mode 0600 ok)")
                    print("algorithm    \(key.algorithm?.rawValue ?? "other")")
                    if key.algorithm == .x25519 {
                        print("CURVE public \(try CurveKeys(key: key).publicKeyZ85)")
                    }
                    print("secret       <not shown>")
                } else {
                    throw SecurityError(.invalidEncoding, "\(file) holds no PEM certificate, CRL or private key")
                }
            }
        }

        func showCertificate(_ certificate: X509Certificate) throws {
            print("subject      \(certificate.subjectText)")
            print("issuer       \(certificate.issuerText)")
            print("serial       \(certificate.serialHex)")
            print("valid        \(certificate.notBefore.map(dateText) ?? "?") to \(certificate.notAfter.map(dateText) ?? "?")")
            let key = try certificate.publicKey()
            print("key          \(key.algorithm?.rawValue ?? "other")")
            if key.algorithm == .x25519 {
                print("CURVE key    \(try Z85.encode(try key.rawPublicKey()))")
                let role = certificate.allowsClientAuth ? "node (clientAuth)" : certificate.allowsServerAuth ? "coordinator (serverAuth)" : "none"
                print("role         \(role)")
                print("keyAgreement \(certificate.allowsKeyAgreement ? "yes" : "no")")
            }
            if text { print(try certificate.text()) }
        }

        func showCRL(_ crl: X509RevocationList) throws {
            print("CRL issuer   \(crl.issuerCommonName ?? "?")")
            print("last update  \(crl.lastUpdate.map(dateText) ?? "?")")
            let expired = (crl.nextUpdate ?? .distantPast) < Date()
            print("next update  \(crl.nextUpdate.map(dateText) ?? "?")\(expired ? "   EXPIRED: run `qlink certs crl`" : "")")
            print("revoked      \(crl.revoked.count)")
            for entry in crl.revoked {
                print("  \(entry.serialHex)  \(entry.date.map(dateText) ?? "?")")
            }
            if text { print(try crl.text()) }
        }
    }

    /// `qlink certs verify FILE`
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a certificate against the lab CA and CRL as QLink does before admitting a peer.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Certificate (PEM).") var file: String
        @Option(help: "Required role; by default the role the certificate claims.") var role: NodeRole?
        @Option(help: "CA folder holding ca.crt and ca.crl; by default the certificate's folder.") var dir: String?
        @Flag(help: "Skip the CRL check (not recommended).") var noCrl = false

        func run() throws {
            let layout = PKILayout(directory: dir ?? (file as NSString).deletingLastPathComponent)
            let identity: VerifiedIdentity
            do {
                identity = try report {
                    let certificate = try X509Certificate(pem: try TextFile.read(file, what: "certificate"), context: file)
                    guard let required = role ?? NodeRole(certificate: certificate) else {
                        throw SecurityError(.verification, "\(file) grants neither the node nor the coordinator role")
                    }
                    let policy = try TrustPolicy(caCertificatePath: layout.caCertificate, crlPath: noCrl ? nil : layout.crl)
                    return try policy.verify(certificate, role: required)
                }
            } catch let failure as VerificationFailure {
                printError("\(file): REFUSED (\(failure.reason.rawValue)) \(failure.detail)")
                throw ExitCode.failure
            }
            print("\(file): OK — \(identity.role.rawValue) '\(identity.name)' of '\(identity.lab)', serial \(identity.serial), valid until \(dateText(identity.notAfter))")
        }
    }
}
