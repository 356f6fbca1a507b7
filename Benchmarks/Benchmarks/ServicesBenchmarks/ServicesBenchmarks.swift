import Benchmark
import Foundation
import Logging
import Messaging
import Protocol
import Security
import Services
import TimeTags

// Node services → coordinator over CURVE+ZAP on loopback, as the services run them: every batch spooled
// durably by the node, journaled by the coordinator (group commit) and acknowledged within the credit.

var quietLogger: Logger {
    var logger = Logger(label: "qlink.bench")
    logger.logLevel = .critical
    return logger
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "qlink-services-bench-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A coordinator on 127.0.0.1 with a throwaway lab CA, running until `stop()`.
final class RunningCoordinator: @unchecked Sendable {
    let directory = temporaryDirectory()
    let context = ZMQContext()
    let certificates: RunCertificates
    let server: ServerTransport
    let service: CoordinatorService
    let task: Task<Void, any Error>
    let control: String
    let publish: String

    /// Each lab's detector channels (the coordinator admits a node's batches only on its own lab's).
    static let channels: [String: Set<TagChannel>] = ["alice": [1, 2, 3, 4], "bob": [11, 12, 13, 14]]

    init(heralds: HeraldSettings?) async throws {
        certificates = try RunCertificates.create(directory: directory + "/pki", nodes: ["alice-node", "bob-node"])
        server = try certificates.serverTransport(context: context, logger: quietLogger)
        var settings = CoordinatorSettings(controlEndpoint: "tcp://127.0.0.1:0", publishEndpoint: "tcp://127.0.0.1:0",
                                           journalPath: directory + "/journal.sqlite",
                                           labs: [LabMember(name: "alice", node: "alice-node", channels: Self.channels["alice"] ?? []),
                                                  LabMember(name: "bob", node: "bob-node", channels: Self.channels["bob"] ?? [])])
        settings.heralds = heralds
        settings.statusIntervalMs = 50
        let service = CoordinatorService(settings: settings, transport: server, logger: quietLogger)
        self.service = service
        task = Task { try await service.run() }
        while service.monitor.current.publishEndpoint == nil, service.monitor.current.failure == nil {
            try await Task.sleep(for: .milliseconds(2))
        }
        guard let control = service.monitor.current.controlEndpoint, let publish = service.monitor.current.publishEndpoint else {
            throw ServiceFailure(what: "coordinator", detail: service.monitor.current.failure ?? "did not bind")
        }
        self.control = control
        self.publish = publish
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
        server.zap.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Two nodes each send `batches` × `tagsPerBatch` tags as fast as they can; returns the wall time until
/// every batch of both is acknowledged, after checking that the coordinator journaled every tag.
func twoNodeRun(tagsPerBatch: Int, batches: Int) async throws -> Double {
    let coordinator = try await RunningCoordinator(heralds: nil)
    let spacingPs: Int64 = 200
    let nodes = try ["alice", "bob"].map { lab in
        let base: TagChannel = lab == "alice" ? 1 : 11
        let pattern = TagBatch(timesPs: (0..<tagsPerBatch).map { Int64($0) * spacingPs },
                               channels: (0..<tagsPerBatch).map { base + TagChannel($0 % 4) })
        var settings = NodeSettings(node: "\(lab)-node", lab: lab, controlEndpoint: coordinator.control, publishEndpoint: coordinator.publish,
                                    spoolPath: coordinator.directory + "/\(lab)-spool.sqlite",
                                    source: .pattern(pattern, repetitions: batches, spanPs: Int64(tagsPerBatch) * spacingPs))
        settings.stopWhenDone = true
        return NodeService(settings: settings, transport: try coordinator.certificates.clientTransport(node: "\(lab)-node", context: coordinator.context),
                           logger: quietLogger)
    }
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for node in nodes { group.addTask { try await node.run() } }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - start
    let expected = Int64(tagsPerBatch * batches)
    var tags: [String: Int64] = [:]
    for _ in 0..<200 {
        tags = coordinator.service.monitor.current.status?.tagsByNode ?? [:]
        if tags["alice-node"] == expected, tags["bob-node"] == expected { break }
        try await Task.sleep(for: .milliseconds(10))
    }
    let lost = nodes.map { $0.monitor.current.droppedTags }.reduce(0, +)
    await coordinator.stop()
    guard tags["alice-node"] == expected, tags["bob-node"] == expected, lost == 0 else {
        throw ServiceFailure(what: "benchmark", detail: "loss: journaled \(tags), expected \(expected) per node, dropped \(lost)")
    }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return seconds
}

/// One station click sent by lab A's node; the time until its herald arrives on the node's SUB socket.
final class HeraldProbe: @unchecked Sendable {
    static let periodPs: Int64 = 100_000
    let coordinator: RunningCoordinator
    let dealer: SecureClient
    let subscriber: SecureClient
    let session = UInt64.random(in: 1...UInt64.max)
    var sequence: UInt64 = 0

    init() async throws {
        coordinator = try await RunningCoordinator(heralds: HeraldSettings(repetitionPeriodPs: Self.periodPs, windowStartPs: 40_000,
                                                                            windowEndPs: 60_000, stationChannels: [21, 22], stationLab: 0))
        let transport = try coordinator.certificates.clientTransport(node: "alice-node", context: coordinator.context)
        dealer = try transport.socket(.dealer, logger: quietLogger)
        subscriber = try transport.socket(.subscriber, logger: quietLogger)
        try subscriber.socket.set(.subscribe(prefix: WireMessage.topic(for: .herald)))
        try dealer.connect(coordinator.control)
        try subscriber.connect(coordinator.publish)
        try dealer.socket.set(.receiveTimeout(milliseconds: 5000))
        try subscriber.socket.set(.receiveTimeout(milliseconds: 5000))
        try send(.hello(Hello(node: "alice-node", lab: "alice")), sequence: 0)
        guard let welcome = try dealer.socket.receive(), welcome.count == 1 else { throw ServiceFailure(what: "probe", detail: "no welcome") }
        // The SUB connection needs a moment before the PUB delivers to it: wait for the first status.
        try subscriber.socket.set(.subscribe(prefix: WireMessage.topic(for: .status)))
        _ = try subscriber.socket.receive()
        try subscriber.socket.set(.unsubscribe(prefix: WireMessage.topic(for: .status)))
        while try subscriber.socket.receive(options: .dontWait) != nil {}
    }

    func send(_ body: WireMessage.Body, sequence: UInt64, timePs: Int64 = 0) throws {
        let (header, payload) = WireMessage(sessionId: session, sequence: sequence, eventTimePs: timePs, body: body).encoded()
        _ = try dealer.socket.send(Message([Frame(header + payload)]))
    }

    /// Sends one batch with a click in the next attempt's window and waits for the herald.
    func roundTrip() throws {
        sequence += 1
        let time = Int64(sequence) * Self.periodPs + 50_000
        try send(.tagBatch(TagBatch(timesPs: [time], channels: [22])), sequence: sequence, timePs: time)
        while true {
            guard let message = try subscriber.socket.receive(), message.count == 1 else {
                throw ServiceFailure(what: "probe", detail: "no herald within 5 s")
            }
            let decoded = try WireMessage.decodeBroadcast(message.frames[0].bytes)
            if case .herald(let herald) = decoded.body, herald.attemptId == UInt64(sequence) { break }
        }
        while try dealer.socket.receive(options: .dontWait) != nil {}
    }
}

let benchmarks: @Sendable () -> Void = {
    let tagsPerBatch = 65_536, batches = 160
    Benchmark("Two nodes → coordinator over CURVE, \(batches) × \(tagsPerBatch) tags each, spooled, journaled, acknowledged",
              configuration: .init(metrics: [.wallClock, .custom("tags/s per node", polarity: .prefersLarger, useScalingFactor: false)],
                                   warmupIterations: 1, maxDuration: .seconds(60), maxIterations: 7)) { benchmark in
        let seconds = try await twoNodeRun(tagsPerBatch: tagsPerBatch, batches: batches)
        let rate = Double(tagsPerBatch * batches) / seconds
        benchmark.measurement(.custom("tags/s per node", polarity: .prefersLarger, useScalingFactor: false), Int(rate))
        print(String(format: "two nodes: %.2f s for %d tags each: %.2f M tags/s per node, zero loss", seconds, tagsPerBatch * batches, rate / 1e6))
    }

    // The reference for the line above, in the same run: the same frames over raw libzmq CURVE (no spool,
    // journal, ZAP or acknowledgements). docs/services.md quotes QLink's p50 as a fraction of this one's.
    Benchmark("Reference: raw libzmq CURVE, two DEALERs → one ROUTER, \(batches) × \(tagsPerBatch) tags each, same frames",
              configuration: .init(metrics: [.wallClock, .custom("tags/s per node", polarity: .prefersLarger, useScalingFactor: false)],
                                   warmupIterations: 1, maxDuration: .seconds(60), maxIterations: 7)) { benchmark in
        let seconds = try rawZeroMQRun(tagsPerBatch: tagsPerBatch, batches: batches)
        let rate = Double(tagsPerBatch * batches) / seconds
        benchmark.measurement(.custom("tags/s per node", polarity: .prefersLarger, useScalingFactor: false), Int(rate))
        print(String(format: "raw libzmq: %.2f s for %d tags each: %.2f M tags/s per sender", seconds, tagsPerBatch * batches, rate / 1e6))
    }

    // The coordinator's analysis thread against two nodes at the throughput above (5 M tags/s per node, the
    // quiet-machine median in docs/services.md): 2 s of a free-running link (1 M pairs/s plus 4 M/s more singles
    // per lab, lab B 3 ms late and 20 ppm fast, so the run includes the clock acquisition), offered in the nodes'
    // 65 536-tag batches at that rate; and the same batches as fast as the analysis takes them (its capacity).
    nonisolated(unsafe) var streams: TwoLabStreams?
    let nodeRate = 5e6
    let analysisMetrics: [BenchmarkMetric] = [.wallClock, .custom("analysed tags/s", polarity: .prefersLarger, useScalingFactor: false),
                                              .custom("offered tags/s", polarity: .prefersLarger, useScalingFactor: false),
                                              .custom("analysed/offered %", polarity: .prefersLarger, useScalingFactor: false)]
    for paced in [true, false] {
        Benchmark(paced ? "Live analysis thread, two nodes offering 5 M tags/s each (free-running link, 2 s)"
                        : "Live analysis thread capacity, two labs' batches as fast as it takes them (free-running link, 2 s)",
                  configuration: .init(metrics: analysisMetrics, warmupIterations: 0, maxDuration: .seconds(60), maxIterations: 5),
                  closure: { benchmark in
                      guard let streams else { return }
                      let run = try await AnalysisRun.measure(streams, tagsPerSecondPerLab: paced ? nodeRate : nil)
                      benchmark.measurement(.custom("analysed tags/s", polarity: .prefersLarger, useScalingFactor: false), Int(run.analysedTagsPerSecond))
                      benchmark.measurement(.custom("offered tags/s", polarity: .prefersLarger, useScalingFactor: false), Int(run.offeredTagsPerSecond))
                      benchmark.measurement(.custom("analysed/offered %", polarity: .prefersLarger, useScalingFactor: false), Int(run.ratio * 100))
                      print(String(format: "analysis thread%@: offered %.2f M tags/s, analysed %.2f M tags/s (ratio %.3f), dropped %lld batches",
                                   paced ? " (paced)" : " (capacity)", run.offeredTagsPerSecond / 1e6, run.analysedTagsPerSecond / 1e6, run.ratio,
                                   run.droppedBatches))
                  },
                  setup: {
                      if streams == nil {
                          streams = TwoLabStreams(durationPs: 2_000_000_000_000, pairRateHz: 1e6, singlesRateHz: 4e6, tagsPerBatch: 65_536)
                      }
                  })
    }

    // The same link for 10 s, paced at the nodes' rate: the one clock acquisition of the first seconds falls
    // behind and the thread's queue (1024 batches) holds the backlog; does the analysis after lock catch up, so
    // that everything offered is analysed by the end with nothing dropped? Reports the queue's high-water mark.
    nonisolated(unsafe) var longStreams: TwoLabStreams?
    let longMetrics = analysisMetrics + [.custom("max backlog batches", polarity: .prefersSmaller, useScalingFactor: false),
                                         .custom("dropped batches", polarity: .prefersSmaller, useScalingFactor: false)]
    Benchmark("Live analysis thread, two nodes offering 5 M tags/s each for 10 s (acquisition, then steady state)",
              configuration: .init(metrics: longMetrics, warmupIterations: 0, maxDuration: .seconds(60), maxIterations: 3),
              closure: { benchmark in
                  guard let longStreams else { return }
                  let run = try await AnalysisRun.measure(longStreams, tagsPerSecondPerLab: nodeRate)
                  benchmark.measurement(.custom("analysed tags/s", polarity: .prefersLarger, useScalingFactor: false), Int(run.analysedTagsPerSecond))
                  benchmark.measurement(.custom("offered tags/s", polarity: .prefersLarger, useScalingFactor: false), Int(run.offeredTagsPerSecond))
                  benchmark.measurement(.custom("analysed/offered %", polarity: .prefersLarger, useScalingFactor: false), Int(run.ratio * 100))
                  benchmark.measurement(.custom("max backlog batches", polarity: .prefersSmaller, useScalingFactor: false), Int(run.maxBacklogBatches))
                  benchmark.measurement(.custom("dropped batches", polarity: .prefersSmaller, useScalingFactor: false), Int(run.droppedBatches))
                  print(String(format: "analysis thread (paced, 10 s): offered %.2f M tags/s, analysed %.2f M tags/s (ratio %.3f), dropped %lld batches, backlog at most %lld batches",
                               run.offeredTagsPerSecond / 1e6, run.analysedTagsPerSecond / 1e6, run.ratio, run.droppedBatches, run.maxBacklogBatches))
              },
              setup: {
                  if longStreams == nil {
                      longStreams = TwoLabStreams(durationPs: 10_000_000_000_000, pairRateHz: 1e6, singlesRateHz: 4e6, tagsPerBatch: 65_536)
                  }
              },
              teardown: { longStreams = nil })

    nonisolated(unsafe) var probe: HeraldProbe?
    Benchmark("Herald latency: station click sent by a node → herald received by the node (CURVE, journaled)",
              configuration: .init(metrics: [.wallClock], warmupIterations: 20, maxDuration: .seconds(10), maxIterations: 3000),
              closure: { _ in try probe?.roundTrip() },
              setup: { probe = try await HeraldProbe() },
              teardown: {
                  await probe?.coordinator.stop()
                  probe = nil
              })

    nonisolated(unsafe) var raw: RawRoundTrip?
    Benchmark("Reference: raw libzmq CURVE round trip, DEALER → ROUTER → PUB → SUB, the probe's frame",
              configuration: .init(metrics: [.wallClock], warmupIterations: 20, maxDuration: .seconds(10), maxIterations: 3000),
              closure: { _ in try raw?.roundTrip() },
              setup: { raw = try RawRoundTrip() },
              teardown: {
                  raw?.stop()
                  raw = nil
              })
}
