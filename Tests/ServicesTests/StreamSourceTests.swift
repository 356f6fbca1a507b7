import Foundation
import Journal
import QLinkTestSupport
import Services
import Testing
import TimeTags
import LinkModel
import Simulation

@Suite("Pipe sources")
struct StreamSourceTests {
    @Test(arguments: [TagStreamFormat.csv, .native])
    func tagsFromAPipeReachTheJournal(format: TagStreamFormat) async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        var settings = coordinatorSettings(directory: directory)
        settings.analysis = nil
        let running = try await startCoordinator(settings, security: security)
        let coordinatorTask = running.task
        let control = running.control, publish = running.publish

        // What a hardware bridge would write: 20 000 tags with station clicks among them.
        var truth = TagBatch()
        for index in 0..<20_000 {
            truth.append(timePs: Int64(index) * 100_000 + (index % 50 == 0 ? 50_000 : 1_000), channel: index % 50 == 0 ? 22 : TagChannel(1 + index % 4))
        }
        let bytes: [UInt8]
        switch format {
        case .csv:
            var text = "channel,time_ps\n"
            for index in 0..<truth.count { text += "\(truth.channels[index]),\(truth.timesPs[index])\n" }
            bytes = Array(text.utf8)
        case .native:
            let path = directory + "/bridge.qtag"
            let writer = try NativeTagWriter(path: path, header: TagStreamHeader(format: .native), chunkTags: 1_000)
            try writer.write(truth)
            try writer.finish()
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        let pipe = Pipe()
        var node = NodeSettings(node: "alice-node", lab: "alice", controlEndpoint: control, publishEndpoint: publish,
                                spoolPath: directory + "/alice-spool.sqlite",
                                source: .stream(fileDescriptor: pipe.fileHandleForReading.fileDescriptor, format: format))
        node.stopWhenDone = true
        let service = NodeService(settings: node, transport: try security.client("alice-node"), logger: quietLogger)
        let nodeTask = Task { try await service.run() }
        let writer = pipe.fileHandleForWriting
        Thread.detachNewThread {
            var position = 0
            while position < bytes.count {
                let end = min(bytes.count, position + 7_777)
                writer.write(Data(bytes[position..<end]))
                position = end
            }
            try? writer.close()
        }
        try await nodeTask.value
        let journal = try CoordinatorJournal(path: directory + "/journal.sqlite")
        #expect(try journal.tagTotals()["alice-node"] == Int64(truth.count))
        #expect(service.monitor.current.spoolBatches == 0)
        // The station clicks in the piped stream were heralded: one per 50 attempts (attempt 0 is never heralded).
        #expect(await eventually { (try? journal.lastHerald().sequence) == 399 })
        coordinatorTask.cancel()
        try await coordinatorTask.value
    }
}

@Suite("Corrupt pipe")
struct CorruptPipeTests {
    @Test func aCorruptPipeEndsTheNodeWithAClearErrorAfterSendingWhatCameBefore() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        var settings = coordinatorSettings(directory: directory)
        settings.analysis = nil
        let running = try await startCoordinator(settings, security: security)
        let coordinatorTask = running.task
        let control = running.control, publish = running.publish
        let pipe = Pipe()
        var node = NodeSettings(node: "alice-node", lab: "alice", controlEndpoint: control, publishEndpoint: publish,
                                spoolPath: directory + "/alice-spool.sqlite", source: .stream(fileDescriptor: pipe.fileHandleForReading.fileDescriptor, format: .csv))
        node.stopWhenDone = true
        let service = NodeService(settings: node, transport: try security.client("alice-node"), logger: quietLogger)
        pipe.fileHandleForWriting.write(Data("1,100\n2,200\n3,300\nthis is not a tag\n4,400\n".utf8))
        try pipe.fileHandleForWriting.close()
        await #expect(throws: ServiceFailure.self) { try await service.run() }
        #expect(service.monitor.current.sourceFailure?.contains("line 4") == true)
        let journal = try CoordinatorJournal(path: directory + "/journal.sqlite")
        #expect(try journal.tagTotals()["alice-node"] == nil || (try journal.tagTotals()["alice-node"]) == 3)
        coordinatorTask.cancel()
        try await coordinatorTask.value
    }
}

@Suite("Simulator source")
struct SimulationSourceTests {
    @Test func aNodeStreamsTheConfiguredSimulationOfItsLab() async throws {
        let loopback = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("configs/loopback.yaml").path
        let configuration = try LinkConfiguration.load(from: loopback)
        let simulated = try ConfiguredSimulation(configuration: configuration, durationPs: 30_000_000_000, seed: 3)
        // Ground truth: the simulator's own lab A stream.
        var simulator = try simulated.makeSimulator()
        var expected = 0
        while let step = simulator.next() { expected += step.chunk(.labA)?.batch.count ?? 0 }
        #expect(expected > 1_000)

        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let security = try TestSecurity(directory: directory)
        defer { security.stop() }
        var settings = coordinatorSettings(directory: directory)
        settings.analysis = nil
        let running = try await startCoordinator(settings, security: security)
        let coordinatorTask = running.task
        let control = running.control, publish = running.publish
        var node = NodeSettings(node: "alice-node", lab: "alice", controlEndpoint: control, publishEndpoint: publish,
                                spoolPath: directory + "/alice-spool.sqlite",
                                source: .simulation(simulated, role: .labA, withStation: true, realTime: false))
        node.stopWhenDone = true
        let service = NodeService(settings: node, transport: try security.client("alice-node"), logger: quietLogger)
        try await service.run()
        let journal = try CoordinatorJournal(path: directory + "/journal.sqlite")
        #expect(try journal.tagTotals()["alice-node"] == Int64(expected))
        coordinatorTask.cancel()
        try await coordinatorTask.value
    }
}
