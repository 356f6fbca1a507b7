import Benchmark
import Foundation
import Logging
import Messaging
import Security

/// A throw-away lab CA with one node certificate, shared by the benchmarks.
struct BenchmarkPKI {
    let layout: PKILayout
    let node: IssuedCertificate
    let coordinator: IssuedCertificate
    let nodeKey: [UInt8]

    init() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-bench-\(UUID().uuidString)").path
        let authority = try LabAuthority.create(lab: "bench", directory: folder)
        let now = Date()
        node = try authority.issue(name: "alice-node", role: .node, notBefore: now.addingTimeInterval(-60),
                                   notAfter: now.addingTimeInterval(86_400))
        coordinator = try authority.issue(name: "coordinator", role: .coordinator, notBefore: now.addingTimeInterval(-60),
                                          notAfter: now.addingTimeInterval(86_400))
        layout = authority.layout
        nodeKey = try Z85.decode(node.publicKeyZ85)
    }
}

let benchmarks: @Sendable () -> Void = {
    let pki = try! BenchmarkPKI()
    let policy = try! TrustPolicy(caCertificatePath: pki.layout.caCertificate, crlPath: pki.layout.crl)
    var quiet = Logger(label: "bench")
    quiet.logLevel = .critical
    let authenticator = try! PeerAuthenticator(configuration: TrustConfiguration(layout: pki.layout), logger: quiet)

    Benchmark("X.509 verification (chain, CRL, strict, purpose)",
              configuration: .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(3))) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try policy.verify(pki.node.certificate, role: .node))
        }
    }

    Benchmark("ZAP decision (store lookup + verification + file change check)",
              configuration: .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(3))) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(authenticator.authenticate(curvePublicKey: pki.nodeKey))
        }
    }

    Benchmark("Secure connection set-up (verify server cert + connect + CURVE handshake + ZAP + one round trip)",
              configuration: .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(5), maxIterations: 2000)) { benchmark in
        let context = ZMQContext()
        defer { context.shutdown() }
        let zap = try ZAPHandler(authenticator: authenticator, domain: "qlink", context: context, logger: quiet)
        defer { zap.stop() }
        let serverIdentity = try LocalIdentity(certificatePath: pki.coordinator.certificatePath, keyPath: pki.coordinator.keyPath)
        let nodeIdentity = try LocalIdentity(certificatePath: pki.node.certificatePath, keyPath: pki.node.keyPath)
        let server = try SecureSockets.server(.router, identity: serverIdentity, zap: zap, context: context)
        defer { server.close() }
        let endpoint = try server.bind("tcp://127.0.0.1:0")
        try server.set(.receiveTimeout(milliseconds: 5000))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let client = try SecureSockets.client(.dealer, identity: nodeIdentity, serverCertificate: pki.coordinator.certificate,
                                                  policy: policy, context: context, logger: quiet)
            try client.connect(endpoint)
            try client.socket.set(.receiveTimeout(milliseconds: 5000))
            _ = try client.socket.send(Message(strings: "ping"))
            guard let request = try server.receive(), request.count == 2 else { fatalError("no request") }
            _ = try server.send(Message([request.frames[0], Frame("pong")]))
            blackHole(try client.socket.receive())
            client.socket.close()
        }
        benchmark.stopMeasurement()
    }
}
