import ArgumentParser
import Foundation
import LinkModel
import Monitoring

/// `qlink status`: show a running coordinator's or node's status in the terminal.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the live status of a running link: rates, coincidences, fidelity, clock, heralds, rate schedule, alerts.",
        discussion: """
        Reads GET /status from the coordinator's (or a node's) status server. The address comes from --url, \
        or from monitoring.status_endpoint of --config, or defaults to http://127.0.0.1:9460. The rate line shows \
        the repetition rate in force and the link time since when, a proposed change not yet agreed by both labs, \
        and on a node why its source is held.
        """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Status server address: http://HOST:PORT (or HOST:PORT).")
    var url: String?

    @Option(help: "Link configuration whose monitoring.status_endpoint to read.")
    var config: String?

    @Flag(help: "Refresh until interrupted.")
    var watch = false

    @Option(help: "Seconds between refreshes with --watch.")
    var interval: Double = 1

    @Flag(help: "Print the raw JSON status instead of the summary.")
    var json = false

    @Option(help: "Seconds to wait for the status server's answer.")
    var timeout: Double = 5

    func validate() throws {
        guard interval >= 0.1, interval <= 3600 else { throw ValidationError("--interval must be between 0.1 and 3600 seconds") }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
        if url != nil && config != nil { throw ValidationError("give either --url or --config, not both") }
    }

    func run() async throws {
        _ = global.makeLogger("qlink.status")
        let client: StatusClient
        do {
            client = try StatusClient(base: try address(), timeoutSeconds: timeout)
        } catch let error as MonitoringError {
            printError("\(error)")
            throw ExitCode.failure
        }
        repeat {
            do {
                let status = try await client.fetch()
                if watch { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                if json {
                    let data = try StatusCoding.encoder().encode(status)
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    print(StatusText.render(status))
                }
            } catch let error as MonitoringError {
                printError("\(error)")
                if !watch { throw ExitCode.failure }
            }
            if watch { try await Task.sleep(for: .seconds(interval)) }
        } while watch
    }

    private func address() throws -> String {
        if let url { return url }
        guard let config else { return "http://127.0.0.1:9460" }
        let link: LinkConfiguration
        do {
            link = try LinkConfiguration.load(from: config)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        guard let endpoint = link.monitoring?.statusEndpoint else {
            printError("\(config): monitoring.status_endpoint is not set; add it or give --url")
            throw ExitCode.failure
        }
        return "http://\(endpoint.address):\(endpoint.port)"
    }
}
