import LinkModel
import Logging
import Planner
import Testing
@testable import Monitoring

/// The monitor's planned operating point is the resolved link's attempt rate: `simulation.repetition_rate_hz`
/// when the configuration sets it, else `model.clock.repetition_rate_hz`.
@Suite("Link monitor: planned rate from the resolved link")
struct LinkMonitorRateTests {
    static func monitor(modelRateHz: Double?, simulationRateHz: Double?) throws -> LinkMonitor {
        var link = try LinkConfiguration.parse(loopbackYAML(appending: ""))
        link.model = RetuneTests.model()
        link.model?.clock.repetitionRateHz = modelRateHz
        link.simulation?.repetitionRateHz = simulationRateHz
        var logger = Logger(label: "test.monitor.rate")
        logger.logLevel = .critical
        return try LinkMonitor(link: link, role: "coordinator", history: nil, logger: logger)
    }

    static func expected(rateHz: Double) -> PlannedPrediction {
        let model = RetuneTests.model()
        return PlannedPrediction(model: model, point: OperatingPoint(repetitionRateHz: rateHz, knob: model.protocol.knob))
    }

    @Test("a configuration with only simulation.repetition_rate_hz gives the planner's prediction at that rate")
    func simulationRateOnly() async throws {
        let monitor = try Self.monitor(modelRateHz: nil, simulationRateHz: 468_690)
        let prediction = try #require(await monitor.prediction)
        #expect(prediction == Self.expected(rateHz: 468_690))
        #expect(await monitor.currentStatus().tuning?.repetitionRateHz == 468_690)
    }

    @Test("simulation.repetition_rate_hz overrides the model's clock; the model's clock alone still plans")
    func precedence() async throws {
        let both = try Self.monitor(modelRateHz: 100_000, simulationRateHz: 468_690)
        #expect(await both.prediction == Self.expected(rateHz: 468_690))
        let modelOnly = try Self.monitor(modelRateHz: 100_000, simulationRateHz: nil)
        #expect(await modelOnly.prediction == Self.expected(rateHz: 100_000))
        #expect(Self.expected(rateHz: 100_000) != Self.expected(rateHz: 468_690))
        let none = try Self.monitor(modelRateHz: nil, simulationRateHz: nil)
        #expect(await none.prediction == nil)
    }
}
