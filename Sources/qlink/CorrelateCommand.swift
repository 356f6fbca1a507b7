import ArgumentParser
import Correlation
import Foundation
import LinkModel
import Logging
import TimeTags

/// `qlink correlate`: coincidences, clock recovery and Bell-state estimators from one or two tag files.
struct CorrelateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "correlate",
        abstract: "Correlate two labs' tag files (or one file holding both): coincidences, delays, clock offset and drift, CAR, visibility, fidelity and CHSH S.",
        discussion: """
        With two files, channel pairs name a channel of file A then a channel of file B; lab B's clock is \
        recovered from the data (offset and frequency search, then tracking with a lock test per block; exits \
        non-zero when it never locks) unless the configuration declares a \
        shared reference. With one file, both channels of each pair are in that file. Files are streamed \
        chunk by chunk; memory does not grow with their length.
        """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var input: TagInputOptions
    @Argument(help: "Lab A's tag file, and lab B's (omit when one file holds both labs' channels).") var files: [String]
    @Option(help: "Link configuration (detectors, delays, bases, heralds, clock reference).") var config: String?
    @Option(help: "Coincidence window half-width in picoseconds (default: configuration, else 500).") var windowPs: Int64?
    @Option(help: "Channel pairs, e.g. 1:3,2:4 (A channel:B channel). Default: every lab A × lab B outcome detector of the configuration.")
    var pairs: String?
    @Flag(help: "Print the summary as JSON.") var json = false
    @Flag(help: "Print the results as CSV (section,name,value,standard_error,count_basis).") var csv = false
    @Option(help: "Write the pairs' cross-correlation histograms as CSV to this file.") var histogramCsv: String?
    @Option(help: "Write an SVG plot of the first pair's histogram to this file.") var svg: String?
    @Option(help: "Histogram bin width in picoseconds.") var binPs: Int64 = 50
    @Option(help: "Histogram range ±RANGE in picoseconds.") var rangePs: Int64 = 50_000
    @Option(help: "Clock-tracking block length in picoseconds (blocks grow when they hold too few pairs).")
    var blockPs: Int64 = 100_000_000_000
    @Option(help: "Events per chunk read from each file.") var chunkSize: Int = 1 << 16
    @Flag(help: "No progress bar.") var quiet = false
    @Option(help: "Add a Poisson-bootstrap 95 % interval with this many replicates to the raw fidelity and CHSH S (0: none).")
    var bootstrap: Int = 0

    func validate() throws {
        guard (1...2).contains(files.count) else { throw ValidationError("give one file (both labs) or two files (lab A, lab B)") }
        if let windowPs, windowPs < 0 { throw ValidationError("--window-ps must be zero or more") }
        guard binPs > 0, rangePs > 0, rangePs / binPs <= 1 << 22 else {
            throw ValidationError("--bin-ps and --range-ps must be positive, with at most 4 million bins")
        }
        guard blockPs > 0, chunkSize > 0 else { throw ValidationError("--block-ps and --chunk-size must be positive") }
        if let pairs { _ = try Self.parsePairs(pairs) }
    }

    /// Parses `1:3,2:4`.
    static func parsePairs(_ text: String) throws -> [(TagChannel, TagChannel)] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        return try items.map { item in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let a = TagChannel(parts[0]), let b = TagChannel(parts[1]) else {
                throw ValidationError("bad pair '\(item)' in --pairs '\(text)': expected CHANNEL:CHANNEL, e.g. --pairs 1:3,2:4")
            }
            return (a, b)
        }
    }

    func run() throws {
        let logger = global.makeLogger("qlink.correlate")
        do {
            let configuration = try config.map { path throws(ConfigurationError) in try LinkConfiguration.load(from: path) }
            guard (0...1_000_000).contains(bootstrap) else {
                throw ValidationError("--bootstrap \(bootstrap) is out of range; use 0 (none) to 1000000 replicates")
            }
            var setup = try CorrelationSetup(configuration: configuration, twoFiles: files.count == 2,
                                             pairsText: pairs, windowPs: windowPs)
            setup.bootstrapReplicates = bootstrap
            let (summary, clockNotes) = try execute(setup, logger: logger)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(summary.summary), as: UTF8.self))
            } else if csv {
                print(CorrelateCSV.text(summary.summary), terminator: "")
            } else {
                print(summary.summary.text())
                for line in clockNotes { print(line) }
            }
            if let histogramCsv {
                let text = summary.histograms.map { "# pair \(setup.display($0.pair))\n" + HistogramExport.csv($0) }.joined(separator: "\n")
                try write(text, to: histogramCsv)
            }
            if let svg, let first = summary.histograms.first {
                try write(HistogramExport.svg(first, title: "Correlation \(setup.display(first.pair))"), to: svg)
            }
        } catch let error as TagFileError {
            printError("error: \(error)")
            throw ExitCode.failure
        } catch let error as ConfigurationError {
            printError("error: \(error)")
            throw ExitCode.failure
        } catch let error as CorrelationError {
            printError("error: \(error)")
            throw ExitCode.failure
        } catch let error as CorrelateFailure {
            printError("error: \(error)")
            throw ExitCode.failure
        }
    }

    private func write(_ text: String, to path: String) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CorrelateFailure("cannot write \(path): \(error.localizedDescription)")
        }
    }

    private func openAll() throws -> [any TagReader] {
        var options = TagFiles.ReadOptions()
        options.chunkSize = chunkSize
        options.quTAGTimeBasePs = input.qutagTimeBasePs
        options.resortWindowPs = input.resortWindowPs
        return try files.map { try TagFiles.openReader(path: $0, format: input.format, options: options) }
    }

    /// The clock estimate as one line: value ± standard error and the lab A time it refers to.
    static func clockLine(_ estimate: ClockEstimate) -> String {
        String(format: "Clock at lab A time %.6f s (latest measurement): offset %.1f ± %.1f ps, drift %.5f ± %.5f ppm",
               Double(estimate.atPs) / 1e12, estimate.offsetPs.value, estimate.offsetPs.standardError,
               estimate.driftPpm.value, estimate.driftPpm.standardError)
    }

    /// Runs the pipeline; returns the outcome and the clock lines printed after the text summary.
    private func execute(_ setup: CorrelationSetup, logger: Logger) throws -> (outcome: CorrelationOutcome, clockNotes: [String]) {
        for file in files where !FileManager.default.fileExists(atPath: file) {
            throw CorrelateFailure("file not found: \(file)")
        }
        let totalBytes = try openAll().compactMap(\.totalBytes).reduce(0, +)
        let progress = quiet || totalBytes < 32 << 20 ? nil : ProgressBar(enabled: true)
        defer { progress?.finish() }
        var mapTime: @Sendable (Int64) -> Int64 = { $0 }
        var clock = ClockOutcome()
        var clockNotes: [String] = []
        if files.count == 2 {
            switch setup.clock {
            case .shared(let offsetPs):
                clock.shared = true
                clock.offsetPs = Double(offsetPs)
                mapTime = { $0 &- offsetPs }
            case .independent(let maxOffsetPs):
                let started = ContinuousClock.now
                let recovered = try recoverClock(open: openAll, files: files, channelsA: setup.trackingChannelsA, channelsB: setup.trackingChannelsB,
                                                 delaysA: setup.rawDelays(.a), delaysB: setup.rawDelays(.b), maxOffsetPs: maxOffsetPs,
                                                 blockPs: blockPs, progress: progress)
                let recovery = recovered.recovery
                logger.info("correlate.clock_pass", metadata: ["correlate.seconds": "\(started.duration(to: .now))"])
                let track = recovery.track
                if let estimate = recovery.estimate {
                    clock.offsetPs = estimate.offsetPs.value
                    clock.driftPpm = estimate.driftPpm.value
                    clock.jitterPs = estimate.residualRmsPs
                    clock.samples = track.samples.count
                    clockNotes.append(Self.clockLine(estimate))
                    logger.info("correlate.clock", metadata: ["correlate.offset_ps": "\(estimate.offsetPs)", "correlate.drift_ppm": "\(estimate.driftPpm)",
                                                              "correlate.at_ps": "\(estimate.atPs)"])
                }
                for event in recovered.events {
                    switch event {
                    case .acquired(let atPs, let offsetPs, let driftPpm, let significance):
                        logger.info("correlate.clock_acquired", metadata: ["correlate.at_ps": "\(atPs)", "correlate.offset_ps": "\(offsetPs)",
                                                                           "correlate.drift_ppm": "\(driftPpm)", "correlate.significance": "\(significance)"])
                    case .lost(let atPs, let reason):
                        logger.warning("correlate.clock_lost", metadata: ["correlate.at_ps": "\(atPs)", "correlate.reason": "\(reason)"])
                        clockNotes.append("Warning: clock lock lost at lab A time \(Double(atPs) / 1e12) s (\(reason)); events until re-acquisition are mapped by the nearest lock")
                    case .reacquired(let atPs, let offsetPs, _, let stepPs):
                        logger.warning("correlate.clock_reacquired", metadata: ["correlate.at_ps": "\(atPs)", "correlate.offset_ps": "\(offsetPs)",
                                                                                "correlate.step_ps": "\(stepPs)"])
                        clockNotes.append("Clock lock re-acquired at lab A time \(Double(atPs) / 1e12) s (offset step \(Int(stepPs.rounded())) ps)")
                    }
                }
                if case .lost(let sincePs) = recovery.state {
                    clockNotes.append("Warning: clock lock lost at lab A time \(Double(sincePs) / 1e12) s and not re-acquired before the end")
                }
                // t_B = t_A + offset(t_A): solve for t_A by two fixed-point steps (between locks, the nearest lock's track).
                let offset: @Sendable (Int64) -> Double = { t in recovery.offsetPs(atAPs: t) ?? track.offsetPs(at: t) }
                mapTime = { t in
                    let first = Double(t) - offset(t)
                    return Int64((Double(t) - offset(Int64(first))).rounded())
                }
            }
        }
        var readers = try openAll()
        var chains = try setup.chains(fileCount: files.count, mapTime: mapTime)
        var engine = try CorrelationEngine(setup: setup, rangePs: rangePs, binPs: binPs)
        let maxHeld = try streamMerged(readers: &readers, chains: &chains, progress: progress) { batch in try engine.process(batch) }
        logger.debug("correlate.streamed", metadata: ["correlate.max_merger_events": "\(maxHeld)"])
        return (try engine.finish(clock: clock, logger: logger), clockNotes)
    }
}
