import ArgumentParser
import LinkModel

/// `qlink config`: work with link configuration files.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check and summarise link configuration files.",
        subcommands: [Check.self]
    )

    /// `qlink config check FILE…`
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate configuration files and print what they describe.")

        @Argument(help: "Configuration files (YAML).")
        var files: [String]

        func run() throws {
            var failures = 0
            for file in files {
                do {
                    let link = try LinkConfiguration.load(from: file)
                    print("\(file): ok — link '\(link.name)', coordinator '\(link.coordinator.name)' at \(link.coordinator.controlEndpoint)")
                    for lab in link.labs {
                        let channels = lab.detectors.map { "\($0.channel)=\($0.name)" }.joined(separator: " ")
                        print("  lab \(lab.name): node \(lab.node), channels \(channels)")
                    }
                    if let model = link.model {
                        let arms = model.arms.map { "\($0.name) (\($0.stages.count) stages)" }.joined(separator: ", ")
                        print("  model: \(model.protocol.kindName), arms \(arms)")
                    }
                    let resolved = try ResolvedLink(link)
                    if let attempts = resolved.attempts {
                        print("  attempts: \(attempts.rateHz) Hz (period \(attempts.periodPs) ps, from \(attempts.source.rawValue))")
                    }
                    if let windows = resolved.heraldWindows {
                        let second = windows.second.map { ", second round [\($0.startPs), \($0.endPs)) ps" } ?? ""
                        print("  heralds: station channels \(windows.stationChannels.map(String.init).joined(separator: "/")) on lab \(link.labs[windows.stationLab].name), window [\(windows.first.startPs), \(windows.first.endPs)) ps\(second)")
                    }
                    for lab in resolved.labs.prefix(2) {
                        let outcomes = lab.outcomeDetectors.map { "\($0.channel)\($0.outcome == .plus ? "+" : "−")" }.joined(separator: " ")
                        print("  analysis \(lab.name): outcomes \(outcomes.isEmpty ? "none" : outcomes), bases \(Self.describe(lab.bases)) (from \(lab.basesOrigin.rawValue))")
                    }
                    print("  target state: \(resolved.targetState)")
                    if let monitoring = link.monitoring {
                        let server = monitoring.statusEndpoint.map { "status at http://\($0.address):\($0.port)" } ?? "no status server"
                        print("  monitoring: \(server), \(monitoring.windowSeconds) s window, auto-tune \(monitoring.retune.autoTune ? "on" : "off")"
                              + (monitoring.webhook.map { ", webhook \($0.url)" } ?? ""))
                    }
                } catch {
                    failures += 1
                    printError("\(error)")
                }
            }
            if failures > 0 { throw ExitCode.failure }
        }

        private static func describe(_ bases: LabBasisSource?) -> String {
            switch bases {
            case nil: "unknown"
            case .detectors: "by detector"
            case .fixed(let basis): basis
            case .segments(let segments): "\(segments.count) segments"
            case .markers(let map): "markers " + map.keys.sorted().map { "\($0)→\(map[$0] ?? "")" }.joined(separator: " ")
            }
        }
    }
}
