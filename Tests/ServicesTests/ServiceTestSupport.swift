import Foundation
import Logging
import Messaging
import QLinkTestSupport
import Security
import Services
import Testing

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "qlink-services-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A throwaway PKI and a ZeroMQ context of the test's own (the ZAP endpoint is per context).
struct TestSecurity {
    let context = ZMQContext()
    let certificates: RunCertificates
    let server: ServerTransport

    /// Certificates for `alice-node`, `bob-node` and `mallory-node` in `directory/pki`; the ZAP handler logs to `logger`.
    init(directory: String, logger: Logger = quietLogger) throws {
        certificates = try RunCertificates.create(directory: directory + "/pki", nodes: ["alice-node", "bob-node", "mallory-node"])
        server = try certificates.serverTransport(context: context, logger: logger)
    }

    func client(_ node: String) throws -> ClientTransport { try certificates.clientTransport(node: node, context: context) }

    func stop() { server.zap.stop() }
}

var quietLogger: Logger {
    var logger = Logger(label: "qlink.test")
    logger.logLevel = .critical
    return logger
}

/// Coordinator settings for tests that send hand-made batches: lab `alice` (node `alice-node`) and lab `bob`
/// (node `bob-node`; `mallory-node` is certified but serves no lab), the Z/X analysis of H/V/D/A detectors on
/// channels 1–4 (lab A) and 11–14 (lab B), and heralds from station detectors 21 (ψ⁺) and 22 (ψ⁻) in lab A's
/// stream, one attempt every 100 ns with clicks accepted 40–60 ns after the attempt start.
func coordinatorSettings(directory: String) -> CoordinatorSettings {
    var settings = CoordinatorSettings(controlEndpoint: "tcp://127.0.0.1:0", publishEndpoint: "tcp://127.0.0.1:0",
                                       journalPath: directory + "/journal.sqlite",
                                       labs: [LabMember(name: "alice", node: "alice-node", channels: [1, 2, 3, 4]),
                                              LabMember(name: "bob", node: "bob-node", channels: [11, 12, 13, 14])])
    settings.analysis = AnalysisLayout(channelsA: [1, 2, 3, 4], channelsB: [11, 12, 13, 14])
    settings.heralds = HeraldSettings(repetitionPeriodPs: 100_000, windowStartPs: 40_000, windowEndPs: 60_000,
                                      stationChannels: [21, 22], stationLab: 0)
    settings.statusIntervalMs = 100
    return settings
}

/// A coordinator listening on ephemeral 127.0.0.1 ports for a test.
struct RunningCoordinator {
    let service: CoordinatorService
    let task: Task<Void, any Error>
    let control: String
    let publish: String
}

/// Starts a coordinator with `settings` and waits until both its endpoints are bound.
func startCoordinator(_ settings: CoordinatorSettings, security: TestSecurity, logger: Logger = quietLogger) async throws -> RunningCoordinator {
    let service = CoordinatorService(settings: settings, transport: security.server, logger: logger)
    let task = Task { try await service.run() }
    #expect(await eventually { service.monitor.current.publishEndpoint != nil && service.monitor.current.controlEndpoint != nil })
    let state = service.monitor.current
    return RunningCoordinator(service: service, task: task, control: try #require(state.controlEndpoint),
                              publish: try #require(state.publishEndpoint))
}

/// The coordinator's two server sockets (CURVE, the test's ZAP handler) bound on ephemeral loopback ports, for
/// tests that script the coordinator's side; the ROUTER's receives time out after 100 ms.
struct ScriptedCoordinatorSockets {
    let router: Socket
    let publisher: Socket
    let control: String
    let publish: String

    init(security: TestSecurity) throws {
        router = try SecureSockets.server(.router, identity: security.server.identity, zap: security.server.zap, context: security.context)
        publisher = try SecureSockets.server(.publisher, identity: security.server.identity, zap: security.server.zap, context: security.context)
        control = try router.bind("tcp://127.0.0.1:0")
        publish = try publisher.bind("tcp://127.0.0.1:0")
        try router.set(.receiveTimeout(milliseconds: 100))
    }

    func close() {
        router.close()
        publisher.close()
    }
}

/// One try at binding a restarted coordinator's fixed ports.
enum BindAttempt<T> {
    case listening(T)
    /// The bind was refused with 'Address already in use'.
    case addressInUse
}

/// Whether `error` (or its text, for a child process's log) says 'Address already in use'.
func isAddressInUse(_ error: any Error) -> Bool {
    (error as? ZMQError)?.isAddressInUse == true || "\(error)".contains("Address already in use")
}

/// Starts a coordinator on the ports its predecessor had: another connection on the machine may hold one for a
/// moment after the predecessor is gone (ephemeral ports are shared by the whole machine), so a refused bind is
/// tried again until the coordinator listens. `attempt` tries once and reports the outcome by events (listening,
/// or exited with the address in use); any other failure throws. Bounded by the number of attempts.
func untilListening<T>(_ what: String, attempts: Int = 600, _ attempt: () async throws -> BindAttempt<T>) async throws -> T {
    for _ in 0..<attempts {
        if case .listening(let started) = try await attempt() { return started }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw ServiceFailure(what: what, detail: "its address was still in use after \(attempts) attempts")
}

/// Restarts a coordinator in this process with `settings` on the fixed endpoints they name (``untilListening``).
func restartCoordinator(_ settings: CoordinatorSettings, security: TestSecurity, logger: Logger = quietLogger) async throws -> RunningCoordinator {
    try await untilListening("the coordinator on \(settings.controlEndpoint)") { () async throws -> BindAttempt<RunningCoordinator> in
        let service = CoordinatorService(settings: settings, transport: security.server, logger: logger)
        let task = Task { try await service.run() }
        _ = await eventually {
            let state = service.monitor.current
            return (state.controlEndpoint != nil && state.publishEndpoint != nil) || state.stopped
        }
        let state = service.monitor.current
        if let control = state.controlEndpoint, let publish = state.publishEndpoint, !state.stopped {
            return .listening(RunningCoordinator(service: service, task: task, control: control, publish: publish))
        }
        do {
            try await task.value
        } catch where isAddressInUse(error) {
            return .addressInUse
        }
        throw ServiceFailure(what: "the coordinator on \(settings.controlEndpoint)", detail: "it stopped without listening")
    }
}
