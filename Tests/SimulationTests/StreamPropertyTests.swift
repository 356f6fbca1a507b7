import Foundation
import Testing
@testable import Simulation

@Suite("Stream properties, determinism, validation")
struct StreamPropertyTests {
    static let busy = PairSourceScenario(
        pairRateHz: 2e6, state: .phiPlus, visibility: 0.9,
        labA: PairSourceLab(armTransmission: 0.3, fibreDelayPs: 1_000,
                            detector: DetectorModel(darkCountRateHz: 50_000, jitterSigmaPs: 200, jitterTailFraction: 0.1,
                                                    jitterTailMeanPs: 2_000, deadTimePs: 20_000,
                                                    afterpulseProbability: 0.02, afterpulseDelayMeanPs: 100_000),
                            bases: BasisSchedule(bases: [.z, .x, .y], periodPs: 3_000_000, order: .random),
                            clock: ClockModel(offsetPs: 500, frequencyErrorPpm: 2, wanderStepPs: 5, wanderIntervalPs: 1_000_000)),
        labB: PairSourceLab(armTransmission: 0.4, fibreDelayPs: 70_000,
                            detector: DetectorModel(darkCountRateHz: 10_000, jitterSigmaPs: 500, deadTimePs: 5_000),
                            bases: BasisSchedule(bases: [.z, .x], periodPs: 2_000_000)))

    @Test("every stream is time-ordered within and across chunks, markers too")
    func timeOrder() throws {
        let (streams, _) = try runSimulation(.pairSource(Self.busy), durationPs: 20_000_000_000, targetTagsPerStep: 64)
        for role in [StreamRole.labA, .labB] {
            let s = try #require(streams[role])
            #expect(s.chunkCount > 50)
            #expect(s.allChunksSorted && isNonDecreasing(s.times), "\(role)")
            #expect(isNonDecreasing(s.markers.map(\.timePs)) && !s.markers.isEmpty)
        }
        let heralded = HeraldedLinkScenario(
            attemptRateHz: 2e6, heraldingProtocol: .barrettKok(roundSeparationPs: 200_000),
            nodeA: HeraldedNode(armEfficiency: 0.3, fibreDelayPs: 3_000, bases: BasisSchedule(bases: [.z, .x], periodPs: 1_000_000)),
            nodeB: HeraldedNode(armEfficiency: 0.3, fibreDelayPs: 9_000),
            station: HeraldingStation(detector: DetectorModel(darkCountRateHz: 1e5, jitterSigmaPs: 300, afterpulseProbability: 0.05,
                                                              afterpulseDelayMeanPs: 50_000)))
        let (hs, _) = try runSimulation(.heraldedLink(heralded), durationPs: 20_000_000_000, targetTagsPerStep: 64)
        for role in StreamRole.allCases {
            let s = try #require(hs[role])
            #expect(s.allChunksSorted && isNonDecreasing(s.times) && !s.times.isEmpty, "\(role)")
            #expect(isNonDecreasing(s.markers.map(\.timePs)))
        }
    }

    @Test("equal seeds give equal streams and truth; another seed gives other streams")
    func determinism() throws {
        let first = try runSimulation(.pairSource(Self.busy), durationPs: 5_000_000_000, seed: 11)
        let second = try runSimulation(.pairSource(Self.busy), durationPs: 5_000_000_000, seed: 11)
        let other = try runSimulation(.pairSource(Self.busy), durationPs: 5_000_000_000, seed: 12)
        for role in [StreamRole.labA, .labB] {
            #expect(first.streams[role]?.times == second.streams[role]?.times)
            #expect(first.streams[role]?.channels == second.streams[role]?.channels)
            #expect(first.streams[role]?.markers == second.streams[role]?.markers)
            #expect(first.streams[role]?.times != other.streams[role]?.times)
        }
        #expect(first.truth == second.truth)
    }

    @Test("ground truth and scenarios survive a JSON round trip")
    func codable() throws {
        let (_, truth) = try runSimulation(.pairSource(Self.busy), durationPs: 1_000_000_000)
        let data = try JSONEncoder().encode(truth)
        #expect(try JSONDecoder().decode(GroundTruth.self, from: data) == truth)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains("\"fidelity\"") && json.contains("\"wanderKnotsPs\""))
        let scenario = SimulationScenario.heraldedLink(HeraldedLinkScenario(
            attemptRateHz: 1e5, heraldingProtocol: .singleClick(brightStatePopulation: 0.1),
            faults: FaultSchedule([ScheduledFault(atPs: 5, kind: .lossStep(arm: .a, extraLossDb: 1))])))
        #expect(try JSONDecoder().decode(SimulationScenario.self, from: JSONEncoder().encode(scenario)) == scenario)
    }

    @Test("invalid scenarios are rejected with the offending parameter named")
    func validation() {
        func parameter(_ scenario: SimulationScenario, durationPs: Int64 = 1_000) -> String? {
            do {
                _ = try LinkSimulator(scenario: scenario, options: SimulationOptions(durationPs: durationPs, seed: 1))
                return nil
            } catch let error as SimulationError {
                return error.parameter
            } catch {
                return "unexpected"
            }
        }
        #expect(parameter(.pairSource(PairSourceScenario(pairRateHz: -1))) == "pairRateHz")
        #expect(parameter(.pairSource(PairSourceScenario(pairRateHz: .nan))) == "pairRateHz")
        #expect(parameter(.pairSource(PairSourceScenario(pairRateHz: 1, visibility: 1.5))) == "visibility")
        #expect(parameter(.pairSource(PairSourceScenario(pairRateHz: 1, labA: PairSourceLab(channels: OutcomeChannels(plus: 3, minus: 3))))) == "labA.channels")
        #expect(parameter(.pairSource(PairSourceScenario(pairRateHz: 1, labB: PairSourceLab(bases: BasisSchedule(bases: [])))))
                == "labB.bases.bases")
        #expect(parameter(.pairSource(PairSourceScenario(pairRateHz: 1, faults: FaultSchedule([
            ScheduledFault(atPs: 1, kind: .detectorDark(stream: .station, detector: 0, durationPs: nil))])))) == "faults[0].stream")
        #expect(parameter(.heraldedLink(HeraldedLinkScenario(attemptRateHz: 1e9, heraldingProtocol: .barrettKok(roundSeparationPs: 5_000)))) == "attemptRateHz")
        #expect(parameter(.heraldedLink(HeraldedLinkScenario(attemptRateHz: 1e6, heraldingProtocol: .singleClick(brightStatePopulation: 2)))) == "heraldingProtocol.brightStatePopulation")
        #expect(parameter(.pairSource(PairSourceScenario(pairRateHz: 1)), durationPs: 0) == "durationPs")
        #expect(parameter(.heraldedLink(HeraldedLinkScenario(attemptRateHz: 1e-30, heraldingProtocol: .barrettKok(roundSeparationPs: 5))))
                == "attemptRateHz")
        #expect(parameter(.pairSource(PairSourceScenario(pairRateHz: 1, labA: PairSourceLab(clock: ClockModel(wanderStepPs: 1e9)))))
                == "labA.clock.wanderStepPs")
    }
}
