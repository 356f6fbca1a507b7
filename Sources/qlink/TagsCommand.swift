import ArgumentParser
import Foundation
import Logging
import TimeTags

/// `qlink tags`: inspect and convert time-tag files.
struct TagsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tags",
        abstract: "Inspect and convert time-tag files (PicoQuant PTU, Swabian dump, quTAG, CSV, QLink .qtag).",
        subcommands: [TagsInfoCommand.self, TagsConvertCommand.self, TagsHeadCommand.self]
    )
}

extension TagFileFormat: ExpressibleByArgument {}

/// Options shared by the commands that read tag files.
struct TagInputOptions: ParsableArguments {
    @Option(name: .customLong("format"), help: "Input format (ptu, native, csv, swabian, qutag); detected when omitted.")
    var format: TagFileFormat?

    @Option(help: "quTAG time base in picoseconds.")
    var qutagTimeBasePs: Int64 = 1

    @Option(help: "Re-sort window in picoseconds for globally unsorted streams (0: off).")
    var resortWindowPs: Int64 = 0

    func open(_ path: String) throws -> any TagReader {
        var options = TagFiles.ReadOptions()
        options.quTAGTimeBasePs = qutagTimeBasePs
        options.resortWindowPs = resortWindowPs
        return try TagFiles.openReader(path: path, format: format, options: options)
    }
}

/// Runs `body`, turning tag-file errors into a clean message and exit code 1.
func reportingTagErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as TagFileError {
        printError("error: \(error)")
        throw ExitCode.failure
    }
}

struct TagsInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Format, device, mode, resolution, duration, counts and rates per channel, markers, gaps, sortedness."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var input: TagInputOptions
    @Argument(help: "Tag files to describe.") var files: [String]

    func run() throws {
        let logger = global.makeLogger("qlink.tags")
        var failed = false
        for (index, path) in files.enumerated() {
            if index > 0 { print("") }
            do {
                try describe(path, logger: logger)
            } catch let error as TagFileError {
                printError("error: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }

    private func describe(_ path: String, logger: Logger) throws {
        var reader = try input.open(path)
        let header = reader.header
        var statistics = TagStatistics()
        var damage: TagFileError? = nil
        do {
            while let batch = try reader.next() { statistics.add(batch) }
        } catch let error as TagFileError {
            damage = error
        }
        print("\(path)")
        print("  format:      \(header.format.rawValue)" + (header.sourceFormat.map { " (converted from \($0.rawValue))" } ?? ""))
        if !header.device.isEmpty { print("  device:      \(header.device)") }
        print("  mode:        \(header.mode.rawValue)")
        print("  resolution:  \(formatNumber(header.resolutionPs)) ps" + (header.syncPeriodPs.map { ", sync period \(formatNumber($0)) ps" } ?? ""))
        if let node = header.node { print("  node:        \(node)") }
        if let clock = header.clock { print("  clock:       \(clock)") }
        if let count = header.recordCount { print("  records:     \(count)") }
        // Rates are over the recording's duration when the file states it (the time the instrument ran, which
        // includes quiet stretches before the first and after the last tag), else over the tags' span.
        let recording = header.recordingDurationPs
        if let recording {
            print("  duration:    \(formatDuration(recording)) (recording, from the file header); tags span \(formatDuration(statistics.durationPs))" +
                  (statistics.minTimePs.map { "  (\($0) ps to \(statistics.maxTimePs ?? $0) ps)" } ?? ""))
        } else {
            print("  duration:    \(formatDuration(statistics.durationPs)) (first to last photon; the file does not state its recording time)" +
                  (statistics.minTimePs.map { "  (\($0) ps to \(statistics.maxTimePs ?? $0) ps)" } ?? ""))
        }
        print("  photons:     \(statistics.photonCount)")
        for channel in statistics.photonsByChannel.keys.sorted() {
            let name = header.channelNames[channel].map { " \($0)" } ?? ""
            print("    channel \(channel)\(name): \(statistics.photonsByChannel[channel] ?? 0) (\(formatRate(statistics.rateHz(channel: channel, overPs: recording))))")
        }
        print("  markers:     \(statistics.markerCount)" + (statistics.markersByNumber.isEmpty ? "" : "  " +
              statistics.markersByNumber.keys.sorted().map { "#\($0): \(statistics.markersByNumber[$0] ?? 0)" }.joined(separator: ", ")))
        print("  gaps:        \(statistics.gapCount)" + (statistics.lostEvents > 0 ? " (\(statistics.lostEvents) events reported lost)" : ""))
        print("  sorted:      " + (statistics.isSorted ? "yes" :
              "no (\(statistics.outOfOrderPhotons) photons out of order, largest step back \(statistics.largestBackwardStepPs) ps)"))
        let stored = (reader as? TimeOrderedReader)?.base ?? reader
        if let resorter = stored as? ResortingReader {
            print("  re-sorted:   \(resorter.reorderedEvents) events reordered, \(resorter.lateEvents) beyond the window")
        }
        if let native = stored as? NativeTagReader, case .torn(let offset, let bytes) = native.tailStatus {
            print("  tail:        torn at byte \(offset) (\(bytes) bytes of an incomplete chunk ignored)")
            logger.warning("tags.torn_tail", metadata: ["tags.file": "\(path)", "tags.offset": "\(offset)"])
        }
        if let damage {
            print("  damaged:     \(damage)")
            throw damage
        }
    }
}

struct TagsConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert any readable tag file to QLink's native format (.qtag) or CSV (.csv)."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var input: TagInputOptions
    @Argument(help: "Input file.") var inputPath: String
    @Argument(help: "Output file (.csv or .txt: CSV; anything else: native).") var outputPath: String
    @Option(name: .customLong("to"), help: "Output format (native or csv); from the extension when omitted.")
    var outputFormat: TagFileFormat?
    @Option(help: "Node name stored in a native header.") var node: String?
    @Option(help: "Clock description stored in a native header.") var clock: String?
    @Flag(help: "Replace the output file if it exists.") var force = false
    @Flag(help: "No progress bar.") var quiet = false

    func run() throws {
        let logger = global.makeLogger("qlink.tags")
        try reportingTagErrors {
            let target = try StagedOutput(path: outputPath, overwrite: force)
            let format = outputFormat ?? TagFiles.outputFormat(path: outputPath)
            let bar = ProgressBar(enabled: !quiet)
            let started = Date()
            let statistics: TagStatistics
            do {
                var reader = try input.open(inputPath)
                var header = reader.header
                if let node { header.node = node }
                if let clock { header.clock = clock }
                if header.format != .native { header.sourceFormat = header.format }
                var sink = try TagFiles.openWriter(path: target.stagingPath, format: format, header: header)
                statistics = try TagFiles.convert(from: &reader, to: &sink) { consumed, total in bar.update(consumed, total) }
                try target.publish()
            } catch {
                bar.finish()
                target.discard()
                guard var failure = error as? TagFileError else { throw error }
                failure.hint = (failure.hint.map { $0 + "; " } ?? "") + "nothing was written to \(outputPath)"
                throw failure
            }
            bar.finish()
            let seconds = Date().timeIntervalSince(started)
            logger.info("tags.converted", metadata: [
                "tags.input": "\(inputPath)", "tags.output": "\(outputPath)", "tags.photons": "\(statistics.photonCount)",
                "tags.seconds": "\(String(format: "%.2f", seconds))",
            ])
            print("\(statistics.photonCount) photons, \(statistics.markerCount) markers, \(statistics.gapCount) gaps written to \(outputPath) (\(format.rawValue)) in \(String(format: "%.1f", seconds)) s")
        }
    }
}

struct TagsHeadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "head", abstract: "Print the first N events of a tag file.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var input: TagInputOptions
    @Argument(help: "Tag file.") var file: String
    @Option(name: .customShort("n"), help: "Number of photons to print.") var count: Int = 10

    func run() throws {
        _ = global.makeLogger("qlink.tags")
        try reportingTagErrors {
            var reader = try input.open(file)
            var printed = 0
            print("channel,time_ps")
            while printed < count, let batch = try reader.next() {
                var events: [(Int64, String)] = []
                for index in 0..<min(batch.count, count - printed) {
                    events.append((batch.timesPs[index], "\(batch.channels[index]),\(batch.timesPs[index])"))
                }
                let horizon = events.last?.0 ?? Int64.max
                for marker in batch.markers where marker.timePs <= horizon { events.append((marker.timePs, "M\(marker.marker),\(marker.timePs)")) }
                for gap in batch.gaps where gap.startPs <= horizon {
                    events.append((gap.startPs, "G,\(gap.startPs),\(gap.endPs),\(gap.lostEvents.map(String.init) ?? ""),\(gap.channel.map(String.init) ?? "")"))
                }
                for event in events.sorted(by: { $0.0 < $1.0 }) { print(event.1) }
                printed += min(batch.count, count - printed)
            }
        }
    }
}

/// An output file written under a temporary name in its target directory and renamed into place
/// only when complete, so a failed conversion leaves nothing at the output path.
struct StagedOutput {
    /// The final path.
    let path: String
    /// Where the data is written until ``publish()``.
    let stagingPath: String
    private let overwrite: Bool

    /// Refuses an existing `path` unless `overwrite`; picks a staging name beside it.
    init(path: String, overwrite: Bool) throws {
        if !overwrite && FileManager.default.fileExists(atPath: path) {
            throw TagFileError(.cannotOpen, file: path, problem: "the output file already exists", hint: "pass --force to replace it")
        }
        let url = URL(fileURLWithPath: path)
        self.path = path
        self.overwrite = overwrite
        stagingPath = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    }

    /// Renames the staged file to the final path and makes the rename durable.
    func publish() throws {
        if !overwrite && FileManager.default.fileExists(atPath: path) {
            throw TagFileError(.cannotOpen, file: path, problem: "the output file appeared while converting", hint: "pass --force to replace it")
        }
        guard rename(stagingPath, path) == 0 else {
            throw TagFileError(.ioFailure, file: path, problem: "cannot rename \(stagingPath) into place: \(String(cString: strerror(errno)))")
        }
        let directory = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    /// Removes the staged file (after a failure).
    func discard() {
        _ = unlink(stagingPath)
    }
}

/// A one-line progress bar on standard error, drawn only on a terminal.
final class ProgressBar {
    private let enabled: Bool
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled && isatty(2) != 0 }

    func update(_ consumed: Int64, _ total: Int64?) {
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = Date()
        drawn = true
        if let total, total > 0 {
            let fraction = min(1, Double(consumed) / Double(total))
            let filled = Int(fraction * 30)
            let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: 30 - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(String(format: "%5.1f", fraction * 100))% \(consumed >> 20) MiB".utf8))
        } else {
            FileHandle.standardError.write(Data("\r\(consumed >> 20) MiB".utf8))
        }
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

private func formatNumber(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.10g", value)
}

private func formatDuration(_ ps: Int64) -> String {
    let seconds = Double(ps) * 1e-12
    if seconds >= 1 { return String(format: "%.3f s", seconds) }
    if seconds >= 1e-3 { return String(format: "%.3f ms", seconds * 1e3) }
    return String(format: "%.3f µs", seconds * 1e6)
}

private func formatRate(_ hz: Double) -> String {
    if hz >= 1e6 { return String(format: "%.3f MHz", hz / 1e6) }
    if hz >= 1e3 { return String(format: "%.3f kHz", hz / 1e3) }
    return String(format: "%.1f Hz", hz)
}
