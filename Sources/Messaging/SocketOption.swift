import CZeroMQ

/// A socket option QLink sets. Keys are raw 32-byte CURVE keys.
public enum SocketOption: Sendable {
    /// Messages queued for sending before the socket blocks or drops (per peer).
    case sendHighWaterMark(Int32)
    /// Messages queued on receipt before the socket stops reading (per peer).
    case receiveHighWaterMark(Int32)
    /// How long unsent messages are kept after ``Socket/close()``, in ms (0 discards, -1 waits forever).
    case linger(milliseconds: Int32)
    /// Receive timeout in ms (-1 blocks forever).
    case receiveTimeout(milliseconds: Int32)
    /// Send timeout in ms (-1 blocks forever).
    case sendTimeout(milliseconds: Int32)
    /// SUB: receive messages whose first frame starts with `prefix` (empty: everything).
    case subscribe(prefix: [UInt8])
    /// SUB: stop receiving a prefix.
    case unsubscribe(prefix: [UInt8])
    /// The identity a ROUTER peer sees for this socket.
    case routingId([UInt8])
    /// ROUTER: fail with EHOSTUNREACH instead of dropping messages for unknown peers.
    case routerMandatory(Bool)
    /// Queue messages only to completed connections.
    case immediate(Bool)
    /// Act as CURVE server (requires ``curveSecretKey(_:)``).
    case curveServer(Bool)
    /// This socket's CURVE public key (32 bytes).
    case curvePublicKey([UInt8])
    /// This socket's CURVE secret key (32 bytes).
    case curveSecretKey([UInt8])
    /// Client: the server's CURVE public key (32 bytes).
    case curveServerKey([UInt8])
    /// ZAP domain passed to the authentication handler.
    case zapDomain(String)
    /// PLAIN mechanism user name (a client offering PLAIN; QLink servers refuse it — used to test that refusal).
    case plainUsername(String)
    /// PLAIN mechanism password (never logged).
    case plainPassword(String)
    /// Require a ZAP handler for the domain: with none, every handshake is refused (never fail open).
    case zapEnforceDomain(Bool)
    /// Interval between ZMTP heartbeats, ms (0 disables).
    case heartbeatInterval(milliseconds: Int32)
    /// Close a connection if no traffic for this long after a heartbeat, ms.
    case heartbeatTimeout(milliseconds: Int32)
    /// Maximum handshake duration, ms.
    case handshakeInterval(milliseconds: Int32)
    /// Initial reconnection interval, ms.
    case reconnectInterval(milliseconds: Int32)
    /// Largest inbound message accepted, bytes (-1: no limit). Larger ones drop the connection.
    case maxMessageSize(Int64)

    var name: String {
        switch self {
        case .sendHighWaterMark: return "ZMQ_SNDHWM"
        case .receiveHighWaterMark: return "ZMQ_RCVHWM"
        case .linger: return "ZMQ_LINGER"
        case .receiveTimeout: return "ZMQ_RCVTIMEO"
        case .sendTimeout: return "ZMQ_SNDTIMEO"
        case .subscribe: return "ZMQ_SUBSCRIBE"
        case .unsubscribe: return "ZMQ_UNSUBSCRIBE"
        case .routingId: return "ZMQ_ROUTING_ID"
        case .routerMandatory: return "ZMQ_ROUTER_MANDATORY"
        case .immediate: return "ZMQ_IMMEDIATE"
        case .curveServer: return "ZMQ_CURVE_SERVER"
        case .curvePublicKey: return "ZMQ_CURVE_PUBLICKEY"
        case .curveSecretKey: return "ZMQ_CURVE_SECRETKEY"
        case .curveServerKey: return "ZMQ_CURVE_SERVERKEY"
        case .zapDomain: return "ZMQ_ZAP_DOMAIN"
        case .plainUsername: return "ZMQ_PLAIN_USERNAME"
        case .plainPassword: return "ZMQ_PLAIN_PASSWORD"
        case .zapEnforceDomain: return "ZMQ_ZAP_ENFORCE_DOMAIN"
        case .heartbeatInterval: return "ZMQ_HEARTBEAT_IVL"
        case .heartbeatTimeout: return "ZMQ_HEARTBEAT_TIMEOUT"
        case .handshakeInterval: return "ZMQ_HANDSHAKE_IVL"
        case .reconnectInterval: return "ZMQ_RECONNECT_IVL"
        case .maxMessageSize: return "ZMQ_MAXMSGSIZE"
        }
    }

    fileprivate enum Value {
        case int32(Int32, option: Int32)
        case int64(Int64, option: Int32)
        case bytes([UInt8], option: Int32)
    }

    fileprivate var value: Value {
        switch self {
        case .sendHighWaterMark(let value): return .int32(value, option: ZMQ_SNDHWM)
        case .receiveHighWaterMark(let value): return .int32(value, option: ZMQ_RCVHWM)
        case .linger(let value): return .int32(value, option: ZMQ_LINGER)
        case .receiveTimeout(let value): return .int32(value, option: ZMQ_RCVTIMEO)
        case .sendTimeout(let value): return .int32(value, option: ZMQ_SNDTIMEO)
        case .subscribe(let prefix): return .bytes(prefix, option: ZMQ_SUBSCRIBE)
        case .unsubscribe(let prefix): return .bytes(prefix, option: ZMQ_UNSUBSCRIBE)
        case .routingId(let id): return .bytes(id, option: ZMQ_ROUTING_ID)
        case .routerMandatory(let on): return .int32(on ? 1 : 0, option: ZMQ_ROUTER_MANDATORY)
        case .immediate(let on): return .int32(on ? 1 : 0, option: ZMQ_IMMEDIATE)
        case .curveServer(let on): return .int32(on ? 1 : 0, option: ZMQ_CURVE_SERVER)
        case .curvePublicKey(let key): return .bytes(key, option: ZMQ_CURVE_PUBLICKEY)
        case .curveSecretKey(let key): return .bytes(key, option: ZMQ_CURVE_SECRETKEY)
        case .curveServerKey(let key): return .bytes(key, option: ZMQ_CURVE_SERVERKEY)
        case .zapDomain(let domain): return .bytes(Array(domain.utf8), option: ZMQ_ZAP_DOMAIN)
        case .plainUsername(let name): return .bytes(Array(name.utf8), option: ZMQ_PLAIN_USERNAME)
        case .plainPassword(let password): return .bytes(Array(password.utf8), option: ZMQ_PLAIN_PASSWORD)
        case .zapEnforceDomain(let on): return .int32(on ? 1 : 0, option: qlink_zmq_zap_enforce_domain)
        case .heartbeatInterval(let value): return .int32(value, option: ZMQ_HEARTBEAT_IVL)
        case .heartbeatTimeout(let value): return .int32(value, option: ZMQ_HEARTBEAT_TIMEOUT)
        case .handshakeInterval(let value): return .int32(value, option: ZMQ_HANDSHAKE_IVL)
        case .reconnectInterval(let value): return .int32(value, option: ZMQ_RECONNECT_IVL)
        case .maxMessageSize(let value): return .int64(value, option: ZMQ_MAXMSGSIZE)
        }
    }

    /// Whether the value is secret and must never be logged.
    var isSecret: Bool {
        switch self {
        case .curveSecretKey, .plainPassword: return true
        default: return false
        }
    }
}

extension Socket {
    /// Sets an option. CURVE keys must be exactly 32 bytes.
    public func set(_ option: SocketOption) throws(ZMQError) {
        let handle = try open("zmq_setsockopt")
        let subject = option.name
        switch option.value {
        case .int32(var value, let code):
            try retryingInterrupts("zmq_setsockopt", subject: subject) {
                zmq_setsockopt(handle, code, &value, MemoryLayout<Int32>.size)
            }
        case .int64(var value, let code):
            try retryingInterrupts("zmq_setsockopt", subject: subject) {
                zmq_setsockopt(handle, code, &value, MemoryLayout<Int64>.size)
            }
        case .bytes(let bytes, let code):
            switch option {
            case .curvePublicKey, .curveSecretKey, .curveServerKey:
                guard bytes.count == 32 else {
                    throw ZMQError("zmq_setsockopt", subject: "\(subject) (a CURVE key must be 32 bytes, got \(bytes.count))", code: EINVAL)
                }
            default:
                break
            }
            try retryingInterrupts("zmq_setsockopt", subject: subject) {
                bytes.withUnsafeBytes { zmq_setsockopt(handle, code, $0.baseAddress, $0.count) }
            }
        }
    }

    /// Sets several options in order.
    public func set(_ options: [SocketOption]) throws(ZMQError) {
        for option in options { try set(option) }
    }

    func int32(_ code: Int32, name: String) throws(ZMQError) -> Int32 {
        let handle = try open("zmq_getsockopt")
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        try retryingInterrupts("zmq_getsockopt", subject: name) { zmq_getsockopt(handle, code, &value, &size) }
        return value
    }

    func string(_ code: Int32, name: String) throws(ZMQError) -> String {
        let handle = try open("zmq_getsockopt")
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        try retryingInterrupts("zmq_getsockopt", subject: name) { zmq_getsockopt(handle, code, &buffer, &size) }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The send high-water mark.
    public func sendHighWaterMark() throws(ZMQError) -> Int32 { try int32(ZMQ_SNDHWM, name: "ZMQ_SNDHWM") }
    /// The receive high-water mark.
    public func receiveHighWaterMark() throws(ZMQError) -> Int32 { try int32(ZMQ_RCVHWM, name: "ZMQ_RCVHWM") }
    /// The linger period in ms.
    public func lingerMs() throws(ZMQError) -> Int32 { try int32(ZMQ_LINGER, name: "ZMQ_LINGER") }
    /// The security mechanism in use: `NULL`, `PLAIN`, `CURVE` or `GSSAPI`.
    public func mechanism() throws(ZMQError) -> String {
        switch try int32(ZMQ_MECHANISM, name: "ZMQ_MECHANISM") {
        case ZMQ_NULL: return "NULL"
        case ZMQ_PLAIN: return "PLAIN"
        case ZMQ_CURVE: return "CURVE"
        case ZMQ_GSSAPI: return "GSSAPI"
        case let other: return "unknown(\(other))"
        }
    }
}
