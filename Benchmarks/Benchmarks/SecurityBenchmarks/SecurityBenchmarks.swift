import Benchmark
import Foundation
import Logging
import Security

/// A throw-away lab CA with one node certificate, shared by the benchmarks.
struct BenchmarkPKI {
    let layout: PKILayout
    let node: IssuedCertificate
    let nodeKey: [UInt8]

    init() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-bench-\(UUID().uuidString)").path
        let authority = try LabAuthority.create(lab: "bench", directory: folder)
        let now = Date()
        node = try authority.issue(name: "alice-node", role: .node, notBefore: now.addingTimeInterval(-60),
                                   notAfter: now.addingTimeInterval(86_400))
        try authority.issue(name: "coordinator", role: .coordinator, notBefore: now.addingTimeInterval(-60),
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
}
