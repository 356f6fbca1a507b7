import Foundation
import Journal
import LinkModel
import QLinkTestSupport
import Services
import Simulation
import Testing

/// The `qlink` executable built next to the tests (`swift build --build-tests` builds it).
let qlinkExecutable: String? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    for configuration in ["debug", "release"] {
        let path = root.appendingPathComponent(".build/\(configuration)/qlink").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}()

let demoConfiguration = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("configs/demo.yaml").path

/// A link folder like `qlink demo` makes: demo.yaml and a lab CA in pki/.
struct ProcessLink {
    let directory: String
    var config: String { directory + "/demo.yaml" }
    var journal: String { directory + "/coordinator/journal.sqlite" }
    func statusPath(_ name: String) -> String { directory + "/\(name)-status.json" }
    func spoolPath(_ lab: String) -> String { directory + "/\(lab)/\(lab)-spool.sqlite" }

    init() throws {
        directory = try temporaryDirectory()
        // The demo's labs with the simulated heralded test link (small chunks: many batches per second), so that
        // the nodes' simulations make station clicks and the coordinator heralds some 3 600 per second: the
        // coordinator is killed in the middle of publishing, which nodes survive because broadcasts are one frame.
        let text = try SimulatedTestLink.labs + SimulatedTestLink.heraldedSections(chunkTags: 32)
        try text.write(toFile: directory + "/demo.yaml", atomically: true, encoding: .utf8)
        _ = try RunCertificates.create(directory: directory + "/pki", nodes: ["alice-node", "bob-node"])
    }

    func start(_ name: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: qlinkExecutable ?? "/nonexistent")
        process.arguments = arguments + ["--log-level", "error"]
        let log = directory + "/\(name).log"
        // A restarted process appends to its predecessor's log.
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = FileHandle(forWritingAtPath: log)
        handle?.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    func coordinator(control: String = "tcp://127.0.0.1:0", publish: String = "tcp://127.0.0.1:0", extra: [String] = []) throws -> Process {
        try start("coordinator", ["coordinator", "--config", config, "--quiet", "--status-file", statusPath("coordinator"),
                                  "--control", control, "--publish", publish] + extra)
    }

    /// The size of `name`'s log (its stdout and stderr), bytes.
    func logSize(_ name: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: directory + "/\(name).log")[.size] as? Int) ?? 0
    }

    /// What `name` wrote to its log from byte `offset` on, at most its last 2 000 characters.
    func logTail(_ name: String, from offset: Int = 0) -> String {
        let log = (try? String(contentsOfFile: directory + "/\(name).log", encoding: .utf8)) ?? ""
        return String((String(log.utf8.dropFirst(offset)) ?? log).suffix(2_000))
    }

    /// A node streaming `seconds` of link time in real time; it exits when everything is acknowledged (`exitWhenDone`)
    /// or when stopped.
    func node(_ lab: String, endpoints: (String, String), seconds: Double, exitWhenDone: Bool = true) throws -> Process {
        try start(lab, ["node", "--config", config, "--lab", lab, "--control", endpoints.0, "--publish", endpoints.1,
                        "--data", directory + "/\(lab)", "--seconds", "\(seconds)", "--status-file", statusPath(lab)]
                       + (exitWhenDone ? ["--exit-when-done"] : []))
    }

    /// A coordinator restarted on the ports of its killed predecessor, retried while they are still in use
    /// (``untilListening``): up once its status file shows it listening (written from inside the running service
    /// group, so SIGTERM is a graceful stop from then on).
    func restartedCoordinator(on endpoints: (String, String), extra: [String] = []) async throws -> Process {
        try await untilListening("the coordinator on \(endpoints.0)") { () async throws -> BindAttempt<Process> in
            try? FileManager.default.removeItem(atPath: statusPath("coordinator"))
            let logged = logSize("coordinator")
            let process = try coordinator(control: endpoints.0, publish: endpoints.1, extra: extra)
            _ = await eventually {
                let state = StatusFile.read(CoordinatorStatusFile.self, from: statusPath("coordinator"))
                return !process.isRunning || (state?.controlEndpoint != nil && state?.publishEndpoint != nil && state?.stopped == false)
            }
            if process.isRunning { return .listening(process) }
            let output = logTail("coordinator", from: logged)
            if output.contains("Address already in use") { return .addressInUse }
            throw ServiceFailure(what: "the restarted coordinator", detail: "exited with \(process.terminationStatus): \(output)")
        }
    }

    /// The control and publish endpoints `coordinator` reports in its status file once it listens, or nil after
    /// recording why not: it exited first (its exit status, the failure in its status file and the end of its log,
    /// which holds its stderr) or never listened (the wait only guards against a hang).
    func endpoints(of coordinator: Process) async -> (String, String)? {
        await coordinatorReport(of: coordinator, "its control and publish endpoints") { state in
            guard let control = state.controlEndpoint, let publish = state.publishEndpoint, !state.stopped else { return nil }
            return (control, publish)
        }
    }

    /// What `read` finds in `coordinator`'s status file, waited for; nil after recording why it never came (see
    /// ``endpoints(of:)``).
    func coordinatorReport<T>(of coordinator: Process, _ what: String, _ read: (CoordinatorStatusFile) -> T?) async -> T? {
        var found: T?
        _ = await eventually {
            found = StatusFile.read(CoordinatorStatusFile.self, from: statusPath("coordinator")).flatMap(read)
            return found != nil || !coordinator.isRunning
        }
        if let found { return found }
        let state = StatusFile.read(CoordinatorStatusFile.self, from: statusPath("coordinator"))
        let how = coordinator.isRunning ? "is still running without reporting it"
            : "exited (\(coordinator.terminationReason == .exit ? "status" : "signal") \(coordinator.terminationStatus)) before reporting it"
        Issue.record("the coordinator \(how), waiting for \(what); its status file: \(state.map { "stopped \($0.stopped), failure \($0.failure ?? "none")" } ?? "none"); its log: \(logTail("coordinator"))")
        return nil
    }

    /// The simulation the nodes run for `seconds` of link time (the truth the journal is checked against).
    func simulation(seconds: Double) throws -> ConfiguredSimulation {
        try ConfiguredSimulation(configuration: try LinkConfiguration.load(from: config), durationPs: Int64(seconds * 1e12))
    }

    func nodeStatus(_ lab: String) -> NodeStatusFile? { StatusFile.read(NodeStatusFile.self, from: statusPath(lab)) }

    /// Waits for `process` to exit (SIGKILL after `seconds`). - Returns: whether it exited by itself with status 0
    /// (a crash, e.g. an abort inside libzmq, is a failure).
    func finish(_ process: Process, within seconds: Double = 600) async -> Bool {
        let exited = await eventually(seconds) { !process.isRunning }
        if !exited {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("\(process.arguments?.first ?? "process") did not exit within \(seconds) s")
            return false
        }
        if process.terminationReason != .exit || process.terminationStatus != 0 {
            Issue.record("\(process.arguments?.first ?? "process") ended by \(process.terminationReason == .exit ? "exit" : "signal") \(process.terminationStatus)")
            return false
        }
        return true
    }

    /// The journal's batches of `node` by session: every session's sequences must run 1…n without a gap.
    func contiguousSessions(_ journal: CoordinatorJournal, node: String) throws -> [UInt64: Int] {
        var bySession: [UInt64: [UInt64]] = [:]
        for record in try journal.batches() where record.node == node { bySession[record.session, default: []].append(record.sequence) }
        var counts: [UInt64: Int] = [:]
        for (session, sequences) in bySession {
            #expect(sequences.sorted() == Array(1...UInt64(sequences.count)), "node \(node) session \(session) has gaps")
            counts[session] = sequences.count
        }
        return counts
    }
}

@Suite("Faults with real processes", .serialized, .enabled(if: qlinkExecutable != nil, "build qlink first (swift build --build-tests)"))
struct ProcessFaultTests {
    @Test func coordinatorKilledAndRestartedLosesAndDuplicatesNothing() async throws {
        let link = try ProcessLink()
        defer { try? FileManager.default.removeItem(atPath: link.directory) }
        var coordinator = try link.coordinator()
        let endpoints = try #require(await link.endpoints(of: coordinator))
        let alice = try link.node("alice", endpoints: endpoints, seconds: 2)
        let bob = try link.node("bob", endpoints: endpoints, seconds: 2)
        #expect(await eventually { (link.nodeStatus("alice")?.batchesAcknowledged ?? 0) > 20 })
        kill(coordinator.processIdentifier, SIGKILL)
        coordinator.waitUntilExit()
        // Up before anything may stop it: on a loaded machine the nodes can finish first from what the first
        // coordinator acknowledged.
        coordinator = try await link.restartedCoordinator(on: endpoints)
        #expect(await link.finish(alice, within: 600))
        #expect(await link.finish(bob, within: 600))
        coordinator.terminate()
        #expect(await link.finish(coordinator))

        let journal = try CoordinatorJournal(path: link.journal)
        for lab in ["alice", "bob"] {
            let state = try #require(link.nodeStatus(lab))
            #expect(state.spoolBatches == 0 && state.droppedTags == 0)
            // Every batch the node spooled is in the journal exactly once (one session, 1…n).
            let sessions = try link.contiguousSessions(journal, node: "\(lab)-node")
            #expect(sessions == [state.sessionId: Int(state.batchesSpooled)])
        }
        let heralds = try journal.heralds(in: 1...10_000_000)
        #expect(!heralds.isEmpty)
        #expect(heralds.map(\.sequence) == Array(1...UInt64(heralds.count)))
        #expect(zip(heralds, heralds.dropFirst()).allSatisfy { $0.attemptId < $1.attemptId }, "an attempt heralded twice")
        // Lab A's node was there from the start: its log holds every herald exactly once.
        let logged = try NodeSpool(path: link.spoolPath("alice"), maxBytes: 1 << 20).loggedHeraldSequences()
        #expect(logged == heralds.map(\.sequence))
    }

    @Test func nodeKilledAndRestartedResumesItsSessionAndSource() async throws {
        let link = try ProcessLink()
        defer { try? FileManager.default.removeItem(atPath: link.directory) }
        let coordinator = try link.coordinator()
        let endpoints = try #require(await link.endpoints(of: coordinator))
        var alice = try link.node("alice", endpoints: endpoints, seconds: 3)
        let bob = try link.node("bob", endpoints: endpoints, seconds: 3)
        #expect(await eventually { (link.nodeStatus("alice")?.batchesSpooled ?? 0) > 20 })
        let firstSession = try #require(link.nodeStatus("alice")?.sessionId)
        kill(alice.processIdentifier, SIGKILL)
        alice.waitUntilExit()
        alice = try link.node("alice", endpoints: endpoints, seconds: 3)
        #expect(await link.finish(alice, within: 600))
        #expect(await link.finish(bob, within: 600))
        coordinator.terminate()
        #expect(await link.finish(coordinator))

        // The restarted process carried on the killed one's session: the journal holds one session, 1…n, and
        // exactly the tags of 3 s of the simulation (nothing streamed twice, nothing skipped).
        let state = try #require(link.nodeStatus("alice"))
        #expect(state.sessionId == firstSession)
        #expect(state.spoolBatches == 0)
        let spool = try NodeSpool(path: link.spoolPath("alice"), maxBytes: 1 << 20)
        #expect(try spool.usage().batches == 0)
        let resume = try spool.resumePoint()
        let journal = try CoordinatorJournal(path: link.journal)
        let sessions = try link.contiguousSessions(journal, node: "alice-node")
        #expect(sessions == [firstSession: Int(resume.lastSequence)])
        let truth = try SimulatedTestLink.expectedTags(link.simulation(seconds: 3))
        #expect(try journal.tagTotals()["alice-node"] == truth.alice)
        #expect(resume.tagsSpooled == truth.alice)
    }

    @Test func stalledCoordinatorMakesNodesBackOffWithoutLoss() async throws {
        let link = try ProcessLink()
        defer { try? FileManager.default.removeItem(atPath: link.directory) }
        let coordinator = try link.coordinator()
        let endpoints = try #require(await link.endpoints(of: coordinator))
        // The nodes stream long enough to still be streaming when the coordinator stops, however slowly they start.
        let alice = try link.node("alice", endpoints: endpoints, seconds: 10)
        let bob = try link.node("bob", endpoints: endpoints, seconds: 10)
        // Both streaming (a simulated node generates only once it has the coordinator's rate schedule).
        #expect(await eventually { ["alice", "bob"].allSatisfy { (link.nodeStatus($0)?.batchesAcknowledged ?? 0) > 10 } },
                "waited for 10 of each lab's batches to be acknowledged")
        // The coordinator stops consuming (a blocked consumer) until both nodes have piled up batches, then carries on.
        kill(coordinator.processIdentifier, SIGSTOP)
        let piled = await eventually { ["alice", "bob"].allSatisfy { (link.nodeStatus($0)?.spoolHighWater ?? 0) > 10 } }
        kill(coordinator.processIdentifier, SIGCONT)
        #expect(piled, "waited, with the coordinator stopped, for both nodes' spools to hold more than 10 batches")
        #expect(await link.finish(alice, within: 600))
        #expect(await link.finish(bob, within: 600))
        coordinator.terminate()
        #expect(await link.finish(coordinator))

        let journal = try CoordinatorJournal(path: link.journal)
        for lab in ["alice", "bob"] {
            let state = try #require(link.nodeStatus(lab))
            // Backed off: batches piled up in the spool meanwhile, and went out afterwards; nothing dropped.
            #expect(state.spoolHighWater > 10, "\(lab) spool high water \(state.spoolHighWater)")
            #expect(state.spoolBatches == 0 && state.droppedTags == 0)
            let sessions = try link.contiguousSessions(journal, node: "\(lab)-node")
            #expect(sessions == [state.sessionId: Int(state.batchesSpooled)])
        }
    }
}
