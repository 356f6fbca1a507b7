import Correlation
import Foundation
import Logging
import TimeTags
import LinkModel

/// Internal channel numbers of lab B's file when two files are correlated (the engine's numbering).
let bChannelOffset: TagChannel = LinkAnalysisConfiguration.labBChannelOffset

/// The snapshot and the histograms of a run.
struct CorrelationOutcome {
    var summary: LinkAnalysisSnapshot
    var histograms: [CorrelationHistogram]
    /// Counts per basis setting (with accidentals), for the tomography.
    var settings: [SettingCounts] = []
    /// Heralded links: counts per basis setting of each herald state.
    var heraldedSettings: [(state: BellState, settings: [SettingCounts])] = []
}

extension CorrelationSetup {
    /// The engine's configuration for this setup (clock: shared, or given by `clock`).
    func engineConfiguration(rangePs: Int64, binPs: Int64, clock: LinkClockReference) -> LinkAnalysisConfiguration {
        var configuration = LinkAnalysisConfiguration(twoLabs: twoFiles, pairs: pairs, windowHalfWidthPs: windowPs)
        configuration.roles = roles
        configuration.sourceA = sourceA
        configuration.sourceB = sourceB
        configuration.delaysPs = delaysPs
        configuration.target = target
        configuration.chsh = chsh
        if !heraldPatterns.isEmpty, let windowA = heraldWindowA, let windowB = heraldWindowB {
            configuration.heralds = LinkHeraldSettings(patterns: heraldPatterns, windowA: windowA, windowB: windowB)
        }
        configuration.clock = clock
        configuration.histogramRangePs = rangePs
        configuration.histogramBinPs = binPs
        configuration.bootstrapReplicates = bootstrapReplicates
        configuration.labNames = [labNames.0, labNames.1]
        return configuration
    }
}

/// `qlink correlate`'s run: the files' readers feed ``LinkAnalysis`` chunk by chunk (the lab that is behind on
/// lab A's axis is read next, so the engine holds about one chunk per file), then the snapshot is checked.
enum CorrelateRun {
    static func run(_ configuration: LinkAnalysisConfiguration, readers: inout [any TagReader], files: [String],
                    progress: ProgressBar?, logger: Logger) throws -> CorrelationOutcome {
        var engine = try LinkAnalysis(configuration: configuration)
        let totalBytes = readers.compactMap(\.totalBytes).reduce(0, +)
        var failure: CorrelationError?
        do {
            try engine.addInTimeOrder(next: { lab in try readers[lab].next() }) { engine in
                log(engine.takeClockEvents(), logger)
                progress?.update(readers.map(\.bytesConsumed).reduce(0, +), totalBytes > 0 ? totalBytes : nil)
            }
        } catch let error as CorrelationError {
            failure = error
        }
        if let failure {
            guard failure.kind == .noPeakFound, files.count == 2 else { throw failure }
            throw CommandFailure("no clock lock between \(files[0]) (lab A) and \(files[1]) (lab B): \(failure.message) — \(failure.hint)")
        }
        log(engine.takeClockEvents(), logger)
        let snapshot = engine.snapshot()
        guard snapshot.durationPs > 0 else {
            throw CommandFailure("the files hold fewer than two events on a common time axis")
        }
        for single in snapshot.singles where single.counts == 0 {
            throw CommandFailure("channel \(single.channel)\(single.lab.map { " (\($0))" } ?? "") has no events in the file; check --pairs and the file's channels (qlink tags info FILE)")
        }
        logger.debug("correlate.done", metadata: ["correlate.duration_ps": "\(snapshot.durationPs)", "correlate.pairs": "\(configuration.pairs.count)"])
        return CorrelationOutcome(summary: snapshot, histograms: engine.histograms, settings: engine.settingCounts(),
                                  heraldedSettings: engine.heraldedSettingCounts())
    }

    /// Logs clock events: lock acquired (info), lost and re-acquired (warnings).
    static func log(_ events: [ClockEvent], _ logger: Logger) {
        for event in events { logger.log(level: event.isWarning ? .warning : .info, "correlate.clock", metadata: ["correlate.event": "\(event.text)"]) }
    }
}

/// `qlink correlate --tomography`: the two-qubit state of all coincidences, or of each herald state.
enum CorrelateTomography {
    /// The tomography of `outcome`'s counts, detectors resolved from the setup's roles (their configured
    /// efficiencies; ``TomographyDetectors/init(roles:)``), the efficiency ratios overridden by `efficiencyRatios`
    /// when given. Fails when no settings were counted, or when a set of counts does not determine the state (the
    /// error says which settings were seen and which are needed).
    static func run(_ outcome: CorrelationOutcome, setup: CorrelationSetup, replicates: Int,
                    efficiencyRatios: (Double, Double)?) throws -> [LinkTomography] {
        // Given ratios replace the configured efficiencies.
        let roles = efficiencyRatios == nil ? setup.roles : setup.roles.map { role in
            var role = role
            role.efficiency = 1
            return role
        }
        var detectors = try TomographyDetectors(roles: roles)
        if let efficiencyRatios, detectors.perQubit == 2 {
            (detectors.efficiencyRatioA, detectors.efficiencyRatioB) = efficiencyRatios
        }
        let sets = LinkTomography.countSets(settings: outcome.settings, heralded: outcome.heraldedSettings, target: setup.target)
        if outcome.heraldedSettings.isEmpty, sets.isEmpty {
            throw CommandFailure("tomography: no coincidences were counted per basis setting; give a configuration whose labs' bases are known (detector names H/V/D/A/R/L, correlation.bases markers or segments)")
        }
        guard !sets.isEmpty else {
            throw CommandFailure("tomography: no heralded outcomes were counted in any basis setting")
        }
        return try sets.map { set in try LinkTomography.reconstruct(set, detectors: detectors, bootstrapReplicates: replicates) }
    }
}
