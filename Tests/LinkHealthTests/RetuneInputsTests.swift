import Correlation
import Foundation
import LinkHealth
import LinkModel
import Monitoring
import Testing

/// The running coordinator's re-tuning inputs from one window's observation, checked against rates worked out
/// by hand for the pair-source demo link (200 k pairs/s, each photon detected with probability 0.5, 200 Hz dark
/// counts per detector, two detectors per lab) with 3 dB more loss on lab B's arm.
@Suite("Re-tuning inputs of a running link")
struct RetuneInputsTests {
    static func configuration(_ name: String) throws -> LinkConfiguration {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try LinkConfiguration.load(from: root.appendingPathComponent("configs/\(name)").path)
    }

    @Test func aPairSourceIsEstimatedFromItsSinglesAndCoincidencesPerArm() throws {
        let link = try Self.configuration("demo-pair-source.yaml")
        let model = try #require(link.model)
        let pairsHz = 200_000.0, detection = 0.5, lossyDetection = 0.5 * pow(10, -0.3), darkHz = 400.0, accidentalHz = 30.0
        var observation = LinkObservation(timePs: 10_000_000_000_000)
        observation.armRatesHz = ["alice": pairsHz * detection + darkHz, "bob": pairsHz * lossyDetection + darkHz]
        observation.coincidenceRateHz = Estimate(pairsHz * detection * lossyDetection + accidentalHz, standardError: 0)
        observation.accidentalRateHz = Estimate(accidentalHz, standardError: 0)
        let measurement = try #require(RetuneMeasurement(observation: observation, link: link, model: model,
                                                         repetitionRateHz: 10_000_000, knob: 0.02))
        #expect(measurement.backgroundRateHz == [darkHz, darkHz])
        let estimates = try ArmEstimator.estimate(model: model, measurement: measurement)
        #expect(estimates.count == 2)
        #expect(abs(estimates[0].extraLossDb) < 0.01, "arm A as planned: \(estimates)")
        #expect(abs(estimates[1].extraLossDb - 3) < 0.01, "arm B 3 dB lossier: \(estimates)")

        // Without coincidences in the window there is nothing to estimate from.
        observation.coincidenceRateHz = nil
        #expect(RetuneMeasurement(observation: observation, link: link, model: model, repetitionRateHz: 10_000_000, knob: 0.02) == nil)
    }

    @Test func aHeraldedLinkIsEstimatedFromItsHeraldRate() throws {
        let link = try Self.configuration("demo.yaml")
        let model = try #require(link.model)
        var observation = LinkObservation(timePs: 10_000_000_000_000)
        #expect(RetuneMeasurement(observation: observation, link: link, model: model, repetitionRateHz: 1_000_000, knob: 0.05) == nil)
        observation.heraldRateHz = Estimate(1_500, standardError: 0)
        let measurement = try #require(RetuneMeasurement(observation: observation, link: link, model: model, repetitionRateHz: 1_000_000, knob: 0.05))
        #expect(measurement.stationClickRateHz == 1_500)
        #expect(measurement.windowSeconds == link.monitoring?.windowSeconds)
    }
}
