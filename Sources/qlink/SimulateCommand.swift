import ArgumentParser
import Foundation
import LinkModel
import Logging
import Planner
import Simulation
import TimeTags

/// `qlink simulate --config FILE --seconds N --out DIR`: rehearse a link with simulated tag streams.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a link's tag streams into native .qtag files with a ground-truth record.",
        discussion: """
        The link configuration needs a 'model:' section (the link model) and may have a 'simulation:' \
        section (seed, duration, channels, clocks, bases, faults); see docs/configuration.md and \
        docs/simulator.md. A plan file (configs/plan-*.yaml) works too: its arms become lab A \
        (channels 1, 2) and lab B (channels 3, 4), with default simulation settings. Writes one .qtag file per lab (named after the lab), station.qtag for \
        heralded links, and ground_truth.json into DIR. Progress goes to standard error. With \
        simulation.distillation (a plan file: plan.distillation) a heralded link stores its pairs in the labs' \
        memories, discards them at the cut-off and distils them; the nodes read out the distilled pairs and the \
        run's distillation figures are printed beside the planner's.
        """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Link configuration (YAML) with a model: section.")
    var config: String

    @Option(name: .long, help: "Simulated duration in seconds (default: simulation.duration_s, else 1).")
    var seconds: Double?

    @Option(name: .long, help: "Output folder (created if missing).")
    var out: String

    @Option(name: .long, help: "Seed (default: simulation.seed, else 1).")
    var seed: UInt64?

    @Option(name: .customLong("repetition-rate-hz"),
            help: "Attempt rate in Hz (default: simulation.repetition_rate_hz, else model.clock.repetition_rate_hz).")
    var repetitionRateHz: Double?

    @Flag(name: .long, help: "Pace the output to real time instead of running as fast as possible.")
    var realtime = false

    @Flag(name: .long, help: "Replace existing output files.")
    var overwrite = false

    func validate() throws {
        if let seconds, !(seconds > 0 && seconds <= 86_400) {
            throw ValidationError("--seconds must be between 0 and 86400, found \(seconds)")
        }
        if let rate = repetitionRateHz, !(rate >= 1e-3 && rate <= 1e10) {
            throw ValidationError("--repetition-rate-hz must be between 1e-3 and 1e10, found \(rate)")
        }
    }

    /// The link configuration's simulation, or a plan file's model with default settings.
    private func loadSimulation() throws -> ConfiguredSimulation {
        let durationPs = seconds.map { Int64(($0 * 1e12).rounded()) }
        let text = try ConfigurationError.readFile(config)
        let isLinkConfiguration = text.hasPrefix("labs:") || text.contains("\nlabs:")
        if isLinkConfiguration {
            var configuration = try LinkConfiguration.load(from: config)
            if let repetitionRateHz {
                var settings = configuration.simulation ?? SimulationSettings()
                settings.repetitionRateHz = repetitionRateHz
                configuration.simulation = settings
            }
            return try ConfiguredSimulation(configuration: configuration, durationPs: durationPs, seed: seed)
        }
        let plan = try PlanConfiguration.load(from: config)
        return try ConfiguredSimulation(linkName: plan.name, model: plan.model,
                                        settings: SimulationSettings(repetitionRateHz: repetitionRateHz,
                                                                     distillation: plan.plan.distillation),
                                        durationPs: durationPs, seed: seed)
    }

    func run() async throws {
        let logger = global.makeLogger("qlink.simulate")
        let simulation: ConfiguredSimulation
        do {
            simulation = try loadSimulation()
        } catch let error as ConfigurationError {
            printError("\(error)")
            throw ExitCode.failure
        } catch {
            printError("\(config): \(error)")
            throw ExitCode.failure
        }
        let limitHz = simulation.model.maxRepetitionRateHz
        if simulation.repetitionRateHz > limitHz * (1 + 1e-9) {
            printError("warning: the repetition rate \(Format.hertz(simulation.repetitionRateHz)) is above the link's attempt-rate limit "
                       + "\(Format.hertz(limitHz)) (each attempt waits for its herald; qlink plan shows the limit); the simulation runs "
                       + "at it anyway, as no real link could")
        }
        let folder = URL(fileURLWithPath: out, isDirectory: true)
        var writers: [StreamRole: NativeTagWriter] = [:]
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for stream in simulation.streams {
                let path = folder.appendingPathComponent(stream.name + ".qtag").path
                let header = TagStreamHeader(
                    format: .native, device: "QLink simulator", mode: .t2, resolutionPs: 1, channelNames: stream.channelNames,
                    node: stream.node, clock: "simulated",
                    metadata: ["link": simulation.linkName, "seed": "\(simulation.options.seed)", "stream": stream.role.rawValue])
                writers[stream.role] = try NativeTagWriter(path: path, header: header, overwrite: overwrite)
            }
        } catch {
            printError("\(out): cannot create the output files (\(error)); pass --overwrite to replace existing files")
            throw ExitCode.failure
        }
        logger.info("simulate.start", metadata: [
            "simulate.link": "\(simulation.linkName)", "simulate.seed": "\(simulation.options.seed)",
            "simulate.duration_ps": "\(simulation.options.durationPs)", "simulate.out": "\(folder.path)",
        ])
        let steps: SimulatedSteps
        do {
            steps = try SimulatedSteps(scenario: simulation.scenario, options: simulation.options,
                                       pacing: realtime ? .realTime : .asFastAsPossible)
        } catch {
            printError("\(config): \(error)")
            throw ExitCode.failure
        }
        let progress = Progress(durationPs: simulation.options.durationPs)
        var tags: [StreamRole: Int64] = [:]
        let started = ContinuousClock.now
        var iterator = steps.makeAsyncIterator()
        var completed = false
        while let step = await iterator.next() {
            do {
                for chunk in step.chunks {
                    try writers[chunk.role]?.write(chunk.batch)
                    tags[chunk.role, default: 0] += Int64(chunk.batch.count)
                }
            } catch {
                printError("\(out): cannot write the tag files (\(error)); check the free space and permissions")
                throw ExitCode.failure
            }
            progress.report(endPs: step.endPs, tags: tags.values.reduce(0, +), final: step.isFinal)
            completed = step.isFinal
        }
        guard completed else {
            printError("simulation interrupted; the files hold the part generated so far")
            throw ExitCode.failure
        }
        // The ground truth is complete once the final step has been generated.
        guard let truth = iterator.groundTruth() else {
            printError("the simulator ended without a ground-truth record")
            throw ExitCode.failure
        }
        do {
            for writer in writers.values { try writer.finish() }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(truth).write(to: folder.appendingPathComponent("ground_truth.json"), options: .atomic)
        } catch {
            printError("\(out): cannot finish the output (\(error)); check the free space and permissions")
            throw ExitCode.failure
        }
        let elapsed = started.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        for stream in simulation.streams {
            logger.info("simulate.stream_written", metadata: [
                "simulate.file": "\(folder.appendingPathComponent(stream.name + ".qtag").path)",
                "simulate.tags": "\(tags[stream.role] ?? 0)",
            ])
        }
        if tags.values.reduce(0, +) == 0 {
            // Say why, from the planner's pair rate at this attempt rate: a slow link may simply need longer.
            let planned = LinkProfile(simulation.model).evaluate(OperatingPoint(repetitionRateHz: simulation.repetitionRateHz,
                                                                                knob: simulation.model.protocol.knob))
            let duration = Double(simulation.options.durationPs) * 1e-12
            printError(String(format: "warning: the simulation produced no tags in %.3g s; the planner expects %.3g pairs/s here "
                              + "(%.2g in this run), so simulate longer (--seconds) or check the link's efficiencies",
                              duration, planned.pairRateHz, planned.pairRateHz * duration))
        }
        if let distillation = truth.distillation { print(Self.distillationSummary(distillation, simulation: simulation)) }
        logger.info("simulate.done", metadata: [
            "simulate.tags": "\(tags.values.reduce(0, +))", "simulate.seconds": "\(String(format: "%.2f", seconds))",
        ])
    }

    /// The distillation stage's measured figures beside the planner's closed forms at the simulated rate.
    static func distillationSummary(_ truth: DistillationTruth, simulation: ConfiguredSimulation) -> String {
        let resolved = truth.distillation
        let rate = simulation.repetitionRateHz
        let performance = LinkProfile(simulation.model).evaluate(OperatingPoint(repetitionRateHz: rate, knob: simulation.model.protocol.knob))
        let model = DistillationModel(settings: resolved.settings, memories: resolved.memories, classicalTimePs: Double(resolved.classicalTimePs))
        let planned = model.outcome(pair: BellDiagonalState(performance.deliveredState), successProbability: performance.successProbability,
                                    rateHz: rate)
        let success = truth.successFraction, arrival = truth.arrivalFraction
        func pm(_ value: Double, _ error: Double, _ plan: Double, digits: Int = 4) -> String {
            "\(Format.number(value, digits: digits)) ± \(Format.number(error, digits: 2)) (planner \(Format.number(plan, digits: digits)))"
        }
        let cutoff = resolved.settings.cutoffPs.map { Format.seconds(Double($0) * 1e-12) } ?? "none"
        return ["distillation \(resolved.settings.scheme.rawValue), \(resolved.settings.rounds) round(s), cut-off \(cutoff): "
                + "\(truth.delivered) pairs delivered from \(truth.tries) tries",
                "  success per try      " + pm(success.value, success.standardError, planned.successProbability),
                "  fidelity delivered   " + pm(truth.deliveredFidelity.mean, truth.deliveredFidelity.standardError, planned.fidelity),
                "  time per pair (s)    " + pm(truth.deliveryIntervalsS.mean, truth.deliveryIntervalsS.standardError, planned.meanTimePerPairS),
                "  arrival in cut-off   " + pm(arrival.value, arrival.standardError, model.storageWait(successProbability: performance.successProbability, rateHz: rate).arrivalProbability),
                "  stored fidelity      " + pm(truth.storedFidelity.mean, truth.storedFidelity.standardError, planned.storedFidelity)]
            .joined(separator: "\n")
    }
}

/// Prints the fraction of simulated time done to standard error, at most about twice a second.
private final class Progress {
    private let durationPs: Int64
    private var lastReport = ContinuousClock.now
    private let isTerminal = isatty(STDERR_FILENO) != 0

    init(durationPs: Int64) { self.durationPs = durationPs }

    func report(endPs: Int64, tags: Int64, final: Bool) {
        let now = ContinuousClock.now
        guard final || lastReport.duration(to: now) >= .milliseconds(500) else { return }
        lastReport = now
        let percent = Double(min(endPs, durationPs)) / Double(durationPs) * 100
        let line = String(format: "simulated %.3f s of %.3f s (%.0f %%), %lld tags", Double(endPs) * 1e-12,
                          Double(durationPs) * 1e-12, percent, tags)
        if isTerminal {
            FileHandle.standardError.write(Data(("\r" + line + (final ? "\n" : "")).utf8))
        } else {
            printError(line)
        }
    }
}
