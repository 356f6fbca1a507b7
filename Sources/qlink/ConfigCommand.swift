import ArgumentParser
import Foundation
import LinkModel
import Planner

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

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Configuration files (YAML).")
        var files: [String]

        func run() throws {
            _ = global.makeLogger("qlink.config")
            var failures = 0
            for file in files {
                let link: LinkConfiguration
                do {
                    link = try LinkConfiguration.load(from: file)
                } catch {
                    // A planner-only file (model: and plan:, no labs or services) is checked as `qlink plan` reads it.
                    if let plan = try? PlanConfiguration.load(from: file) {
                        print("\(file): ok — plan '\(plan.name)' (planner only: a model and a sweep, no labs or services; run it with qlink plan \(file))")
                        continue
                    }
                    failures += 1
                    printError("\(error)")
                    continue
                }
                do {
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
                    for warning in Self.missingFiles(link) { printError("warning: \(warning)") }
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

        /// The certificates, keys and CRL the configuration names that do not exist (yet): the services cannot start
        /// without them, so `config check` says so, though the configuration itself is valid.
        static func missingFiles(_ link: LinkConfiguration) -> [String] {
            var files = [("lab CA certificate", link.security.caCertificate)] + (link.security.crl.map { [("CRL", $0)] } ?? [])
            files.append(("\(link.coordinator.name) certificate", link.coordinator.certificate))
            for lab in link.labs { files.append(("\(lab.node) certificate", lab.certificate)) }
            return files.filter { !FileManager.default.fileExists(atPath: $0.1) }
                .map { "\($0.0) \($0.1) does not exist (create the lab PKI with qlink certs init and qlink certs issue; README, \"The lab PKI\")" }
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
