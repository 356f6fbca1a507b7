import ArgumentParser
import Logging

/// The `qlink` command tree.
@main
struct QLinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qlink",
        abstract: "Coordinate entanglement links between quantum-network nodes in two labs.",
        version: QLinkCommand.version,
        subcommands: [DoctorCommand.self, ConfigCommand.self, TagsCommand.self, PlanCommand.self, SimulateCommand.self,
                      CorrelateCommand.self, CertsCommand.self, NodeCommand.self, CoordinatorCommand.self, DemoCommand.self,
                      StatusCommand.self]
    )

    /// The version `qlink --version` prints.
    static let version = "qlink 0.1.0 (QLink, Swift package)"

    /// Runs the command line with standard output line-buffered, so `qlink demo | tee` or a service under systemd
    /// shows each line as it is printed (a pipe would otherwise hold output for kilobytes).
    static func main() async {
        lineBufferStandardOutput()
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
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
