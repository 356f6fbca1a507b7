import ArgumentParser
import Logging

/// The `qlink` command tree.
@main
struct QLinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qlink",
        abstract: "Coordinate entanglement links between quantum-network nodes in two labs.",
        subcommands: [DoctorCommand.self, ConfigCommand.self, TagsCommand.self, PlanCommand.self, SimulateCommand.self,
                      CorrelateCommand.self, CertsCommand.self, NodeCommand.self, CoordinatorCommand.self, DemoCommand.self,
                      StatusCommand.self]
    )
}

/// Options every subcommand accepts.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    /// Bootstraps logging once and returns a logger labelled for `label`.
    func makeLogger(_ label: String) -> Logger {
        LoggingSetup.bootstrap(level: logLevel)
        return Logger(label: label)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
