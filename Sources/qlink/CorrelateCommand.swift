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
        recovered from the data (FFT offset search, then drift tracking) unless the configuration declares a \
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
    @Option(help: "Write an SVG plot of the first pair's histogram as g²(τ) (normalised by the accidentals from singles) with Poisson error bars to this file.") var svg: String?
    @Option(help: "Histogram bin width in picoseconds.") var binPs: Int64 = 50
    @Option(help: "Histogram range ±RANGE in picoseconds.") var rangePs: Int64 = 50_000
    @Option(help: "Clock-tracking block length in picoseconds (each block is a lock test).")
    var blockPs: Int64 = 100_000_000_000
    @Option(help: "Events per chunk read from each file.") var chunkSize: Int = 1 << 16
    @Flag(help: "No progress bar.") var quiet = false
    @Option(help: "Add a Poisson-bootstrap 95 % interval with this many replicates to the raw fidelity and CHSH S (0: none).")
    var bootstrap: Int = 0
    @Flag(help: "Two-qubit state tomography (linear inversion and maximum likelihood, raw and accidental-subtracted, with bootstrap errors); needs Z, X and Y on both labs (or one-detector projections H, V, D, R).")
    var tomography = false
    @Option(help: "Bootstrap replicates for the tomography's standard errors.") var tomographyBootstrap: Int = 200
    @Option(help: "Efficiency of each lab's − detector relative to its + detector, for the tomography: A,B (default: the configured detector efficiencies' ratios, 1,1 without them).")
    var efficiencyRatios: String?
    @Option(help: "Write an SVG of Re ρ and Im ρ (maximum likelihood, raw) to this file (implies --tomography).")
    var tomographySvg: String?

    func validate() throws {
        guard (1...2).contains(files.count) else { throw ValidationError("give one file (both labs) or two files (lab A, lab B)") }
        if let windowPs, windowPs < 0 { throw ValidationError("--window-ps must be zero or more") }
        guard binPs > 0, rangePs > 0, rangePs / binPs <= 1 << 22 else {
            throw ValidationError("--bin-ps and --range-ps must be positive, with at most 4 million bins")
        }
        guard blockPs > 0, chunkSize > 0 else { throw ValidationError("--block-ps and --chunk-size must be positive") }
        if let pairs { _ = try Self.parsePairs(pairs) }
        if let efficiencyRatios { _ = try Self.parseRatios(efficiencyRatios) }
        guard (1...100_000).contains(tomographyBootstrap) else {
            throw ValidationError("--tomography-bootstrap \(tomographyBootstrap) is out of range; use 1 to 100000 replicates")
        }
    }

    /// Parses `0.9,1.05`.
    static func parseRatios(_ text: String) throws -> (Double, Double) {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let a = parts[0], let b = parts[1], a > 0, b > 0, a.isFinite, b.isFinite else {
            throw ValidationError("bad --efficiency-ratios '\(text)': expected two positive numbers A,B, e.g. 0.95,1.02")
        }
        return (a, b)
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
            var summary = try execute(setup, logger: logger)
            if tomography || tomographySvg != nil {
                let results = try CorrelateTomography.run(summary, setup: setup, replicates: tomographyBootstrap,
                                                          efficiencyRatios: try efficiencyRatios.map(Self.parseRatios))
                summary.summary.tomography = results
                if let tomographySvg {
                    // One file per herald state on heralded links: NAME-psiPlus.svg, NAME-psiMinus.svg.
                    for result in results {
                        let path = result.heraldedState.map { state in
                            let url = URL(fileURLWithPath: tomographySvg)
                            let ext = url.pathExtension.isEmpty ? "svg" : url.pathExtension
                            return url.deletingPathExtension().path + "-\(state.rawValue).\(ext)"
                        } ?? tomographySvg
                        try write(LinkAnalysisFormat.tomographySVG(result), to: path)
                    }
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(summary.summary), as: UTF8.self))
            } else if csv {
                print(LinkAnalysisFormat.csv(summary.summary), terminator: "")
            } else {
                print(LinkAnalysisFormat.text(summary.summary))
            }
            if let histogramCsv {
                let text = summary.histograms.map { "# pair \(setup.display($0.pair))\n" + HistogramExport.csv($0) }.joined(separator: "\n")
                try write(text, to: histogramCsv)
            }
            if let svg, let first = summary.histograms.first {
                // g²(τ) normalised by the accidentals the singles predict for one bin (the first pair's).
                let level = summary.summary.pairs.first.flatMap { HistogramExport.accidentalsPerBin($0, binWidthPs: first.binWidthPs) }
                try write(HistogramExport.svg(first, accidentalsPerBin: level, title: "Correlation \(setup.display(first.pair))",
                                              pairName: setup.display(first.pair)), to: svg)
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
        } catch let error as CommandFailure {
            printError("error: \(error)")
            throw ExitCode.failure
        }
    }

    private func write(_ text: String, to path: String) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CommandFailure("cannot write \(path): \(error.localizedDescription)")
        }
    }

    private func openAll() throws -> [any TagReader] {
        var options = TagFiles.ReadOptions()
        options.chunkSize = chunkSize
        options.quTAGTimeBasePs = input.qutagTimeBasePs
        options.resortWindowPs = input.resortWindowPs
        return try files.map { try TagFiles.openReader(path: $0, format: input.format, options: options) }
    }

    private func execute(_ setup: CorrelationSetup, logger: Logger) throws -> CorrelationOutcome {
        for file in files where !FileManager.default.fileExists(atPath: file) {
            throw CommandFailure("file not found: \(file)")
        }
        let totalBytes = try openAll().compactMap(\.totalBytes).reduce(0, +)
        let progress = quiet || totalBytes < 32 << 20 ? nil : ProgressBar(enabled: true)
        defer { progress?.finish() }
        var clock = LinkClockReference.shared(offsetPs: 0)
        if files.count == 2 {
            switch setup.clock {
            case .shared(let offsetPs):
                clock = .shared(offsetPs: offsetPs)
            case .independent(let maxOffsetPs):
                var settings = ClockRecoverySettings()
                settings.maxOffsetPs = maxOffsetPs
                settings.blockPs = blockPs
                settings.maxMeasurementSpanPs = max(settings.maxMeasurementSpanPs, blockPs)
                clock = .independent(settings)
            }
        }
        var readers = try openAll()
        return try CorrelateRun.run(setup.engineConfiguration(rangePs: rangePs, binPs: binPs, clock: clock), readers: &readers,
                                    files: files, progress: progress, logger: logger)
    }
}
