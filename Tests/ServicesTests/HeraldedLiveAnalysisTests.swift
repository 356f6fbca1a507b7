import Correlation
import Foundation
import LinkModel
import Monitoring
import Planner
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
    /// The demo link simulated for 4 s with `seed` through the coordinator's herald decider and live analysis.
    /// - Returns: the successful heralds decided, the analysis's snapshot and the simulator's truth.
    static func analyseDemo(seed: UInt64) throws -> (decided: Int, snapshot: LinkAnalysisSnapshot, truth: GroundTruth) {
        let configuration = try LinkConfiguration.load(from: RepositoryConfigs.heraldedDemo)
        let layout = try #require(ConfigurationMapping.analysisLayout(configuration))
        let settings = try #require(try ConfigurationMapping.heralds(configuration))
        let simulation = try ConfiguredSimulation(configuration: configuration, durationPs: 4_000_000_000_000, seed: seed)
        var simulator = try simulation.makeSimulator()
        var decider = HeraldDecider(repetitionPeriodPs: settings.repetitionPeriodPs, windowStartPs: settings.windowStartPs,
                                    windowEndPs: settings.windowEndPs, stationChannels: settings.stationChannels,
                                    heraldProtocol: settings.heraldProtocol)
        var analysis = LiveAnalysis(layout: layout)
        let decided = feed(&simulator, through: &decider, into: &analysis)
        return (decided, analysis.snapshot, simulator.groundTruth())
    }

    @Test func fidelityPerHeraldTypeMatchesTheGroundTruth() throws {
        let (decided, snapshot, groundTruth) = try Self.analyseDemo(seed: 11)
        let truth = try heraldedTruthFidelity(groundTruth)
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

    /// The QBER the coordinator measures on the heralded demo link, per herald state against its own Bell state and
    /// pooled, and the BBM92 key rate from the sifted heralds (``LinkObservation/addKey(from:settings:)``, what
    /// `/metrics` and `qlink status` show), against the simulator's truth within 3 σ: each state's QBER from its
    /// Born-rule correlators (the demo's readouts have no errors), the pooled one weighted by the herald
    /// probabilities, and the key rate from the true herald rate, a third of it in each basis (Z, X, Y in lockstep).
    @Test func qberAndKeyRateMatchTheGroundTruth() throws {
        let (_, snapshot, truth) = try Self.analyseDemo(seed: 23)
        let segment = try #require(truth.heraldedSegments?.first)
        let bases = try #require(truth.stream(.labA)?.bases)
        func trueQBER(_ state: BellState, _ basis: MeasurementBasis) throws -> Double {
            let index = try #require(bases.firstIndex(of: basis))
            let table = state == .psiPlus ? segment.correlationsPsiPlus : segment.correlationsPsiMinus
            let e = try #require(table.first { $0.basisA == index && $0.basisB == index }).correlation
            return (1 - (basis == .z ? state.signs.z : state.signs.x) * e) / 2
        }
        var observation = LinkObservation(timePs: 0)
        observation.addKey(from: snapshot)
        var pooledTruth: [String: Double] = [:]
        for (name, basis) in [("Z", MeasurementBasis.z), ("X", .x)] {
            for (state, weight) in [(BellState.psiPlus, segment.psiPlusProbability), (.psiMinus, segment.psiMinusProbability)] {
                let result = try #require(snapshot.heralded.first { $0.state == state })
                let measured = try #require(result.qber?.first { $0.basis == name }?.qber)
                let expected = try trueQBER(state, basis)
                #expect(measured.standardError > 0 && abs(measured.value - expected) <= 3 * measured.standardError,
                        "\(state) \(name): \(measured), truth \(expected)")
                let label = state == .psiPlus ? "psi_plus" : "psi_minus"
                #expect(observation.heraldedQber?[label]?[name.lowercased()] == measured)
                pooledTruth[name, default: 0] += weight / segment.heraldProbability * expected
            }
            let pooled = try #require(observation.qber?[name.lowercased()])
            let expected = try #require(pooledTruth[name])
            #expect(abs(pooled.value - expected) <= 3 * pooled.standardError, "pooled \(name): \(pooled), truth \(expected)")
        }
        let eZ = try #require(pooledTruth["Z"]), eX = try #require(pooledTruth["X"])
        let f = KeySettings().errorCorrectionEfficiency
        let expectedKey = segment.heraldRateHz / 3 * (max(0, KeyRate.secretFraction(bitError: eZ, phaseError: eX, errorCorrectionEfficiency: f))
            + max(0, KeyRate.secretFraction(bitError: eX, phaseError: eZ, errorCorrectionEfficiency: f)))
        let key = try #require(observation.keyRateBitsPerS)
        #expect(expectedKey > 0 && key.standardError > 0)
        #expect(abs(key.value - expectedKey) <= 3 * key.standardError, "key rate \(key) bit/s, truth \(expectedKey) bit/s")
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
