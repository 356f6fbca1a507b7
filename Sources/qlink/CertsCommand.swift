import ArgumentParser
import Foundation
import OpenSSLKit
import Security

/// `qlink certs`: the lab certificate authority.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Run the lab CA: issue, revoke, publish CRLs, show and verify certificates.",
        subcommands: [Init.self, Issue.self, Revoke.self, CRL.self, Show.self, Verify.self]
    )

    static let defaultDirectory = "certs/loopback"

    /// `qlink certs init --lab NAME --out DIR`
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a lab CA: signing key (0600), self-signed certificate, database and empty CRL.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Lab or experiment name (the O of every certificate).") var lab: String
        @Option(help: "Folder for the CA files.") var out: String = CertsCommand.defaultDirectory
        @Option(help: "CA key algorithm: ed25519 or ecdsa-p256.") var algorithm: KeyAlgorithm = .ed25519
        @Option(help: "CA certificate validity in days.") var days: Int = 3650
        @Option(help: "Validity of the first CRL in days.") var crlDays: Int = 30

        func run() throws {
            let logger = global.makeLogger("qlink.certs")
            let authority = try report {
                try LabAuthority.create(lab: lab, directory: out, algorithm: algorithm, validityDays: days, crlDays: crlDays)
            }
            logger.info("certs.ca_created", metadata: ["certs.lab": "\(lab)", "certs.serial": "\(authority.certificate.serialHex)"])
            print("created lab CA '\(lab)' (\(algorithm.rawValue)) in \(out)")
            print("  certificate  \(authority.layout.caCertificate)   (share with the other lab)")
            print("  signing key  \(authority.layout.caKey)   (mode 0600; keep offline if you can)")
            print("  CRL          \(authority.layout.crl)   (renew before \(dateText(Date().addingTimeInterval(Double(crlDays) * 86_400))))")
        }
    }

    /// `qlink certs issue NODE --role node|coordinator`
    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a node or coordinator a fresh CURVE key pair and a certificate carrying its public key.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Node or coordinator name (the certificate's CN).") var node: String
        @Option(help: "Role: node (clientAuth) or coordinator (serverAuth).") var role: NodeRole
        @Option(help: "Validity in days.") var days: Int = 365
        @Option(help: "CA folder.") var dir: String = CertsCommand.defaultDirectory

        func run() throws {
            let logger = global.makeLogger("qlink.certs")
            guard (1...3650).contains(days) else { throw ValidationError("--days must be 1 to 3650") }
            let issued = try report {
                let authority = try LabAuthority.open(directory: dir)
                let now = Date()
                return try authority.issue(name: node, role: role, notBefore: now.addingTimeInterval(-300),
                                           notAfter: now.addingTimeInterval(Double(days) * 86_400))
            }
            logger.info("certs.issued", metadata: ["certs.name": "\(node)", "certs.role": "\(role.rawValue)",
                                                   "certs.serial": "\(issued.record.serial)"])
            print("issued \(role.rawValue) certificate for '\(node)'")
            print("  serial       \(issued.record.serial)")
            print("  valid until  \(dateText(issued.record.notAfter))")
            print("  CURVE key    \(issued.publicKeyZ85)")
            print("  certificate  \(issued.certificatePath)")
            print("  private key  \(issued.keyPath)   (mode 0600; copy only to \(node))")
        }
    }

    /// `qlink certs revoke NODE`
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a node's standing certificates and publish a new CRL.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Node or coordinator name.") var node: String
        @Option(help: "Revoke only the certificate with this serial (hexadecimal).") var serial: String?
        @Option(help: "Validity of the new CRL in days.") var crlDays: Int = 30
        @Option(help: "CA folder.") var dir: String = CertsCommand.defaultDirectory

        func run() throws {
            let logger = global.makeLogger("qlink.certs")
            let (revoked, crl) = try report {
                let authority = try LabAuthority.open(directory: dir)
                let revoked = try authority.revoke(name: node, serial: serial)
                return (revoked, try authority.publishCRL(validityDays: crlDays))
            }
            for record in revoked {
                logger.notice("certs.revoked", metadata: ["certs.name": "\(node)", "certs.serial": "\(record.serial)"])
                print("revoked '\(node)' serial \(record.serial)")
            }
            print("published \(PKILayout(directory: dir).crl) with \(crl.revoked.count) revoked; next update \(crl.nextUpdate.map(dateText) ?? "?")")
            print("copy it to every coordinator and node (they pick it up without a restart)")
        }
    }

    /// `qlink certs crl`
    struct CRL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "crl", abstract: "Sign and publish a fresh CRL (renew it before its next update).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Days until the next update; verification fails closed after it.") var days: Int = 30
        @Option(help: "CA folder.") var dir: String = CertsCommand.defaultDirectory

        func run() throws {
            let logger = global.makeLogger("qlink.certs")
            let crl = try report { try LabAuthority.open(directory: dir).publishCRL(validityDays: days) }
            logger.info("certs.crl_published", metadata: ["certs.revoked": "\(crl.revoked.count)"])
            print("published \(PKILayout(directory: dir).crl): \(crl.revoked.count) revoked, next update \(crl.nextUpdate.map(dateText) ?? "?")")
        }
    }
}

extension NodeRole: ExpressibleByArgument {}
extension KeyAlgorithm: ExpressibleByArgument {}

/// Runs `body`, turning QLink errors into a clear message and a failing exit code.
func report<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as SecurityError {
        printError("error: \(error)")
        throw ExitCode.failure
    } catch let error as OpenSSLError {
        printError("error: \(error)")
        throw ExitCode.failure
    }
}

/// A date as `2026-11-25 15:00:00 UTC`.
func dateText(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
    return formatter.string(from: date)
}
