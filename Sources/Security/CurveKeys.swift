import OpenSSLKit

/// A CURVE secret key (32 bytes). Its text forms are redacted so it never reaches logs or status output.
public struct CurveSecretKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The raw bytes; hand them only to libzmq (`ZMQ_CURVE_SECRETKEY`) or to a 0600 key file.
    public let bytes: [UInt8]

    /// Wraps 32 raw bytes.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == 32 else {
            throw SecurityError(.invalidArgument, "a CURVE secret key has 32 bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    public var description: String { "CurveSecretKey(<redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// The CurveZMQ key pair of a certificate holder: an X25519 key whose public half is the subject key of the holder's certificate.
public struct CurveKeys: Sendable, CustomStringConvertible {
    /// The public key, 32 bytes.
    public let publicKey: [UInt8]
    /// The secret key, redacted in all text output.
    public let secretKey: CurveSecretKey

    /// The public key in Z85 (40 characters), as ZeroMQ tools show it.
    public var publicKeyZ85: String { (try? Z85.encode(publicKey)) ?? "" }

    /// A fresh key pair from OpenSSL's random generator.
    public static func generate() throws -> CurveKeys {
        try CurveKeys(key: try wrap { try EVPKey.generate(.x25519) })
    }

    /// The key pair held by an X25519 `EVPKey`.
    public init(key: EVPKey) throws {
        guard key.algorithm == .x25519 else {
            throw SecurityError(.invalidArgument, "a CURVE key must be an X25519 key")
        }
        publicKey = try wrap { try key.rawPublicKey() }
        secretKey = try CurveSecretKey(bytes: try wrap { try key.rawPrivateKey() })
    }

    /// The key pair as an OpenSSL key (for writing the PKCS#8 key file).
    public func evpKey() throws -> EVPKey {
        try wrap { try EVPKey(x25519SecretKey: secretKey.bytes) }
    }

    public var description: String { "CurveKeys(public: \(publicKeyZ85), secret: <redacted>)" }
}

/// Runs an OpenSSLKit call and turns its errors into ``SecurityError``.
func wrap<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as OpenSSLError {
        throw SecurityError(.openSSL, error.description)
    }
}
