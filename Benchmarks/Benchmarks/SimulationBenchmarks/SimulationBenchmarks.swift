import Benchmark
import Simulation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A busy two-lab SPDC link: 20 MHz pairs, 50 % per arm, realistic detector effects, basis
/// markers and wandering clocks (about 20 M tags per simulated second).
let pairScenario = PairSourceScenario(
    pairRateHz: 20e6, state: .phiPlus, visibility: 0.95,
    labA: PairSourceLab(
        armTransmission: 0.625, fibreDelayPs: 50_000_000,
        detector: DetectorModel(efficiency: 0.8, darkCountRateHz: 1_000, jitterSigmaPs: 50, jitterTailFraction: 0.05,
                                jitterTailMeanPs: 200, deadTimePs: 25_000, afterpulseProbability: 0.005,
                                afterpulseDelayMeanPs: 100_000),
        bases: BasisSchedule(bases: [.z, .x], periodPs: 1_000_000_000),
        clock: ClockModel(offsetPs: 1_000_000, frequencyErrorPpm: 2.5, wanderStepPs: 10, wanderIntervalPs: 10_000_000_000)),
    labB: PairSourceLab(
        armTransmission: 0.625, fibreDelayPs: 80_000_000,
        detector: DetectorModel(efficiency: 0.8, darkCountRateHz: 1_000, jitterSigmaPs: 50, deadTimePs: 25_000,
                                afterpulseProbability: 0.005, afterpulseDelayMeanPs: 100_000),
        bases: BasisSchedule(bases: [.z, .x], periodPs: 1_000_000_000, order: .random),
        clock: ClockModel(offsetPs: -3_000_000, frequencyErrorPpm: -1.5, wanderStepPs: 10, wanderIntervalPs: 10_000_000_000)))

/// A Barrett–Kok link at 10 MHz attempts with lossy arms and noisy gated detectors.
let heraldedScenario = HeraldedLinkScenario(
    attemptRateHz: 10e6, heraldingProtocol: .barrettKok(roundSeparationPs: 40_000), visibility: 0.9,
    nodeA: HeraldedNode(armEfficiency: 0.3, noisePhotonsPerAttempt: 0.01, fibreDelayPs: 20_000_000, readoutDelayPs: 1_000_000,
                        readoutFidelity: 0.97, bases: BasisSchedule(bases: [.z, .x], periodPs: 1_000_000_000)),
    nodeB: HeraldedNode(armEfficiency: 0.3, noisePhotonsPerAttempt: 0.01, fibreDelayPs: 30_000_000, readoutDelayPs: 1_000_000,
                        readoutFidelity: 0.97, bases: BasisSchedule(bases: [.z, .x], periodPs: 1_000_000_000)),
    station: HeraldingStation(detector: DetectorModel(efficiency: 0.9, darkCountRateHz: 100, jitterSigmaPs: 30, deadTimePs: 20_000)))

/// Runs a scenario for `durationPs` and returns the number of tags generated.
func generate(_ scenario: SimulationScenario, durationPs: Int64, seed: UInt64, parallel: Bool = false) -> Int {
    let options = SimulationOptions(durationPs: durationPs, seed: seed, parallelStreams: parallel)
    guard var simulator = try? LinkSimulator(scenario: scenario, options: options) else {
        return 0
    }
    var tags = 0
    while let step = simulator.next() {
        tags += step.tagCount
        blackHole(step)
    }
    return tags
}

let tagRate = BenchmarkMetric.custom("tags per second (M)", polarity: .prefersLarger, useScalingFactor: false)
/// Tags per second of the generating thread's CPU time: on a machine shared with other work it shows
/// what the generator costs, whatever the scheduler did (single-threaded benchmarks only).
let cpuTagRate = BenchmarkMetric.custom("tags per CPU second (M)", polarity: .prefersLarger, useScalingFactor: false)

/// CPU time used by the calling thread, in seconds.
func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, tagRate], timeUnits: .milliseconds, warmupIterations: 1,
        maxDuration: .seconds(30), maxIterations: 5)
    let singleThreadConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, tagRate, cpuTagRate], timeUnits: .milliseconds, warmupIterations: 1,
        maxDuration: .seconds(30), maxIterations: 5)

    Benchmark("pair source, 20 MHz pairs, 0.5 s simulated", configuration: singleThreadConfiguration) { benchmark in
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = threadCPUSeconds()
        let tags = generate(.pairSource(pairScenario), durationPs: 500_000_000_000, seed: UInt64(benchmark.currentIteration))
        let elapsed = clock.now - start
        let cpuSeconds = threadCPUSeconds() - cpuStart
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        benchmark.measurement(tagRate, Int(Double(tags) / seconds / 1e6))
        benchmark.measurement(cpuTagRate, Int(Double(tags) / cpuSeconds / 1e6))
    }

    Benchmark("pair source, 20 MHz pairs, 0.5 s simulated, labs on two threads", configuration: configuration) { benchmark in
        let clock = ContinuousClock()
        let start = clock.now
        let tags = generate(.pairSource(pairScenario), durationPs: 500_000_000_000, seed: UInt64(benchmark.currentIteration),
                            parallel: true)
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        benchmark.measurement(tagRate, Int(Double(tags) / seconds / 1e6))
    }

    Benchmark("pair source, plain detectors, 20 MHz pairs, 0.5 s simulated", configuration: singleThreadConfiguration) { benchmark in
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = threadCPUSeconds()
        let tags = generate(.pairSource(plainPairScenario), durationPs: 500_000_000_000, seed: UInt64(benchmark.currentIteration))
        let elapsed = clock.now - start
        let cpuSeconds = threadCPUSeconds() - cpuStart
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        benchmark.measurement(tagRate, Int(Double(tags) / seconds / 1e6))
        benchmark.measurement(cpuTagRate, Int(Double(tags) / cpuSeconds / 1e6))
    }

    let samplerConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput], timeUnits: .nanoseconds, warmupIterations: 1,
        scalingFactor: .mega, maxDuration: .seconds(10), maxIterations: 20)

    Benchmark("sampler: 10^6 standard normal draws", configuration: samplerConfiguration) { benchmark in
        var sampler = DistributionSampler(seed: 1, stream: 1)
        var sum = 0.0
        for _ in benchmark.scaledIterations { sum += sampler.standardNormal() }
        blackHole(sum)
    }

    Benchmark("sampler: 10^6 exponential draws", configuration: samplerConfiguration) { benchmark in
        var sampler = DistributionSampler(seed: 1, stream: 1)
        var sum = 0.0
        for _ in benchmark.scaledIterations { sum += sampler.standardExponential() }
        blackHole(sum)
    }

    Benchmark("sampler: 10^6 xoshiro256** words", configuration: samplerConfiguration) { benchmark in
        var generator = Xoshiro256StarStar(seed: 1)
        var sum: UInt64 = 0
        for _ in benchmark.scaledIterations { sum &+= generator.next() }
        blackHole(sum)
    }

    Benchmark("Barrett-Kok link, 10 MHz attempts, 2 s simulated", configuration: configuration) { benchmark in
        let clock = ContinuousClock()
        let start = clock.now
        let tags = generate(.heraldedLink(heraldedScenario), durationPs: 2_000_000_000_000, seed: UInt64(benchmark.currentIteration))
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        benchmark.measurement(tagRate, Int(Double(tags) / seconds / 1e6))
    }
}

/// A plain two-lab link: 20 MHz pairs, Gaussian jitter and dead time only, ideal clocks, one
/// basis (the lower bound of the cost per tag).
let plainPairScenario = PairSourceScenario(
    pairRateHz: 20e6, state: .phiPlus, visibility: 0.95,
    labA: PairSourceLab(armTransmission: 0.5, fibreDelayPs: 50_000_000,
                        detector: DetectorModel(jitterSigmaPs: 50, deadTimePs: 25_000)),
    labB: PairSourceLab(armTransmission: 0.5, fibreDelayPs: 80_000_000,
                        detector: DetectorModel(jitterSigmaPs: 50, deadTimePs: 25_000)))
