import Benchmark
import Foundation
import LinkModel
import Planner

/// The NV example plan shipped in `configs/`, found relative to this file.
func examplePlan() -> PlanConfiguration {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let path = root.appendingPathComponent("configs/plan-nv-637nm.yaml").path
    do {
        return try PlanConfiguration.load(from: path)
    } catch {
        fatalError("cannot load the benchmark's plan: \(error)")
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .milliseconds,
        maxDuration: .seconds(10),
        maxIterations: 100
    )
    let configuration = examplePlan()
    let analysis = SensitivityAnalysis(configuration.model)
    // 100 repetition rates × 100 values of α = 10 000 operating points; every evaluation includes the key figures
    // (QBER in Z and X, asymptotic and finite-key BBM92 rates, PLOB bound and ratio: `Performance.key`).
    let grid = SweepGrid(ratesHz: SweepGrid.spaced(from: 100, to: 2e5, count: 100),
                         knobs: SweepGrid.spaced(from: 0.01, to: 0.5, count: 100, logarithmic: false))

    Benchmark("Sweep of 10 000 operating points with sensitivities") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(analysis.sweep(grid))
        }
    }

    // The same sweep with the useful output at every point and every probe: DEJMPS with a memory cut-off,
    // cost and energy per pair above the fidelity target, and BBM92 secret bits (the plan's default).
    var distilling = configuration
    distilling.plan.distillation = DistillationSettings(scheme: .dejmps, cutoffPs: 2_000_000_000,
                                                        storage: Memory(dephasingPerAttempt: 5e-4))
    let useful = UsefulOutputModel(distilling, secretBitsPerPair: Planner.bbm92SecretBitsPerPair(distilling.plan.key))
    let usefulAnalysis = SensitivityAnalysis(distilling.model, useful: useful)

    Benchmark("Sweep of 10 000 operating points with useful output, distillation, cut-off and sensitivities") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(usefulAnalysis.sweep(grid))
        }
    }

    Benchmark("Whole plan of the NV example (1500 points, optimum, Pareto front, sensitivities)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Planner.run(configuration))
        }
    }
}
