import ArgumentParser
import Foundation
import LinkModel
import Messaging
import OpenSSLKit

/// `qlink doctor`: checks that this machine can run QLink.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check libraries, CURVE support, configuration and certificates.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Configuration file to check (default: configs/loopback.yaml when this folder has one).")
    var config: String?

    func run() throws {
        let logger = global.makeLogger("qlink.doctor")
        var problems: [String] = []

        print("libzmq      \(ZeroMQLibrary.version)")
        print("CURVE       \(ZeroMQLibrary.hasCurve ? "available" : "MISSING")")
        if !ZeroMQLibrary.hasCurve {
            problems.append("libzmq was built without CURVE; install Debian's libzmq5 (built with libsodium)")
        }
        print("OpenSSL     \(OpenSSLLibrary.versionText)")
        if !OpenSSLLibrary.isVersion3OrLater {
            problems.append("OpenSSL 3 or later is required; install libssl-dev from Debian 12 or later")
        }

        let configPath = URL(fileURLWithPath: config ?? "configs/loopback.yaml").standardizedFileURL.path
        if config == nil, !FileManager.default.fileExists(atPath: configPath) {
            // Outside a QLink checkout there is no configuration to check: the machine itself can still be fine.
            print("config      none here (no configs/loopback.yaml in this folder); pass --config FILE to check a link")
        } else {
            print("config      \(configPath)")
            checkConfiguration(configPath, into: &problems)
        }
        logger.debug("doctor.finished", metadata: ["doctor.problems": "\(problems.count)"])

        if problems.isEmpty {
            print("status      ok")
        } else {
            for problem in problems { printError("problem: \(problem)") }
            throw ExitCode.failure
        }
    }

    /// Loads the configuration at `configPath` and checks its certificates.
    private func checkConfiguration(_ configPath: String, into problems: inout [String]) {
        do {
            let link = try LinkConfiguration.load(from: configPath)
            print("            link '\(link.name)' with labs \(link.labs.map(\.name).joined(separator: ", "))")
            print("certs       CA \(link.security.caCertificate)")
            print("            store \(link.security.certificateStore)")
            let fileManager = FileManager.default
            if !fileManager.fileExists(atPath: link.security.caCertificate) {
                print("            (no lab CA yet; create one with `qlink certs init`)")
            } else {
                problems.append(contentsOf: DoctorCertificates.check(link))
            }
        } catch {
            problems.append("\(error)")
        }
    }
}
