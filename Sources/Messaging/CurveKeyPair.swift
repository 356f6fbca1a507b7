import CZeroMQ

/// A CurveZMQ (X25519) key pair as raw 32-byte keys.
///
/// The secret key is never printed: `description` shows the public key only.
public struct CurveKeyPair: Sendable, Equatable, CustomStringConvertible {
    /// The public key (32 bytes).
    public let publicKey: [UInt8]
    /// The secret key (32 bytes). Keep it out of logs.
    public let secretKey: [UInt8]

    public init(publicKey: [UInt8], secretKey: [UInt8]) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A fresh random key pair from libzmq (libsodium).
    public static func generate() throws(ZMQError) -> CurveKeyPair {
        var publicText = [CChar](repeating: 0, count: 41)
        var secretText = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicText, &secretText) == 0 else { throw ZMQError("zmq_curve_keypair") }
        defer { for index in secretText.indices { secretText[index] = 0 } }
        return CurveKeyPair(publicKey: try decodeZ85(publicText), secretKey: try decodeZ85(secretText))
    }

    private static func decodeZ85(_ text: [CChar]) throws(ZMQError) -> [UInt8] {
        var key = [UInt8](repeating: 0, count: 32)
        guard zmq_z85_decode(&key, text) != nil else { throw ZMQError("zmq_z85_decode", code: EINVAL) }
        return key
    }

    public var description: String {
        "CurveKeyPair(public: \(publicKey.map { String($0, radix: 16) }.joined().prefix(16))…, secret: <redacted>)"
    }
}

extension Socket {
    /// Makes this socket a CURVE server with `keys`.
    public func makeCurveServer(_ keys: CurveKeyPair) throws(ZMQError) {
        try set([.curveServer(true), .curveSecretKey(keys.secretKey), .curvePublicKey(keys.publicKey)])
    }

    /// Makes this socket a CURVE client with `keys` that accepts only a server holding `serverPublicKey`.
    public func makeCurveClient(_ keys: CurveKeyPair, serverPublicKey: [UInt8]) throws(ZMQError) {
        try set([.curveServerKey(serverPublicKey), .curvePublicKey(keys.publicKey), .curveSecretKey(keys.secretKey)])
    }
}
