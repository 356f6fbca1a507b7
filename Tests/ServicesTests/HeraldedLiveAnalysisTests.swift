import Correlation
import Foundation
import LinkModel
import Protocol
import Services
import Simulation
import Testing
import TimeTags

/// Paths of the repository's configurations.
enum RepositoryConfigs {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var heraldedDemo: String { root.appendingPathComponent("configs/demo.yaml").path }
}

/// Lab A's stream as its node sends it: the lab's readouts and markers with the station's clicks merged in.
func mergedWithStation(_ lab: TagBatch, _ station: TagBatch?) -> TagBatch {
    guard let station, !station.isEmpty else { return lab }
    return TagSourceRunner.merge(lab, station)
}

/// Runs `simulator` to its end as the coordinator would see it: lab A's stream (with the station) through the
/// herald decider, the heralds and both labs' streams into `analysis`. - Returns: the successful heralds.
func feed(_ simulator: inout LinkSimulator, through decider: inout HeraldDecider, into analysis: inout LiveAnalysis) -> Int {
    var decided = 0
    while let step = simulator.next() {
        let a = mergedWithStation(step.chunk(.labA)?.batch ?? TagBatch(), step.chunk(.station)?.batch)
        let heralds = decider.process(a)
        decided += heralds.filter { $0.outcome != .failure }.count
        analysis.addHeralds(heralds, coveredThroughPs: a.timesPs.last)
        analysis.add(lab: 0, batch: a)
        if let b = step.chunk(.labB)?.batch { analysis.add(lab: 1, batch: b) }
    }
    return decided
}

/// The herald-weighted fidelity of the heralded states the simulator made (ψ⁺ heralds against ψ⁺, ψ⁻ against ψ⁻).
func heraldedTruthFidelity(_ truth: GroundTruth) throws -> (fidelity: Double, heraldRateHz: Double) {
    let segment = try #require(truth.heraldedSegments?.first)
    let fidelity = (segment.psiPlusProbability * segment.fidelityPsiPlus + segment.psiMinusProbability * segment.fidelityPsiMinus)
        / (segment.psiPlusProbability + segment.psiMinusProbability)
    return (fidelity, segment.heraldRateHz)
}

@Suite("Herald-conditioned live analysis of the heralded demo link")
struct HeraldedLiveAnalysisTests {
    @Test func demoLayoutIsHeraldedWithZXYReadouts() throws {
        let configuration = try LinkConfiguration.load(from: RepositoryConfigs.heraldedDemo)
        let layout = try #require(ConfigurationMapping.analysisLayout(configuration))
        #expect(layout.heralded)
        #expect(layout.channelsA == [1, 2] && layout.channelsB == [11, 12])
        #expect(layout.sourceA == .markers([0: "Z", 1: "X", 2: "Y"]))
        let heralds = try #require(try ConfigurationMapping.heralds(configuration))
        #expect(heralds.stationChannels == [13, 14])
        #expect(heralds.repetitionPeriodPs == 1_000_000)
    }

    /// The coordinator's pieces (herald decider, live analysis) on the simulated demo link, batch by batch as
    /// the nodes send it: the fidelity of the heralded states, ψ⁺ and ψ⁻ each against its own target, lies
    /// within 3 σ of the simulator's ground truth, and the readout lags give the true clock offset.
    @Test func fidelityPerHeraldTypeMatchesTheGroundTruth() throws {
        let configuration = try LinkConfiguration.load(from: RepositoryConfigs.heraldedDemo)
        let layout = try #require(ConfigurationMapping.analysisLayout(configuration))
        let settings = try #require(try ConfigurationMapping.heralds(configuration))
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: 4_000_000_000_000, seed: 11)
        var simulator = try simulation.makeSimulator()
        var decider = HeraldDecider(repetitionPeriodPs: settings.repetitionPeriodPs, windowStartPs: settings.windowStartPs,
                                    windowEndPs: settings.windowEndPs, stationChannels: settings.stationChannels,
                                    heraldProtocol: settings.heraldProtocol)
        var analysis = LiveAnalysis(layout: layout)
        let decided = feed(&simulator, through: &decider, into: &analysis)
        let truth = try heraldedTruthFidelity(simulator.groundTruth())
        let snapshot = analysis.snapshot
        #expect(Double(decided) > 0.9 * truth.heraldRateHz * 4, "heralds \(decided), truth rate \(truth.heraldRateHz) Hz")
        // Nearly every herald finds both readouts.
        #expect(Double(snapshot.heraldsWithOutcomes) > 0.95 * Double(decided), "correlated \(snapshot.heraldsWithOutcomes) of \(decided)")
        let fidelity = try #require(snapshot.fidelity)
        #expect(snapshot.reportedFidelity?.isLowerBound == false)
        #expect(fidelity.standardError > 0 && fidelity.standardError < 0.02)
        #expect(abs(fidelity.value - truth.fidelity) <= 3 * fidelity.standardError,
                "fidelity \(fidelity), truth \(truth.fidelity)")
        #expect(snapshot.heralded.filter { $0.fidelity != nil }.map(\.state) == [.psiPlus, .psiMinus])
        // Readouts of ψ⁺ heralds against ψ⁻ would give XX, YY of the wrong sign: the pooled frame must not.
        let x = try #require(snapshot.bases.first { $0.basis == "XX" }?.correlation), y = try #require(snapshot.bases.first { $0.basis == "YY" }?.correlation)
        #expect(x.value < -0.5 && y.value < -0.5, "E_X \(x), E_Y \(y) in the ψ⁻ frame")
        // Equal arms: the readouts' lag difference is lab B's clock offset.
        let offset = try #require(snapshot.clock?.offsetPs?.value)
        #expect(abs(offset - 1_500_000) < 100, "offset \(offset)")
    }

    /// Lab B's tagger clock steps by 8 ns: the engine's clock recovery (fed the readouts of both labs) follows
    /// the step, reports it as a clock event and the new offset, and the fidelity of the heralded states stays
    /// within 3 σ of the truth.
    @Test func clockStepIsFoundAgainAndReported() throws {
        let text = try String(contentsOfFile: RepositoryConfigs.heraldedDemo, encoding: .utf8)
        let configuration = try LinkConfiguration.parse(text.replacingOccurrences(of: "  station:\n    channels: [13, 14]\n", with: """
              station:
                channels: [13, 14]
              faults:
                - { at_ps: 1_000_000_000_000, kind: clock_jump, stream: bob, jump_ps: 8_000 }

            """))
        let layout = try #require(ConfigurationMapping.analysisLayout(configuration))
        let settings = try #require(try ConfigurationMapping.heralds(configuration))
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: 3_000_000_000_000, seed: 4)
        var simulator = try simulation.makeSimulator()
        var decider = HeraldDecider(repetitionPeriodPs: settings.repetitionPeriodPs, windowStartPs: settings.windowStartPs,
                                    windowEndPs: settings.windowEndPs, stationChannels: settings.stationChannels)
        var analysis = LiveAnalysis(layout: layout)
        let decided = feed(&simulator, through: &decider, into: &analysis)
        let snapshot = analysis.snapshot
        let offset = try #require(snapshot.clock?.offsetPs?.value)
        #expect(abs(offset - 1_508_000) < 100, "offset \(offset)")
        let events = analysis.takeClockEvents()
        let steps = events.compactMap { event -> Double? in
            switch event {
            case .step(_, let step), .reacquired(_, _, _, let step): step
            default: nil
            }
        }
        #expect(steps.contains { abs($0 - 8_000) < 100 }, "\(events.map(\.text))")
        // Only the heralds around the step (the lost-lock run and the new search) miss their readouts.
        #expect(Double(snapshot.heraldsWithOutcomes) > 0.9 * Double(decided), "correlated \(snapshot.heraldsWithOutcomes) of \(decided)")
        let truth = try heraldedTruthFidelity(simulator.groundTruth())
        let fidelity = try #require(snapshot.fidelity)
        #expect(abs(fidelity.value - truth.fidelity) <= 3 * fidelity.standardError, "fidelity \(fidelity), truth \(truth.fidelity)")
    }

    @Test func lagSearchFindsTheSharedLagAmongUnrelatedEvents() {
        var heralds: [Int64] = [], readouts: [Int64] = []
        var generator = SeededGenerator(seed: 3)
        var time: Int64 = 0
        for _ in 0..<500 {
            time += Int64.random(in: 200_000_000...2_000_000_000, using: &generator)
            heralds.append(time)
            readouts.append(time + 26_001_234 + Int64.random(in: -40...40, using: &generator))
            readouts.append(time + Int64.random(in: -900_000_000...900_000_000, using: &generator))
        }
        readouts.sort()
        let lag = HeraldLagSearch.find(heralds: heralds, readouts: readouts, maxLagPs: 1_000_000_000, binPs: 16_000)
        #expect(lag.map { abs($0 - 26_001_234) <= 40 } == true, "lag \(String(describing: lag))")
        // Unrelated events only: nothing stands out.
        let unrelated = heralds.map { $0 + Int64.random(in: -900_000_000...900_000_000, using: &generator) }.sorted()
        #expect(HeraldLagSearch.find(heralds: heralds, readouts: unrelated, maxLagPs: 1_000_000_000, binPs: 16_000) == nil)
    }
}
