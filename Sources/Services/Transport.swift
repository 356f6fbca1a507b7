import Messaging

/// How service sockets are secured: the one place that configures server (ROUTER, PUB) and client
/// (DEALER, SUB) sockets, so the services never set security options themselves.
public struct Transport: Sendable {
    /// Configures a server socket before it binds (CURVE server keys, ZAP domain).
    public var prepareServer: @Sendable (Socket) throws -> Void
    /// Configures a client socket before it connects (CURVE client keys, the server's public key).
    public var prepareClient: @Sendable (Socket) throws -> Void
    /// The authenticated peer name of a received frame (the ZAP `User-Id`), `nil` when unknown.
    public var authenticatedPeer: @Sendable (Frame) -> String?
    /// Words for logs: what protects the sockets.
    public var summary: String

    public init(summary: String,
                prepareServer: @escaping @Sendable (Socket) throws -> Void,
                prepareClient: @escaping @Sendable (Socket) throws -> Void,
                authenticatedPeer: @escaping @Sendable (Frame) -> String?) {
        self.summary = summary
        self.prepareServer = prepareServer
        self.prepareClient = prepareClient
        self.authenticatedPeer = authenticatedPeer
    }

    /// CURVE encryption with a known server key pair and one client key pair.
    ///
    /// This encrypts and authenticates the server to clients, but without a ZAP handler the server
    /// admits any client key: use it only until the lab-certificate transport is configured.
    public static func curve(server: CurveKeyPair, client: CurveKeyPair) -> Transport {
        Transport(
            summary: "CURVE (server key only, no client authentication)",
            prepareServer: { socket in try socket.makeCurveServer(server) },
            prepareClient: { socket in try socket.makeCurveClient(client, serverPublicKey: server.publicKey) },
            authenticatedPeer: { frame in frame.property("User-Id").flatMap { $0.isEmpty ? nil : $0 } }
        )
    }
}
