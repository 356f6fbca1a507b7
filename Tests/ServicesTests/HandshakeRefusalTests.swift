import Foundation
import Messaging
import Monitoring
import QLinkTestSupport
import Security
import Services
import Testing

/// Every kind of refused handshake a client can provoke, against a running coordinator over real sockets:
/// each is logged with its reason (and the peer address where libzmq reports one), counted in /metrics, shown
/// in /status and in the coordinator's status file.
@Suite("Refused handshakes on record")
struct HandshakeRefusalTests {
    /// A client the coordinator must refuse, and why.
    enum Intruder: String, CaseIterable, Sendable {
        case nullMechanism, plainMechanism, keyWithoutSecret, otherServerKeyPinned, unknownKey, untrustedIssuer, expired, revoked, wrongRole

        var reason: RefusalReason {
            switch self {
            case .nullMechanism, .plainMechanism: .wrongMechanism
            case .keyWithoutSecret, .otherServerKeyPinned: .handshakeFailed
            case .unknownKey: .unknownKey
            case .untrustedIssuer: .untrustedIssuer
            case .expired: .expired
            case .revoked: .revoked
            case .wrongRole: .wrongRole
            }
        }

        /// Whether ZAP decides (the peer address is known) rather than the CURVE handshake before it.
        var decidedByZAP: Bool { ![.wrongMechanism, .handshakeFailed].contains(reason) }
    }

    @Test("NULL, PLAIN, a key without its secret, another server key, unknown key, foreign CA, expired, revoked, wrong role")
    func everyRefusalIsLoggedCountedAndShown() async throws {
        let harness = try await MonitoredCoordinator.start()
        let layout = harness.security.certificates.layout
        let authority = try LabAuthority.open(directory: layout.directory)
        let now = Date()
        let day = 86_400.0
        let expired = try authority.issue(name: "old-node", role: .node, notBefore: now - 10 * day, notAfter: now - day)
        let revoked = try authority.issue(name: "gone-node", role: .node, notBefore: now - 300, notAfter: now + day)
        _ = try authority.revoke(name: "gone-node")
        _ = try authority.publishCRL()
        let rogue = try authority.issue(name: "rogue-coordinator", role: .coordinator, notBefore: now - 300, notAfter: now + day)
        let elsewhere = try LabAuthority.create(lab: "elsewhere", directory: harness.directory + "/elsewhere")
        let alien = try elsewhere.issue(name: "alien-node", role: .node, notBefore: now - 300, notAfter: now + day)
        // The foreign certificate is in the store, so the key is known and the issuer is what fails.
        try FileManager.default.copyItem(atPath: alien.certificatePath, toPath: layout.directory + "/alien-node.crt")
        let alice = try KeyFile.loadCurveKeys(path: layout.privateKey("alice-node"))
        let stranger = try CurveKeys.generate()
        let serverKey = harness.security.server.identity.keys.publicKey
        func curve(_ keys: CurveKeys, server: [UInt8] = serverKey, secret: [UInt8]? = nil) -> [SocketOption] {
            [.curveServerKey(server), .curvePublicKey(keys.publicKey), .curveSecretKey(secret ?? keys.secretKey.bytes)]
        }

        let monitor = harness.running.service.monitor, context = harness.security.context, control = harness.running.control
        for intruder in Intruder.allCases {
            let options: [SocketOption]
            switch intruder {
            case .nullMechanism: options = []
            case .plainMechanism: options = [.plainUsername("admin"), .plainPassword("admin")]
            case .keyWithoutSecret: options = curve(alice, secret: stranger.secretKey.bytes)
            case .otherServerKeyPinned: options = curve(alice, server: stranger.publicKey)
            case .unknownKey: options = curve(stranger)
            case .untrustedIssuer: options = curve(try KeyFile.loadCurveKeys(path: alien.keyPath))
            case .expired: options = curve(try KeyFile.loadCurveKeys(path: expired.keyPath))
            case .revoked: options = curve(try KeyFile.loadCurveKeys(path: revoked.keyPath))
            case .wrongRole: options = curve(try KeyFile.loadCurveKeys(path: rogue.keyPath))
            }
            let reason = intruder.reason.rawValue
            let before = monitor.current.refusedHandshakesByReason[reason] ?? 0
            // Connect, try to say something, and wait until the coordinator has recorded the refusal.
            let seen = try await offPool { () throws -> Bool in
                let socket = try Socket(.dealer, context: context, lingerMs: 0)
                defer { socket.close() }
                try socket.set(options)
                try socket.connect(control)
                _ = try socket.send(Message(strings: "let me in"), options: .dontWait)
                let deadline = Date().addingTimeInterval(600)
                while Date() < deadline {
                    if (monitor.current.refusedHandshakesByReason[reason] ?? 0) > before { return true }
                    usleep(5_000)
                }
                return false
            }
            #expect(seen, "\(intruder): no \(reason) refusal recorded")
        }

        // In the log: each reason, with the peer address where ZAP saw it. Before ZAP libzmq 4.3.4 reports no peer
        // (docs/security.md): the log says so and names instead the monitor event and the listening endpoint the
        // client dialled, with the reason and the ZMTP error in the detail.
        let refusals = harness.log.records("auth.refused")
        for intruder in Intruder.allCases {
            let logged = refusals.filter { $0.metadata["auth.reason"] == intruder.reason.rawValue }
            #expect(!logged.isEmpty, "\(intruder) not logged: \(refusals)")
            if intruder.decidedByZAP {
                #expect(logged.contains { $0.metadata["auth.peer_address"] == "127.0.0.1" }, "\(intruder): \(logged)")
            } else {
                let events = intruder.reason == .wrongMechanism ? ["HANDSHAKE_FAILED_PROTOCOL"] : ["HANDSHAKE_FAILED_PROTOCOL", "HANDSHAKE_FAILED_NO_DETAIL"]
                #expect(logged.contains {
                    $0.metadata["auth.peer_address"] == "not reported by libzmq before ZAP" && $0.metadata["auth.endpoint"] == control
                        && events.contains($0.metadata["auth.event"] ?? "") && $0.metadata["auth.detail"]?.contains("failed before ZAP") == true
                }, "\(intruder): \(logged)")
            }
        }
        // Two clients for each reason decided before ZAP: each is logged (and counted, below) on its own.
        for reason in [RefusalReason.wrongMechanism, .handshakeFailed] {
            #expect(refusals.filter { $0.metadata["auth.reason"] == reason.rawValue }.count >= 2, "\(reason): \(refusals)")
        }
        // In /metrics, /status and the status file.
        for intruder in Intruder.allCases {
            let reason = intruder.reason.rawValue
            #expect(await eventually { await harness.counter("qlink_refused_handshakes_total", reason: reason) >= 1 }, "\(reason) not in /metrics")
        }
        #expect(await harness.counter("qlink_refused_handshakes_total", reason: "wrong-mechanism") >= 2)
        #expect(await harness.counter("qlink_refused_handshakes_total", reason: "handshake-failed") >= 2)
        let shown = await harness.monitor.currentStatus()
        #expect(Set(Intruder.allCases.map(\.reason.rawValue)).isSubset(of: Set(shown.refusals?.handshakes.keys.map { $0 } ?? [])), "\(String(describing: shown.refusals))")
        #expect(StatusText.render(shown).contains("refused:       handshakes"))
        let journaled = try harness.journaledRefusals()
        for intruder in Intruder.allCases {
            #expect(journaled.contains { $0.hasSuffix("handshakes refused (\(intruder.reason.rawValue))") }, "\(intruder): \(journaled)")
        }
        let file = CoordinatorStatusFile(pid: 1, state: monitor.current)
        #expect(file.refusedHandshakes >= Intruder.allCases.count && file.refusedHandshakesByReason["revoked"] ?? 0 >= 1)
        try await harness.stop()
    }
}
