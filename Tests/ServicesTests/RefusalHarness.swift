import Foundation
import Journal
import LinkHealth
import LinkModel
import Logging
import Messaging
import Monitoring
import Protocol
import QLinkTestSupport
import Security
import Services
import Testing

/// A coordinator on real sockets for the refusal tests, configured from a link file: lab `alice` (node
/// `alice-node`, detectors 1–4, and the station's detectors 21/22 since its tagger records the station) and lab
/// `bob` (node `bob-node`, detectors 11–14); `mallory-node` holds a certificate of the lab CA but serves no lab.
/// Its monitoring service turns the refusals into /metrics and /status; every log record lands in ``log``.
struct MonitoredCoordinator {
    let directory: String
    let log: CapturedLog
    let security: TestSecurity
    let running: RunningCoordinator
    let monitor: LinkMonitor
    let watcher: Task<Void, any Error>
    let journalPath: String

    static func start() async throws -> MonitoredCoordinator {
        let directory = try temporaryDirectory()
        let log = CapturedLog()
        let logger = log.logger(level: .info)
        let security = try TestSecurity(directory: directory, logger: logger)
        let detectors = { (channels: [Int]) in
            zip(channels, ["H", "V", "D", "A"]).map { "      - { channel: \($0), name: \($1), delay_ps: 0 }" }.joined(separator: "\n")
        }
        let yaml = """
            name: refusals
            security: { ca_certificate: pki/ca.crt, crl: pki/ca.crl, certificate_store: pki }
            coordinator:
              name: coordinator
              control_endpoint: tcp://127.0.0.1:0
              publish_endpoint: tcp://127.0.0.1:0
              certificate: pki/coordinator.crt
              private_key: pki/private/coordinator.key
            labs:
              - name: alice
                node: alice-node
                certificate: pki/alice-node.crt
                private_key: pki/private/alice-node.key
                detectors:
            \(detectors([1, 2, 3, 4]))
              - name: bob
                node: bob-node
                certificate: pki/bob-node.crt
                private_key: pki/private/bob-node.key
                detectors:
            \(detectors([11, 12, 13, 14]))

            """
        try yaml.write(toFile: directory + "/link.yaml", atomically: true, encoding: .utf8)
        let link = try LinkConfiguration.load(from: directory + "/link.yaml")
        var settings = ConfigurationMapping.coordinator(link, heralds: HeraldSettings(
            repetitionPeriodPs: 100_000, windowStartPs: 40_000, windowEndPs: 60_000, stationChannels: [21, 22], stationLab: 0))
        settings.journalPath = directory + "/journal.sqlite"
        settings.statusIntervalMs = 100
        let running = try await startCoordinator(settings, security: security, logger: logger)
        let monitor = try LinkMonitor(link: link, role: "coordinator", history: nil, logger: quietLogger)
        var service = CoordinatorMonitoringService(coordinator: running.service, monitor: monitor, link: link, logger: quietLogger)
        service.observationIntervalSeconds = 0.1
        let watcher = Task { [service] in try await service.run() }
        return MonitoredCoordinator(directory: directory, log: log, security: security, running: running, monitor: monitor,
                                    watcher: watcher, journalPath: settings.journalPath)
    }

    /// The value of `family{reason="reason"}` in /metrics (0 while the series is absent).
    func counter(_ family: String, reason: String) async -> Double {
        let prefix = "\(family){reason=\"\(reason)\"} "
        let text = await monitor.metricsExposition()
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) } ?? 0
    }

    /// The coordinator's count of refused handshakes with `reason`.
    func refusedHandshakes(_ reason: RefusalReason) -> Int {
        running.service.monitor.current.refusedHandshakesByReason[reason.rawValue] ?? 0
    }

    /// The journal's refusal entries (its event table, level `refused`).
    func journaledRefusals() throws -> [String] {
        try CoordinatorJournal(path: journalPath).alerts(limit: 1000).filter { $0.level == "refused" }.map(\.message)
    }

    func stop() async throws {
        watcher.cancel()
        try? await watcher.value
        running.task.cancel()
        try await running.task.value
        security.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A node played by the test over a real secure DEALER with a certificate of the lab CA: it sends hand-made
/// messages and reads the coordinator's answers. Use it on one thread (inside ``offPool(_:)``).
final class ScriptedNode {
    private let client: SecureClient

    init(_ transport: ClientTransport, control: String) throws {
        client = try transport.socket(.dealer, logger: quietLogger)
        try client.socket.set(.receiveTimeout(milliseconds: 100))
        try client.connect(control)
    }

    func send(_ body: WireMessage.Body, sequence: UInt64 = 0) throws {
        let (header, payload) = WireMessage(sessionId: 77, sequence: sequence, body: body).encoded()
        _ = try client.socket.send(Message([Frame(header + payload)]))
    }

    /// The next answer that `accept` takes, skipping others; nil only when none came for 600 s (a hang guard).
    func next<T>(_ accept: (WireMessage.Body) -> T?) throws -> T? {
        let deadline = Date().addingTimeInterval(600)
        while Date() < deadline {
            guard let message = try client.socket.receive(), message.count == 1,
                  let decoded = try? WireMessage.decode(frame: message.frames[0].bytes) else { continue }
            if let value = accept(decoded.body) { return value }
        }
        return nil
    }

    /// What the coordinator answered to a hello.
    enum HelloAnswer: Equatable {
        case welcome
        case error(ErrorReport)
    }

    /// Says hello as `node` of `lab` and returns the answer (nil only on a hang).
    func hello(node: String, lab: String) throws -> HelloAnswer? {
        try send(.hello(Hello(node: node, lab: lab)))
        return try next { body -> HelloAnswer? in
            switch body {
            case .welcome: .welcome
            case .error(let report): .error(report)
            default: nil
            }
        }
    }

    /// The next error report.
    func nextError() throws -> ErrorReport? {
        try next { body -> ErrorReport? in if case .error(let report) = body { report } else { nil } }
    }

    /// The next acknowledgement's status.
    func nextAcknowledgement() throws -> AcknowledgementStatus? {
        try next { body -> AcknowledgementStatus? in if case .acknowledgement(let ack) = body { ack.status } else { nil } }
    }

    func close() { client.socket.close() }
}
