import Correlation
import Foundation
import LinkHealth
import LinkModel
import Monitoring
import Protocol
import Testing

/// The running coordinator's re-tuning inputs from one window of link time, checked against rates worked out
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
        // 10 s of link time.
        var window = RetuneWindow(linkSpanPs: 10_000_000_000_000,
                                  coincidences: Int64((10 * (pairsHz * detection * lossyDetection + accidentalHz)).rounded()),
                                  accidentals: Int64(10 * accidentalHz),
                                  tagsByLab: ["alice": Int64(10 * (pairsHz * detection + darkHz)), "bob": Int64((10 * (pairsHz * lossyDetection + darkHz)).rounded())])
        let measurement = try #require(RetuneMeasurement(window: window, link: link, model: model, repetitionRateHz: 10_000_000, knob: 0.02))
        #expect(measurement.backgroundRateHz == [darkHz, darkHz])
        #expect(measurement.windowSeconds == 10 && measurement.events == window.coincidences)
        let estimates = try ArmEstimator.estimate(model: model, measurement: measurement)
        #expect(estimates.count == 2)
        #expect(abs(estimates[0].extraLossDb) < 0.01, "arm A as planned: \(estimates)")
        #expect(abs(estimates[1].extraLossDb - 3) < 0.01, "arm B 3 dB lossier: \(estimates)")

        // Without coincidences in the window there is nothing to estimate from.
        window.coincidences = 0
        #expect(RetuneMeasurement(window: window, link: link, model: model, repetitionRateHz: 10_000_000, knob: 0.02) == nil)
    }

    @Test func aHeraldedLinkIsEstimatedFromItsHeraldRate() throws {
        let link = try Self.configuration("demo.yaml")
        let model = try #require(link.model)
        var window = RetuneWindow(linkSpanPs: 2_000_000_000_000)
        #expect(RetuneMeasurement(window: window, link: link, model: model, repetitionRateHz: 1_000_000, knob: 0.05) == nil)
        window.heralds = 3_000
        let measurement = try #require(RetuneMeasurement(window: window, link: link, model: model, repetitionRateHz: 1_000_000, knob: 0.05))
        #expect(measurement.stationClickRateHz == 1_500)
        #expect(measurement.windowSeconds == 2 && measurement.events == 3_000)
    }

    /// The coordinator's status reports as a loaded machine produces them: the link starts 3 s after the
    /// coordinator and then runs at half the wall clock's pace, with `heraldsHz` heralds per second of link time.
    static func report(wallSeconds: Double, heraldsHz: Double) -> StatusReport {
        var status = StatusReport(runId: 1)
        status.elapsedSeconds = wallSeconds
        let linkSeconds = max(0, (wallSeconds - 3) / 2)
        status.analysisLinkTimePs = Int64((linkSeconds * 1e12).rounded())
        // The station's batches (the heralds' link time) run ahead of the analysis by a second.
        status.heraldLinkTimePs = Int64(((linkSeconds + 1) * 1e12).rounded())
        status.heraldSuccesses = Int64(((linkSeconds + 1) * heraldsHz).rounded())
        status.heralds = 2 * status.heraldSuccesses
        return status
    }

    @Test func onlyAWholeWindowOfLinkTimeWithEnoughHeraldsIsReTunedFrom() async throws {
        let link = try Self.configuration("demo.yaml")
        let model = try #require(link.model)
        let windowSeconds = try #require(link.monitoring?.windowSeconds)
        let monitor = try LinkMonitor(link: link, role: "coordinator", history: nil, logger: quietLogger)
        var observer = StatusObserver(link: link, windowSeconds: windowSeconds)
        var shortfalls: [String?] = []
        var full: RetuneMeasurement?
        // Every 0.5 s of the coordinator's clock until a window is full.
        for step in 0...200 where full == nil {
            _ = observer.observation(from: Self.report(wallSeconds: Double(step) / 2, heraldsHz: 1_500))
            guard let window = observer.retuneWindow,
                  let measurement = RetuneMeasurement(window: window, link: link, model: model, repetitionRateHz: 1_000_000, knob: 0.05) else { continue }
            let shortfall = measurement.shortfall(minSpanSeconds: windowSeconds)
            shortfalls.append(shortfall)
            if shortfall == nil { full = measurement }
        }
        // Early windows span less link time: none is re-tuned from, and the monitor says why.
        #expect(shortfalls.count > 1 && shortfalls.dropLast().allSatisfy { $0?.contains("link time") == true }, "\(shortfalls)")
        let early = try #require(RetuneMeasurement(window: RetuneWindow(linkSpanPs: 500_000_000_000, heralds: 750), link: link, model: model,
                                                   repetitionRateHz: 1_000_000, knob: 0.05))
        let kept = await monitor.retune(early, atPs: 0)
        #expect(kept == .keep(reason: "waiting for a representative window: " + (early.shortfall(minSpanSeconds: windowSeconds) ?? "")))
        // The whole window reads the link's rate per second of link time, not per second of the loaded machine's clock.
        let measurement = try #require(full)
        #expect(measurement.windowSeconds >= windowSeconds && measurement.stationClickRateHz == 1_500, "\(measurement)")

        // A window of link time with too few heralds for a 5 % rate is not re-tuned from either.
        var thin = StatusObserver(link: link, windowSeconds: windowSeconds)
        var thinShortfall: String?
        for step in 0...200 {
            _ = thin.observation(from: Self.report(wallSeconds: Double(step) / 2, heraldsHz: 30))
            if let window = thin.retuneWindow, Double(window.linkSpanPs) >= windowSeconds * 1e12,
               let measurement = RetuneMeasurement(window: window, link: link, model: model, repetitionRateHz: 1_000_000, knob: 0.05) {
                thinShortfall = measurement.shortfall(minSpanSeconds: windowSeconds)
                break
            }
        }
        #expect(thinShortfall?.contains("fewer than the 400") == true, "\(String(describing: thinShortfall))")
    }
}
