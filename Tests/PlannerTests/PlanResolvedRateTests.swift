import Foundation
import LinkModel
import Testing
@testable import Planner

@Suite("Planning a link configuration at its resolved rate")
struct PlanResolvedRateTests {
    @Test("simulation.repetition_rate_hz is the planned model's rate; the model's clock rate otherwise")
    func resolvedRate() throws {
        let shipped = try String(contentsOfFile: plannerProjectRoot.appendingPathComponent("configs/loopback.yaml").path,
                                 encoding: .utf8)
        #expect(try PlanConfiguration.parse(shipped).model.clock.repetitionRateHz == 20_000_000)
        let overridden = shipped.replacingOccurrences(of: "\nsimulation:\n", with: "\nsimulation:\n  repetition_rate_hz: 5_000_000\n")
        #expect(overridden != shipped)
        let plan = try PlanConfiguration.parse(overridden)
        #expect(plan.model.clock.repetitionRateHz == 5_000_000)
        #expect(plan.model.clock.repetitionRateHz == (try ResolvedLink(LinkConfiguration.parse(overridden)).attempts?.rateHz))
    }
}
