import Benchmark
import Correlation
import LinkModel
import Monitoring
import Planner

/// One second of a running link: 8 channels, 2 arms, correlations, clock, two nodes.
private func observation(_ second: Int) -> LinkObservation {
    var observation = LinkObservation(timePs: Int64(second) * 1_000_000_000_000)
    for channel in 1...8 { observation.channelRatesHz[channel] = 10_000 + Double(channel) + Double(second % 7) }
    observation.armRatesHz = ["alice": 40_000 + Double(second % 5), "bob": 39_000]
    observation.coincidenceRateHz = Estimate(1200, standardError: 11)
    observation.car = Estimate(400, standardError: 12)
    observation.fidelity = Estimate(0.95, standardError: 0.005)
    observation.heraldRateHz = Estimate(35, standardError: 2)
    observation.clockResidualPs = Double(second % 11)
    observation.nodeLastSeenPs = ["alice-node": observation.timePs, "bob-node": observation.timePs]
    observation.certificateDaysLeft = ["alice-node": 200, "bob-node": 200]
    return observation
}

private let observations = (0..<3600).map(observation)

/// A pair-source link with rate-dependent noise (as in the re-tuning test).
private let model: LinkDescription = {
    func arm(_ name: String) -> Arm {
        Arm(name: name, stages: [
            Stage(kind: .fibre(Fibre(lengthKm: 10, lossDbPerKm: 0.2)), noisePhotonsPerAttemptPerHz: 3e-8),
            Stage(kind: .memory(Memory(efficiency: 0.5))),
        ])
    }
    return LinkDescription(arms: [arm("a"), arm("b")], midpoint: Midpoint(source: PairSource(pairFidelity: 0.99)),
                           protocol: .pairSource(meanPairsPerAttempt: 0.01), clock: LinkClock(multiplexingModes: 1000),
                           costs: LinkCosts(overhead: CostModel(operatingPerHour: 100)))
}()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(3), maxIterations: 50)

    // One iteration evaluates a simulated hour: 3600 observations through every rule.
    Benchmark("Alert evaluator, one hour of 1 s observations") { benchmark in
        var evaluator = AlertEvaluator(rules: AlertRulesConfiguration(), planned: PlannedComparisonConfiguration(),
                                       prediction: PlannedPrediction(pairRateHz: 1200, fidelity: 0.95),
                                       expectedNodes: ["alice-node", "bob-node"])
        for observation in observations { blackHole(evaluator.evaluate(observation)) }
    }

    let metrics = LinkMetrics(link: "bench", role: "coordinator")
    metrics.update(with: observations[0])
    for nanoseconds in stride(from: Int64(50_000), to: 5_000_000, by: 50_000) { metrics.recordHeraldLatency(nanoseconds: nanoseconds) }
    Benchmark("Metrics update and exposition") { benchmark in
        for second in 0..<100 {
            metrics.update(with: observations[second])
            blackHole(metrics.exposition())
        }
    }

    let retuner = Retuner(model: model, configuration: RetuneConfiguration(minFidelity: 0.9, minRateHz: 1e4, maxRateHz: 1e7))
    let measurement = RetuneMeasurement(repetitionRateHz: 468_690, knob: 0.0848, windowSeconds: 10,
                                        singlesRateHz: [6_300, 12_600], backgroundRateHz: [20, 20], coincidenceRateHz: 1_990)
    Benchmark("Re-tuning recommendation (80 rates × 25 knob values)") { benchmark in
        blackHole(try retuner.recommend(from: measurement))
    }
}
