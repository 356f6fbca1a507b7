import Foundation
import Logging
import OpenSSLKit
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where the trust material lives: the lab CA, its CRL and the store of peer certificates.
public struct TrustConfiguration: Sendable, Equatable {
    /// PEM file of the lab CA (the only trust anchor).
    public var caCertificate: String
    /// PEM file of the CRL; nil disables revocation checks (not recommended).
    public var crl: String?
    /// Folder of peer certificates.
    public var certificateStore: String

    /// Collects the paths.
    public init(caCertificate: String, crl: String?, certificateStore: String) {
        self.caCertificate = caCertificate
        self.crl = crl
        self.certificateStore = certificateStore
    }

    /// The trust material of a CA folder laid out by `qlink certs` (CA, CRL and store all in `directory`).
    public init(layout: PKILayout) {
        self.init(caCertificate: layout.caCertificate, crl: layout.crl, certificateStore: layout.directory)
    }
}

/// Decides whether a peer presenting a CURVE public key may connect, from the certificates in the store.
///
/// A peer is admitted only if a store certificate has exactly its key, chains to the lab CA, is valid now,
/// is not on the current CRL and grants the required role. The CA, CRL and store are re-read when their
/// files change, so a new CRL takes effect without a restart. Every refusal is logged and counted.
public final class PeerAuthenticator: Sendable {
    private struct Material: Sendable {
        var policy: TrustPolicy?
        var store: CertificateDirectory?
        var loadError: String?
        var stamp: [Int64]
    }

    /// The files this authenticator reads.
    public let configuration: TrustConfiguration
    /// The role peers must have (``NodeRole/node`` on the coordinator, ``NodeRole/coordinator`` on nodes).
    public let requiredRole: NodeRole
    private let logger: Logger
    private let material: Mutex<Material>
    private let counts = Mutex<[RefusalReason: Int]>([:])
    private let admittedCount = Mutex(0)

    /// Loads the trust material; throws when it cannot be read at start.
    public init(configuration: TrustConfiguration, requiredRole: NodeRole = .node, logger: Logger) throws {
        self.configuration = configuration
        self.requiredRole = requiredRole
        self.logger = logger
        let stamp = Self.stamp(of: configuration)
        let policy = try TrustPolicy(caCertificatePath: configuration.caCertificate, crlPath: configuration.crl)
        let store = try CertificateDirectory(path: configuration.certificateStore, logger: logger)
        material = Mutex(Material(policy: policy, store: store, loadError: nil, stamp: stamp))
        logger.info("auth.loaded", metadata: ["auth.certificates": "\(store.count)",
                                              "auth.crl.next_update": "\(policy.crlNextUpdate.map { "\($0)" } ?? "none")"])
    }

    /// Decides on a peer presenting `curvePublicKey` (32 bytes) at `time`, connecting from `peerAddress`
    /// (the ZAP request's address, for the log).
    public func authenticate(curvePublicKey: [UInt8], at time: Date = Date(),
                             peerAddress: String? = nil) -> Result<VerifiedIdentity, VerificationFailure> {
        let result = decide(curvePublicKey: curvePublicKey, at: time)
        switch result {
        case .success(let identity):
            admittedCount.withLock { $0 += 1 }
            logger.info("auth.admitted", metadata: ["auth.peer": "\(identity.name)", "auth.serial": "\(identity.serial)",
                                                    "auth.peer_address": "\(peerAddress ?? "unknown")"])
        case .failure(let failure):
            record(failure, key: curvePublicKey, peerAddress: peerAddress)
        }
        return result
    }

    /// Counts and logs a refusal decided elsewhere (e.g. a NULL-mechanism handshake): reason, detail, the
    /// presented key and the peer's address when known; for a refusal seen on a server socket's monitor, the
    /// monitor event (`auth.event`, e.g. `HANDSHAKE_FAILED_PROTOCOL`) and the listening endpoint it names
    /// (`auth.endpoint`).
    public func record(_ failure: VerificationFailure, key: [UInt8]? = nil, peerAddress: String? = nil,
                       event: String? = nil, listeningEndpoint: String? = nil) {
        var metadata: Logger.Metadata = ["auth.reason": "\(failure.reason.rawValue)", "auth.detail": "\(failure.detail)",
                                         "auth.peer_address": "\(peerAddress ?? "unknown")"]
        if let key, let z85 = try? Z85.encode(key) { metadata["auth.peer_key"] = "\(z85)" }
        if let event { metadata["auth.event"] = "\(event)" }
        if let listeningEndpoint { metadata["auth.endpoint"] = "\(listeningEndpoint)" }
        if failure.reason == .crlExpired || failure.reason == .crlInvalid {
            logger.error("auth.refused.revocation_list_unusable", metadata: metadata)
        } else {
            logger.warning("auth.refused", metadata: metadata)
        }
        // Counted after the log record is written: whoever sees the count finds the record.
        counts.withLock { $0[failure.reason, default: 0] += 1 }
    }

    /// Whether the certificate with `serial` is still acceptable now: the CRL is current and does not list it.
    /// Call on every message so a certificate revoked mid-session is cut off at its next message.
    public func isStillTrusted(serial: String, at time: Date = Date()) -> Bool {
        let policy = current().policy
        guard let policy else { return false }
        if let next = policy.crlNextUpdate, next < time { return false }
        return !policy.isRevoked(serial: serial)
    }

    /// Whether the current CRL is past its next-update date (or no usable trust material is loaded).
    public func crlHasExpired(at time: Date = Date()) -> Bool {
        guard let policy = current().policy else { return true }
        return policy.crlNextUpdate.map { $0 < time } ?? false
    }

    /// Refusals so far, by reason.
    public func refusalCounts() -> [RefusalReason: Int] { counts.withLock { $0 } }
    /// Peers admitted so far.
    public var admitted: Int { admittedCount.withLock { $0 } }

    /// Re-reads the CA, CRL and store now, whether or not the files changed.
    public func reload() { _ = current(force: true) }

    private func decide(curvePublicKey: [UInt8], at time: Date) -> Result<VerifiedIdentity, VerificationFailure> {
        let snapshot = current()
        guard let policy = snapshot.policy, let store = snapshot.store else {
            return .failure(VerificationFailure(.crlInvalid, snapshot.loadError ?? "trust material unavailable"))
        }
        let candidates = store.certificates(forKey: curvePublicKey)
        guard !candidates.isEmpty else {
            return .failure(VerificationFailure(.unknownKey, "no certificate in \(configuration.certificateStore) has this key"))
        }
        var firstFailure: VerificationFailure?
        for certificate in candidates {
            do {
                return .success(try policy.verify(certificate, role: requiredRole, at: time))
            } catch let failure as VerificationFailure {
                if firstFailure == nil { firstFailure = failure }
            } catch {
                if firstFailure == nil { firstFailure = VerificationFailure(.invalidCertificate, "\(error)") }
            }
        }
        return .failure(firstFailure ?? VerificationFailure(.invalidCertificate, "no usable certificate"))
    }

    /// The current material, re-read when a file changed. A reload that fails leaves no policy: fail closed.
    private func current(force: Bool = false) -> Material {
        let stamp = Self.stamp(of: configuration)
        return material.withLock { material in
            guard force || stamp != material.stamp else { return material }
            do {
                let policy = try TrustPolicy(caCertificatePath: configuration.caCertificate, crlPath: configuration.crl)
                let store = try CertificateDirectory(path: configuration.certificateStore, logger: logger)
                material = Material(policy: policy, store: store, loadError: nil, stamp: stamp)
                logger.notice("auth.reloaded", metadata: [
                    "auth.certificates": "\(store.count)", "auth.revoked": "\(policy.revokedSerials.count)",
                    "auth.crl.next_update": "\(policy.crlNextUpdate.map { "\($0)" } ?? "none")"])
            } catch {
                material = Material(policy: nil, store: nil, loadError: "\(error)", stamp: stamp)
                logger.error("auth.reload_failed.refusing_all", metadata: ["auth.error": "\(error)"])
            }
            return material
        }
    }

    /// Modification times and sizes of the trust files and the store folder.
    private static func stamp(of configuration: TrustConfiguration) -> [Int64] {
        [configuration.caCertificate, configuration.crl ?? "", configuration.certificateStore].flatMap { path -> [Int64] in
            var status = stat()
            guard !path.isEmpty, stat(path, &status) == 0 else { return [-1, -1, -1, -1] }
            return [Int64(status.st_mtim.tv_sec), Int64(status.st_mtim.tv_nsec), Int64(status.st_size), Int64(status.st_ino)]
        }
    }
}
