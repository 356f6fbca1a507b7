import Foundation
import Logging
import OpenSSLKit

/// The certificates in a store folder, indexed by their CURVE public key.
///
/// Trust comes from the CA signature, not from the folder: a certificate found here is still verified
/// before its holder is admitted. Files that are not X25519 certificates (such as `ca.crt`) are skipped.
public struct CertificateDirectory: Sendable {
    /// Certificates by CURVE public key.
    private let byKey: [[UInt8]: [X509Certificate]]
    /// How many certificates were indexed.
    public let count: Int

    /// Reads every `*.crt` and `*.pem` file in `path`; unreadable files are logged and skipped.
    public init(path: String, logger: Logger? = nil) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        } catch {
            throw SecurityError(.fileAccess, "cannot list certificate store \(path): \(error.localizedDescription)")
        }
        var index: [[UInt8]: [X509Certificate]] = [:]
        var count = 0
        for name in names where name.hasSuffix(".crt") || name.hasSuffix(".pem") {
            let file = URL(fileURLWithPath: path).appendingPathComponent(name).path
            guard let data = FileManager.default.contents(atPath: file),
                  let certificates = try? X509Certificate.all(pem: String(decoding: data, as: UTF8.self)) else {
                logger?.warning("certificates.store.unreadable", metadata: ["certificates.file": "\(file)"])
                continue
            }
            for certificate in certificates {
                guard let key = try? certificate.publicKey(), key.algorithm == .x25519,
                      let raw = try? key.rawPublicKey() else { continue }
                index[raw, default: []].append(certificate)
                count += 1
            }
        }
        byKey = index
        self.count = count
    }

    /// The certificates whose subject key is exactly `curvePublicKey`.
    public func certificates(forKey curvePublicKey: [UInt8]) -> [X509Certificate] {
        byKey[curvePublicKey] ?? []
    }
}
