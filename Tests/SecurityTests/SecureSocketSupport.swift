import Foundation
import Logging
import Messaging
import Testing
@testable import Security

/// Runs `body` on a dedicated thread (blocking socket calls stay off the cooperative pool).
func onSocketThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.stackSize = 1 << 21
        thread.start()
    }
}

/// A lab CA, a coordinator identity, a private ZeroMQ context and a running ZAP handler.
final class SecureFixture: Sendable {
    let pki: TestPKI
    let context: ZMQContext
    let authenticator: PeerAuthenticator
    let zap: ZAPHandler
    let coordinator: IssuedCertificate

    init() throws {
        pki = try TestPKI()
        coordinator = try pki.issue("coordinator", role: .coordinator)
        context = ZMQContext()
        var logger = Logger(label: "qlink.test.auth")
        logger.logLevel = .critical
        authenticator = try PeerAuthenticator(configuration: TrustConfiguration(layout: pki.layout), requiredRole: .node,
                                              logger: logger)
        zap = try ZAPHandler(authenticator: authenticator, domain: "qlink", context: context, logger: logger)
    }

    func policy() throws -> TrustPolicy { try pki.policy() }

    /// The coordinator's own identity.
    func serverIdentity() throws -> LocalIdentity {
        try LocalIdentity(certificatePath: coordinator.certificatePath, keyPath: coordinator.keyPath)
    }

    /// A bound secure ROUTER and its watcher; returns the endpoint.
    func server() throws -> (socket: Socket, watcher: HandshakeWatcher, endpoint: String) {
        let socket = try SecureSockets.server(.router, identity: serverIdentity(), zap: zap, context: context)
        let watcher = try HandshakeWatcher(server: socket, authenticator: authenticator, context: context)
        let endpoint = try socket.bind("tcp://127.0.0.1:0")
        return (socket, watcher, endpoint)
    }

    /// A secure DEALER client holding `issued`'s certificate and key, pinned to the coordinator.
    func client(_ issued: IssuedCertificate, policy clientPolicy: TrustPolicy? = nil, heartbeatMs: Int32 = 1000) throws -> SecureClient {
        let identity = try LocalIdentity(certificatePath: issued.certificatePath, keyPath: issued.keyPath)
        var logger = Logger(label: "qlink.test.client")
        logger.logLevel = .critical
        return try SecureSockets.client(.dealer, identity: identity, serverCertificate: coordinator.certificate,
                                        policy: clientPolicy ?? policy(), context: context, heartbeatMs: heartbeatMs, logger: logger)
    }

    /// A raw DEALER with arbitrary CURVE options (for clients that misbehave on purpose).
    func rawClient(_ options: [SocketOption]) throws -> Socket {
        let socket = try Socket(.dealer, context: context, lingerMs: 0)
        try socket.set(options)
        return socket
    }

    func close() {
        zap.stop()
        context.shutdown()
        pki.remove()
    }
}

/// Receives one message on `server` within `timeoutMs`, or nil.
func receive(_ server: Socket, timeoutMs: Int32) throws -> Message? {
    try server.set(.receiveTimeout(milliseconds: timeoutMs))
    return try server.receive()
}
