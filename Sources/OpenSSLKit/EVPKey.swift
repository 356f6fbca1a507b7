import COpenSSL

/// The key algorithms QLink uses.
public enum KeyAlgorithm: String, Sendable, CaseIterable {
    /// X25519 key agreement: the CurveZMQ key of a node (RFC 8410 in certificates).
    case x25519
    /// Ed25519 signatures: the default lab CA key.
    case ed25519
    /// ECDSA on NIST P-256 with SHA-256: the alternative lab CA key.
    case ecdsaP256 = "ecdsa-p256"
}

/// An owned OpenSSL `EVP_PKEY` (public key, or key pair).
public final class EVPKey: @unchecked Sendable {
    /// The underlying `EVP_PKEY *`; valid for the life of this object.
    public let pointer: OpaquePointer

    /// Takes ownership of `pointer` (one reference).
    public init(owning pointer: OpaquePointer) { self.pointer = pointer }

    deinit { EVP_PKEY_free(pointer) }

    /// Generates a fresh key pair of `algorithm` from OpenSSL's random generator.
    public static func generate(_ algorithm: KeyAlgorithm) throws -> EVPKey {
        OpenSSLError.clearQueue()
        let key: OpaquePointer?
        switch algorithm {
        case .x25519: key = qlink_keygen_named("X25519")
        case .ed25519: key = qlink_keygen_named("ED25519")
        case .ecdsaP256: key = qlink_keygen_ec_p256()
        }
        return EVPKey(owning: try require(key, "generate \(algorithm.rawValue) key"))
    }

    /// An X25519 public key from its 32 raw bytes.
    public convenience init(x25519PublicKey bytes: [UInt8]) throws {
        guard bytes.count == 32 else {
            throw OpenSSLError(operation: "load X25519 public key", reasons: ["expected 32 bytes, got \(bytes.count)"])
        }
        OpenSSLError.clearQueue()
        let key = bytes.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key(qlink_evp_pkey_x25519(), nil, $0.baseAddress, 32)
        }
        self.init(owning: try require(key, "load X25519 public key"))
    }

    /// An X25519 key pair from its 32-byte raw secret key.
    public convenience init(x25519SecretKey bytes: [UInt8]) throws {
        guard bytes.count == 32 else {
            throw OpenSSLError(operation: "load X25519 secret key", reasons: ["expected 32 bytes"])
        }
        OpenSSLError.clearQueue()
        let key = bytes.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_private_key(qlink_evp_pkey_x25519(), nil, $0.baseAddress, 32)
        }
        self.init(owning: try require(key, "load X25519 secret key"))
    }

    /// Reads a private key from PEM (PKCS#8 `PRIVATE KEY`, or the algorithm's traditional form).
    public convenience init(privateKeyPEM pem: String, context: String = "") throws {
        let bio = try MemoryBIO(text: pem)
        OpenSSLError.clearQueue()
        let key = PEM_read_bio_PrivateKey(bio.pointer, nil, nil, nil)
        self.init(owning: try require(key, "read private key", context: context))
    }

    /// The algorithm of this key, if it is one QLink uses.
    public var algorithm: KeyAlgorithm? {
        switch qlink_evp_pkey_id(pointer) {
        case qlink_evp_pkey_x25519(): return .x25519
        case qlink_evp_pkey_ed25519(): return .ed25519
        case qlink_evp_pkey_ec(): return .ecdsaP256
        default: return nil
        }
    }

    /// The raw public key (32 bytes for X25519 and Ed25519).
    public func rawPublicKey() throws -> [UInt8] {
        var length = 0
        OpenSSLError.clearQueue()
        try check(EVP_PKEY_get_raw_public_key(pointer, nil, &length), "read raw public key length")
        var bytes = [UInt8](repeating: 0, count: length)
        try check(EVP_PKEY_get_raw_public_key(pointer, &bytes, &length), "read raw public key")
        return Array(bytes.prefix(length))
    }

    /// The raw private key (32 bytes for X25519 and Ed25519). Handle with care: never log it.
    public func rawPrivateKey() throws -> [UInt8] {
        var length = 0
        OpenSSLError.clearQueue()
        try check(EVP_PKEY_get_raw_private_key(pointer, nil, &length), "read raw private key length")
        var bytes = [UInt8](repeating: 0, count: length)
        try check(EVP_PKEY_get_raw_private_key(pointer, &bytes, &length), "read raw private key")
        return Array(bytes.prefix(length))
    }

    /// The private key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    public func privateKeyPEM() throws -> String {
        let bio = try MemoryBIO()
        OpenSSLError.clearQueue()
        try check(PEM_write_bio_PrivateKey(bio.pointer, pointer, nil, nil, 0, nil, nil), "write private key")
        return bio.text
    }

    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`).
    public func publicKeyPEM() throws -> String {
        let bio = try MemoryBIO()
        OpenSSLError.clearQueue()
        try check(PEM_write_bio_PUBKEY(bio.pointer, pointer), "write public key")
        return bio.text
    }

    /// Whether this key and `other` hold the same public key.
    public func hasSamePublicKey(as other: EVPKey) -> Bool {
        let equal = EVP_PKEY_eq(pointer, other.pointer) == 1
        OpenSSLError.clearQueue()
        return equal
    }
}
