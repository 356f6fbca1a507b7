import Correlation
import Foundation
import LinkModel
import Simulation
import Testing
import TimeTags

/// The seam between the simulator, the tag files and the correlation engine: the shipped loopback link (basis
/// announced by markers every millisecond) on one shared clock is simulated, written to `.qtag` files in small
/// chunks, read back and correlated with the pieces `qlink correlate` uses. Before markers were kept in time
/// order across chunks, a chunk's markers (up to a simulator step past its last photon) labelled the next
/// chunk's photons and S came out near 2.1 instead of 2.7.
@Suite("Simulated link through tag files and back: time order across chunks")
struct TimeOrderSeamTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The loopback configuration with lab B on lab A's clock and each lab's settings replaced by `settings`.
    static func simulation(settingsA: [String], settingsB: [String], seed: UInt64) throws -> ConfiguredSimulation {
        var configuration = try LinkConfiguration.load(from: root.appendingPathComponent("configs/loopback.yaml").path)
        var settings = try #require(configuration.simulation)
        settings.labs[0].bases.settings = settingsA
        settings.labs[1].bases.settings = settingsB
        settings.labs[1].clock = SimulatedClock()
        configuration.simulation = settings
        return try ConfiguredSimulation(configuration: configuration, durationPs: 250_000_000_000, seed: seed)
    }

    /// Simulates, writes each lab's stream with `chunkTags` photons per chunk and returns the file paths and the truth.
    static func writeFiles(_ simulation: ConfiguredSimulation, chunkTags: Int, directory: URL) throws -> ([String], GroundTruth) {
        let paths = ["a", "b"].map { directory.appendingPathComponent("\($0).qtag").path }
        let writers = try paths.map { try NativeTagWriter(path: $0, header: TagStreamHeader(format: .native), chunkTags: chunkTags) }
        var simulator = try simulation.makeSimulator()
        while let step = simulator.next() {
            for chunk in step.chunks {
                switch chunk.role {
                case .labA: try writers[0].write(chunk.batch)
                case .labB: try writers[1].write(chunk.batch)
                default: break
                }
            }
        }
        for writer in writers { try writer.finish() }
        // The files themselves are in time order: no chunk holds a marker later than a photon of a later chunk.
        for path in paths {
            let reader = try NativeTagReader(path: path)
            var latestMarkerPs = Int64.min
            while let chunk = try reader.next() {
                #expect((chunk.timesPs.first ?? .max) >= latestMarkerPs, "\(path): chunk \(reader.chunksRead) starts before a marker of an earlier chunk")
                latestMarkerPs = max(latestMarkerPs, chunk.markers.map(\.timePs).max() ?? .min)
            }
            #expect(reader.chunksRead > 30)
        }
        return (paths, simulator.groundTruth())
    }

    /// Labels each file's outcomes by its markers (lab B's tags moved onto lab A's axis by the true delay
    /// difference), merges the two and counts per basis combination.
    static func correlate(_ paths: [String], sourceA: BasisSource, sourceB: BasisSource, shiftBPs: Int64) throws -> [SettingCounts] {
        let roles = [DetectorRole(channel: 1, side: .a, outcome: .plus), DetectorRole(channel: 2, side: .a, outcome: .minus),
                     DetectorRole(channel: 3, side: .b, outcome: .plus), DetectorRole(channel: 4, side: .b, outcome: .minus)]
        let template = try BasisLabeler(roles: roles, sourceA: sourceA, sourceB: sourceB)
        var counter = try BasisCorrelationCounter(outcomeChannels: template.outcomeChannels, window: try CoincidenceWindow(halfWidthPs: 300))
        var merger = StreamMerger()
        var readers = try paths.map { try TagFiles.openReader(path: $0) }
        var labelers = [template, template]
        var done = [false, false]
        var firstPs = Int64.max, lastPs = Int64.min
        while done.contains(false) {
            // Read the input that is behind, as `qlink correlate` does.
            let index = done[0] ? 1 : done[1] ? 0 : (merger.lastTimePs(0) <= merger.lastTimePs(1) ? 0 : 1)
            guard let raw = try readers[index].next() else {
                done[index] = true
                try counter.process(merger.end(input: index))
                continue
            }
            var labelled = labelers[index].process(raw)
            if index == 1 { labelled.timesPs = labelled.timesPs.map { $0 - shiftBPs } }
            firstPs = min(firstPs, labelled.timesPs.first ?? .max)
            lastPs = max(lastPs, labelled.timesPs.last ?? .min)
            try counter.process(merger.add(labelled, input: index))
        }
        counter.finish()
        return counter.results(durationPs: lastPs - firstPs)
    }

    static func shift(_ truth: GroundTruth) throws -> Int64 {
        try #require(truth.stream(.labB)).delayPs - (try #require(truth.stream(.labA)).delayPs)
    }

    @Test("CHSH S from marker bases, written in chunks of 4 096 photons, agrees with the truth within 3σ", arguments: [UInt64(7), 8])
    func chsh(seed: UInt64) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-seam-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let simulation = try Self.simulation(settingsA: ["0", "45"], settingsB: ["22.5", "67.5"], seed: seed)
        let (paths, truth) = try Self.writeFiles(simulation, chunkTags: 4_096, directory: directory)
        let counts = try Self.correlate(paths, sourceA: .markers([0: "a", 1: "a'"]), sourceB: .markers([10: "b", 11: "b'"]),
                                        shiftBPs: try Self.shift(truth))
        let s = try #require(SettingEstimates.chsh(counts, CHSHSettings(a: "a", aPrime: "a'", b: "b", bPrime: "b'"), .raw))
        let truthS = try #require(truth.pairSourceSegments?.first?.chshS)
        #expect(s.value > 2.5 && s.standardError < 0.03, "S = \(s)")
        #expect(abs(s.value - truthS) <= 3 * s.standardError, "S = \(s), truth \(truthS)")
    }

    @Test("fidelity from Z/X/Y marker bases, written in chunks of 4 096 photons, agrees with the truth within 3σ")
    func fidelity() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-seam-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let simulation = try Self.simulation(settingsA: ["z", "x", "y"], settingsB: ["z", "x", "y"], seed: 9)
        let (paths, truth) = try Self.writeFiles(simulation, chunkTags: 4_096, directory: directory)
        let counts = try Self.correlate(paths, sourceA: .markers([0: "Z", 1: "X", 2: "Y"]), sourceB: .markers([10: "Z", 11: "X", 12: "Y"]),
                                        shiftBPs: try Self.shift(truth))
        let fidelity = try #require(SettingEstimates.fidelity(counts, to: .phiPlus, .raw))
        let truthF = try #require(truth.pairSourceSegments?.first?.fidelity)
        #expect(fidelity.standardError < 0.01)
        #expect(abs(fidelity.value - truthF) <= 3 * fidelity.standardError, "F = \(fidelity), truth \(truthF)")
    }
}
