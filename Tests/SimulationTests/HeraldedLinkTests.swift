import Foundation
import Testing
@testable import Simulation

@Suite("Heralded links against closed forms")
struct HeraldedLinkTests {
    static func node(eta: Double, delayPs: Int64, fidelity: Double = 1, bases: BasisSchedule = .fixed(.z)) -> HeraldedNode {
        HeraldedNode(armEfficiency: eta, fibreDelayPs: delayPs, readoutDelayPs: 1_000_000, readoutFidelity: fidelity, bases: bases)
    }

    /// Heralds (station markers 1, 2) and readouts per lab.
    static func heralds(_ streams: [StreamRole: CollectedStream]) throws -> (markers: [Int32], a: CollectedStream, b: CollectedStream, station: CollectedStream) {
        let station = try #require(streams[.station])
        return (station.markers.map(\.marker), try #require(streams[.labA]), try #require(streams[.labB]), station)
    }

    @Test("single-click herald probability: exactly one click, ≈ 2αη, plus dark clicks")
    func singleClickProbability() throws {
        let alpha = 0.1, eta = 0.01, v = 0.9, q = -expm1(-1e6 * 1_000e-12)  // dark 1 MHz × 1 ns gate
        let attempts = 2_000_000.0
        let scenario = HeraldedLinkScenario(
            attemptRateHz: 1e6, heraldingProtocol: .singleClick(brightStatePopulation: alpha), visibility: v,
            nodeA: Self.node(eta: eta, delayPs: 10_000_000), nodeB: Self.node(eta: eta, delayPs: 12_000_000),
            station: HeraldingStation(detector: DetectorModel(darkCountRateHz: 1e6), detectionWindowPs: 1_000))
        let (streams, truth) = try runSimulation(.heraldedLink(scenario), durationPs: Int64(attempts * 1e6))
        let (markers, a, b, station) = try Self.heralds(streams)
        // Signal photons: none from |00⟩; one photon (η) from |01⟩, |10⟩; two from |11⟩, where
        // both arriving bunch (prob (1+V)/2) onto one detector.
        let pOneDetector = 2 * alpha * (1 - alpha) * eta + alpha * alpha * (2 * eta * (1 - eta) + eta * eta * (1 + v) / 2)
        let pNone = (1 - alpha) * (1 - alpha) + 2 * alpha * (1 - alpha) * (1 - eta) + alpha * alpha * (1 - eta) * (1 - eta)
        let p = pOneDetector * (1 - q) + pNone * 2 * q * (1 - q)
        let expected = p * attempts
        #expect(within(Double(markers.count), expected, sigma: expected.squareRoot()))
        #expect(abs(pOneDetector / (2 * alpha * eta) - 1) < 0.01)  // the small-η closed form
        let segment = try #require(truth.heraldedSegments?.first)
        #expect(abs(segment.heraldProbability - p) < 1e-12)
        #expect(a.times.count == markers.count && b.times.count == markers.count)
        #expect(station.times.count >= markers.count)
        // Ψ+ and Ψ− heralds are equally likely.
        let plus = Double(markers.filter { $0 == 1 }.count)
        #expect(within(plus, expected / 2, sigma: (expected / 4).squareRoot()))
    }

    @Test("single-click heralded state without noise: F = (1 + √V)α(1−α)η/2 / P(herald on one detector)")
    func singleClickFidelity() throws {
        let alpha = 0.05, eta = 0.02, v = 0.81
        let scenario = HeraldedLinkScenario(
            attemptRateHz: 1e6, heraldingProtocol: .singleClick(brightStatePopulation: alpha), visibility: v,
            nodeA: Self.node(eta: eta, delayPs: 0), nodeB: Self.node(eta: eta, delayPs: 0))
        let simulator = try HeraldedLinkSimulator(scenario: scenario, options: SimulationOptions(durationPs: 1_000_000, seed: 1))
        let segment = try #require(simulator.groundTruth().heraldedSegments?.first)
        let perDetector = (2 * alpha * (1 - alpha) * eta + alpha * alpha * (2 * eta * (1 - eta) + eta * eta * (1 + v) / 2)) / 2
        let fidelity = (alpha * (1 - alpha) * eta / 2) * (1 + v.squareRoot()) / perDetector
        #expect(abs(segment.fidelityPsiPlus - fidelity) < 1e-12)
        #expect(abs(segment.fidelityPsiMinus - fidelity) < 1e-12)
    }

    @Test("Barrett–Kok: herald probability η_A η_B / 2 and readout correlations −(2F−1)² in ZZ, ±V(2F−1)² in XX")
    func barrettKok() throws {
        let etaA = 0.1, etaB = 0.08, v = 0.8, readout = 0.97
        let attempts = 1_000_000.0
        let schedule = BasisSchedule(bases: [.z, .x], periodPs: 100_000_000)
        let scenario = HeraldedLinkScenario(
            attemptRateHz: 1e6, heraldingProtocol: .barrettKok(roundSeparationPs: 300_000), visibility: v,
            nodeA: Self.node(eta: etaA, delayPs: 5_000_000, fidelity: readout, bases: schedule),
            nodeB: Self.node(eta: etaB, delayPs: 5_000_000, fidelity: readout, bases: schedule))
        let (streams, truth) = try runSimulation(.heraldedLink(scenario), durationPs: Int64(attempts * 1e6))
        let (markers, a, b, _) = try Self.heralds(streams)
        let expected = etaA * etaB / 2 * attempts
        #expect(within(Double(markers.count), expected, sigma: expected.squareRoot()))
        let segment = try #require(truth.heraldedSegments?.first)
        #expect(abs(segment.fidelityPsiPlus - (1 + v) / 2) < 1e-12)
        #expect(a.times.count == markers.count && b.times.count == markers.count)
        let factor = (2 * readout - 1) * (2 * readout - 1)
        var same = [Double](repeating: 0, count: 4), total = [Double](repeating: 0, count: 4)
        for index in 0..<markers.count {
            guard let basis = a.marker(at: a.times[index]), b.marker(at: b.times[index]) == basis else { continue }
            let cell = Int(basis) * 2 + Int(markers[index] - 1)  // (Z, X) × (Ψ+, Ψ−)
            total[cell] += 1
            if a.channels[index] == b.channels[index] { same[cell] += 1 }
        }
        let theory = [-factor, -factor, v * factor, -v * factor]  // ZZ Ψ+, ZZ Ψ−, XX Ψ+, XX Ψ−
        for cell in 0..<4 {
            let n = total[cell]
            #expect(n > 500)
            let e = (2 * same[cell] - n) / n
            #expect(within(e, theory[cell], sigma: ((1 - theory[cell] * theory[cell]) / n).squareRoot()), "cell \(cell)")
        }
    }

    @Test("a dark station detector stops its clicks and leaves only its partner's heralds")
    func darkStationDetector() throws {
        let scenario = HeraldedLinkScenario(
            attemptRateHz: 1e6, heraldingProtocol: .singleClick(brightStatePopulation: 0.2), visibility: 1,
            nodeA: Self.node(eta: 0.05, delayPs: 0), nodeB: Self.node(eta: 0.05, delayPs: 0),
            faults: FaultSchedule([ScheduledFault(atPs: 50_000_000_000, kind: .detectorDark(stream: .station, detector: 1, durationPs: nil))]))
        let (streams, _) = try runSimulation(.heraldedLink(scenario), durationPs: 100_000_000_000)
        let station = try #require(streams[.station])
        let late = zip(station.trueTimes, station.channels).filter { $0.0 >= 50_000_000_000 }
        #expect(!late.isEmpty && late.allSatisfy { $0.1 == 1 })
        #expect(station.markers.filter { $0.timePs >= 50_000_000_000 }.allSatisfy { $0.marker == 1 })
        #expect(station.markers.contains { $0.timePs < 50_000_000_000 && $0.marker == 2 })
    }
}
