/// A ZAP request (ZeroMQ RFC 27) as libzmq sends it to the handler at `inproc://zeromq.zap.01`.
public struct ZAPRequest: Sendable, Equatable {
    /// Protocol version, always `1.0`.
    public var version: String
    /// Opaque request id, echoed in the reply.
    public var requestID: [UInt8]
    /// The server socket's ZAP domain.
    public var domain: String
    /// The peer's IP address.
    public var address: String
    /// The server socket's routing id (not the client's; libzmq #4161).
    public var identity: [UInt8]
    /// `NULL`, `PLAIN` or `CURVE`.
    public var mechanism: String
    /// Mechanism credentials; for CURVE one frame, the client's 32-byte public key.
    public var credentials: [[UInt8]]

    /// Parses the frames of a request (without the REQ/REP empty delimiter); nil when malformed.
    public init?(frames: [[UInt8]]) {
        guard frames.count >= 6 else { return nil }
        version = String(decoding: frames[0], as: UTF8.self)
        requestID = frames[1]
        domain = String(decoding: frames[2], as: UTF8.self)
        address = String(decoding: frames[3], as: UTF8.self)
        identity = frames[4]
        mechanism = String(decoding: frames[5], as: UTF8.self)
        credentials = Array(frames.dropFirst(6))
    }
}

/// A ZAP reply: status, User-Id and metadata for the application to read per message.
public struct ZAPReply: Sendable, Equatable {
    /// `200` admits; `400` refuses; `500` is an internal error (also refuses).
    public var statusCode: String
    /// Human-readable status.
    public var statusText: String
    /// The identity the application sees as the `User-Id` message property.
    public var userID: String
    /// Metadata properties (names should start with `X-`), in order.
    public var metadata: [(name: String, value: String)]

    /// Admits the peer as `userID` with `metadata`.
    public static func admit(userID: String, metadata: [(name: String, value: String)]) -> ZAPReply {
        ZAPReply(statusCode: "200", statusText: "OK", userID: userID, metadata: metadata)
    }

    /// Refuses the peer with `text` (status 400).
    public static func refuse(_ text: String) -> ZAPReply {
        ZAPReply(statusCode: "400", statusText: text, userID: "", metadata: [])
    }

    public static func == (lhs: ZAPReply, rhs: ZAPReply) -> Bool {
        lhs.statusCode == rhs.statusCode && lhs.statusText == rhs.statusText && lhs.userID == rhs.userID
            && lhs.metadata.map(\.name) == rhs.metadata.map(\.name) && lhs.metadata.map(\.value) == rhs.metadata.map(\.value)
    }

    /// The reply frames for `requestID` (without the REQ/REP empty delimiter).
    public func frames(requestID: [UInt8]) -> [[UInt8]] {
        [Array("1.0".utf8), requestID, Array(statusCode.utf8), Array(statusText.utf8), Array(userID.utf8),
         Self.encode(metadata)]
    }

    /// ZMTP property encoding: 1-byte name length, name, 4-byte big-endian value length, value.
    static func encode(_ properties: [(name: String, value: String)]) -> [UInt8] {
        var bytes: [UInt8] = []
        for property in properties {
            let name = Array(property.name.utf8.prefix(255))
            let value = Array(property.value.utf8)
            bytes.append(UInt8(name.count))
            bytes.append(contentsOf: name)
            let length = UInt32(value.count)
            bytes.append(contentsOf: [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)])
            bytes.append(contentsOf: value)
        }
        return bytes
    }
}

/// The ZAP metadata property names QLink returns with every admitted peer.
public enum ZAPProperty {
    /// The certificate serial (hexadecimal), re-checked against the CRL on each message.
    public static let serial = "X-Serial"
    /// The certificate role (`node` or `coordinator`).
    public static let role = "X-Role"
    /// The lab (certificate O).
    public static let lab = "X-Lab"
}

extension PeerAuthenticator {
    /// Decides a ZAP request for `domain`: CURVE only, the key must belong to a valid certificate.
    public func reply(to request: ZAPRequest, domain: String) -> ZAPReply {
        guard request.version == "1.0" else {
            record(VerificationFailure(.wrongMechanism, "ZAP version \(request.version)"))
            return ZAPReply(statusCode: "500", statusText: "unsupported ZAP version", userID: "", metadata: [])
        }
        guard request.domain == domain else {
            record(VerificationFailure(.wrongDomain, "domain '\(request.domain)' from \(request.address)"), peerAddress: request.address)
            return .refuse(RefusalReason.wrongDomain.rawValue)
        }
        guard request.mechanism == "CURVE", request.credentials.count == 1, request.credentials[0].count == 32 else {
            record(VerificationFailure(.wrongMechanism, "mechanism \(request.mechanism) from \(request.address)"), peerAddress: request.address)
            return .refuse(RefusalReason.wrongMechanism.rawValue)
        }
        switch authenticate(curvePublicKey: request.credentials[0], peerAddress: request.address) {
        case .success(let identity):
            return .admit(userID: identity.name, metadata: [
                (ZAPProperty.serial, identity.serial), (ZAPProperty.role, identity.role.rawValue),
                (ZAPProperty.lab, identity.lab),
            ])
        case .failure(let failure):
            return .refuse(failure.reason.rawValue)
        }
    }
}
