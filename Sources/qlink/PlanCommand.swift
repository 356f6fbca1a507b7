import ArgumentParser
import Foundation
import LinkModel
import Logging
import Planner

/// `qlink plan FILE`: choose a link's repetition rate from physics and cost.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan a link: rate, fidelity, cost per pair, QBER and secret key rate against repetition rate; best point, Pareto front, what to improve first.",
        discussion: """
        FILE is a plan file (see configs/plan-*.yaml and docs/planner.md) or a link configuration with a \
        'model:' section. Without --json or --csv a table is printed; --svg-dir writes rate.svg, \
        fidelity.svg, cost.svg, pareto.svg, key.svg (secret key rate), plob.svg (key per attempt against the \
        repeaterless bound) and useful-cost.svg (cost per pair above the fidelity target), and \
        with a plan.distillation section cutoff.svg (the memory cut-off's rate/fidelity trade-off), with a \
        plan.sequential_repeater section repeater.svg (the single sequential repeater's key per channel use \
        against fidelity as its cut-off varies).
        """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Plan file (YAML).")
    var file: String

    @Flag(name: .long, help: "Print the full report as JSON instead of the table.")
    var json = false

    @Flag(name: .long, help: "Print every operating point as CSV instead of the table.")
    var csv = false

    @Option(name: .customLong("svg-dir"), help: "Write SVG plots into this folder (created if missing).")
    var svgDirectory: String?

    func validate() throws {
        if json && csv {
            throw ValidationError("choose one of --json and --csv")
        }
    }

    func run() throws {
        let logger = global.makeLogger("qlink.plan")
        let configuration: PlanConfiguration
        do {
            configuration = try PlanConfiguration.load(from: file)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        let report = Planner.run(configuration)
        logger.info("plan.done", metadata: [
            "plan.name": "\(report.name)", "plan.points": "\(report.points.count)",
            "plan.optimum_found": "\(report.optimum.best != nil)",
        ])
        if json {
            print(try report.json(), terminator: "")
        } else if csv {
            print(report.csv(), terminator: "")
        } else {
            print(report.table(), terminator: "")
        }
        if let svgDirectory {
            try writePlots(report, to: svgDirectory, logger: logger)
        }
    }

    private func writePlots(_ report: PlanReport, to directory: String, logger: Logger) throws {
        let folder = URL(fileURLWithPath: directory, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, svg) in report.plots().sorted(by: { $0.key < $1.key }) {
                let path = folder.appendingPathComponent(name)
                try Data(svg.utf8).write(to: path, options: .atomic)
                logger.info("plan.plot_written", metadata: ["plan.file": "\(path.path)"])
            }
        } catch {
            printError("\(directory): cannot write the plots (\(error.localizedDescription)); check that the folder is writable")
            throw ExitCode.failure
        }
    }
}
