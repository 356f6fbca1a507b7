import COpenSSL
import Foundation

/// The purpose a certificate must allow (OpenSSL's `X509_PURPOSE_SSL_CLIENT` / `_SERVER`).
public enum CertificatePurpose: Sendable {
    /// Client authentication (extended key usage clientAuth).
    case client
    /// Server authentication (extended key usage serverAuth).
    case server

    var openSSLValue: Int32 {
        switch self {
        case .client: X509_PURPOSE_SSL_CLIENT
        case .server: X509_PURPOSE_SSL_SERVER
        }
    }
}

/// Why OpenSSL refused a certificate: its `X509_V_ERR_*` code, the library's text and the chain depth.
public struct ChainFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `X509_V_ERR_*` code, e.g. `X509_V_ERR_CERT_REVOKED`.
    public var code: Int32
    /// OpenSSL's explanation, e.g. `"certificate revoked"`.
    public var text: String
    /// Depth in the chain where it failed (0 = the certificate itself).
    public var depth: Int32

    public var description: String { "\(text) (X509 error \(code) at depth \(depth))" }
}

/// Verifies certificates through an OpenSSL `X509_STORE` that trusts exactly one CA.
///
/// Strict X.509 checks are on, the CRL (when given) is checked for the certificate, and the purpose is
/// checked. The store is built once and is safe to use from several threads.
public final class ChainVerifier: @unchecked Sendable {
    private let store: OpaquePointer
    /// The only trust anchor.
    public let trustAnchor: X509Certificate
    /// The CRL that is checked, or nil when revocation is not checked.
    public let revocationList: X509RevocationList?

    /// A verifier trusting only `trustAnchor`, checking revocation against `revocationList` when given.
    public init(trustAnchor: X509Certificate, revocationList: X509RevocationList?) throws {
        OpenSSLError.clearQueue()
        store = try require(X509_STORE_new(), "create certificate store")
        self.trustAnchor = trustAnchor
        self.revocationList = revocationList
        try check(X509_STORE_add_cert(store, trustAnchor.pointer), "add trust anchor")
        var flags = UInt(X509_V_FLAG_X509_STRICT)
        if let revocationList {
            try check(X509_STORE_add_crl(store, revocationList.pointer), "add CRL")
            flags |= UInt(X509_V_FLAG_CRL_CHECK)
        }
        try check(X509_STORE_set_flags(store, flags), "set verification flags")
    }

    deinit { X509_STORE_free(store) }

    /// Verifies `certificate` for `purpose` at the instant `time`; throws a ``ChainFailure`` when refused.
    public func verify(_ certificate: X509Certificate, purpose: CertificatePurpose, at time: Date = Date()) throws {
        OpenSSLError.clearQueue()
        let context = try require(X509_STORE_CTX_new(), "create verification context")
        defer { X509_STORE_CTX_free(context) }
        try check(X509_STORE_CTX_init(context, store, certificate.pointer, nil), "start verification")
        let parameters = X509_STORE_CTX_get0_param(context)
        X509_VERIFY_PARAM_set_time(parameters, time_t(time.timeIntervalSince1970.rounded(.down)))
        try check(X509_VERIFY_PARAM_set_purpose(parameters, purpose.openSSLValue), "set purpose")
        let result = X509_verify_cert(context)
        if result == 1 { return }
        let code = X509_STORE_CTX_get_error(context)
        let text = X509_verify_cert_error_string(Int(code)).map { String(cString: $0) } ?? "unknown error"
        let depth = X509_STORE_CTX_get_error_depth(context)
        OpenSSLError.clearQueue()
        throw ChainFailure(code: code, text: text, depth: depth)
    }
}
