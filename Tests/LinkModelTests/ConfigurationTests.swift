import Foundation
import Testing
@testable import LinkModel

/// The example configuration shipped in `configs/`, found relative to this source file.
let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let exampleConfigPath = projectRoot.appendingPathComponent("configs/loopback.yaml").path

@Suite("Link configuration")
struct ConfigurationTests {
    @Test("the shipped loopback example loads with two labs and resolved paths")
    func exampleLoads() throws {
        let link = try LinkConfiguration.load(from: exampleConfigPath)
        #expect(link.name == "loopback")
        #expect(link.labs.map(\.name) == ["alice", "bob"])
        #expect(link.coordinator.controlEndpoint == (try Endpoint(parsing: "tcp://127.0.0.1:5550")))
        #expect(link.labs[1].detectors.map(\.channel) == [3, 4])
        #expect(link.security.caCertificate.hasPrefix("/"))
        #expect(link.security.caCertificate.hasSuffix("certs/loopback/ca.crt"))
        #expect(link.labs[0].detectors[0].darkCountRateHz == 100)
    }

    private func loadVariant(_ edit: (String) -> String) throws(ConfigurationError) -> LinkConfiguration {
        let text = try! String(contentsOfFile: exampleConfigPath, encoding: .utf8)
        return try LinkConfiguration.parse(edit(text), file: "variant.yaml")
    }

    private func expectError(
        _ kind: ConfigurationError.Kind, at keyPath: String, containing fragment: String,
        _ edit: (String) -> String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try loadVariant(edit)
            Issue.record("expected a \(kind) error at \(keyPath)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.kind == kind, sourceLocation: sourceLocation)
            #expect(error.keyPath == keyPath, sourceLocation: sourceLocation)
            #expect(error.description.contains(fragment), "\(error.description)", sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix("variant.yaml:"), sourceLocation: sourceLocation)
            #expect(error.line != nil, sourceLocation: sourceLocation)
        }
    }

    @Test("a misspelt key is rejected with its path and the allowed keys")
    func unknownKey() {
        expectError(.unknownKey, at: "coordinator.contol_endpoint", containing: "did you mean 'control_endpoint'") {
            $0.replacingOccurrences(of: "control_endpoint:", with: "contol_endpoint:")
        }
    }

    @Test("an unknown key inside a list entry names the index")
    func unknownKeyInList() {
        expectError(.unknownKey, at: "labs[1].detectors[0].colour", containing: "unknown key 'colour'") {
            $0.replacingOccurrences(of: "{ channel: 3, name: H,", with: "{ channel: 3, colour: red, name: H,")
        }
    }

    @Test("a unit written in a value is refused with the number to write under the key's own unit")
    func unitInValue() {
        expectError(.wrongType, at: "model.arms[0].stages[2].window_ps", containing: "write window_ps: 1000") {
            $0.replacingOccurrences(of: "window_ps: 1_000", with: "window_ps: 1 ns")
        }
        expectError(.wrongType, at: "model.arms[0].stages[1].length_km", containing: "write length_km: 2") {
            $0.replacingOccurrences(of: "length_km: 2,", with: "length_km: 2000 m,")
        }
        expectError(.wrongType, at: "model.clock.repetition_rate_hz", containing: "write repetition_rate_hz: 20000000") {
            $0.replacingOccurrences(of: "repetition_rate_hz: 20_000_000", with: "repetition_rate_hz: 20 MHz")
        }
        expectError(.wrongType, at: "model.arms[0].stages[2].window_ps", containing: "expected an integer, found '1 parsec'") {
            $0.replacingOccurrences(of: "window_ps: 1_000", with: "window_ps: 1 parsec")
        }
    }

    @Test("a string where a number belongs is a type error")
    func wrongType() {
        expectError(.wrongType, at: "labs[0].detectors[1].delay_ps", containing: "expected an integer") {
            $0.replacingOccurrences(of: "{ channel: 2, name: V, delay_ps: 0", with: "{ channel: 2, name: V, delay_ps: late")
        }
    }

    @Test("a list where a mapping belongs is a type error")
    func wrongStructure() {
        expectError(.wrongType, at: "security", containing: "expected a mapping") {
            $0.replacingOccurrences(of: "security:\n", with: "security:\n  - a\nunused:\n")
        }
    }

    @Test("an efficiency above one is out of range")
    func outOfRange() {
        expectError(.invalidValue, at: "labs[1].detectors[1].efficiency", containing: "between 0.0 and 1.0") {
            $0.replacingOccurrences(of: "{ channel: 4, name: V, delay_ps: 0, efficiency: 0.85", with: "{ channel: 4, name: V, delay_ps: 0, efficiency: 1.5")
        }
    }

    @Test("a missing required key is named")
    func missingKey() {
        expectError(.missingKey, at: "coordinator.certificate", containing: "required key 'certificate'") {
            $0.replacingOccurrences(of: "  certificate: ../certs/loopback/coordinator.crt\n", with: "")
        }
    }

    @Test("a malformed endpoint says what an endpoint looks like")
    func badEndpoint() {
        expectError(.invalidValue, at: "coordinator.publish_endpoint", containing: "port must be a number") {
            $0.replacingOccurrences(of: "tcp://127.0.0.1:5551", with: "tcp://127.0.0.1:99999")
        }
    }

    @Test("a duplicated detector channel is rejected")
    func duplicateChannel() {
        expectError(.invalidValue, at: "labs", containing: "channel 3 is used twice") {
            $0.replacingOccurrences(of: "{ channel: 4,", with: "{ channel: 3,")
        }
    }

    @Test("one node serving two labs is rejected: a node speaks only for its own lab")
    func nodeInTwoLabs() {
        expectError(.invalidValue, at: "labs", containing: "node 'alice-node' serves two labs") {
            $0.replacingOccurrences(of: "node: bob-node", with: "node: alice-node")
        }
    }

    @Test("broken YAML is a syntax error with a line")
    func syntaxError() {
        expectError(.syntax, at: "", containing: "not valid YAML") {
            $0.replacingOccurrences(of: "name: loopback", with: "name: [loopback")
        }
    }

    @Test("a missing file is reported as unreadable with its path")
    func missingFile() {
        #expect(throws: ConfigurationError.self) { try LinkConfiguration.load(from: "/nonexistent/qlink.yaml") }
        do {
            _ = try LinkConfiguration.load(from: "/nonexistent/qlink.yaml")
        } catch {
            #expect(error.kind == .unreadable)
            #expect(error.description.contains("/nonexistent/qlink.yaml"))
        }
    }

    @Test("a configuration named by a relative path resolves its paths against its own folder")
    func relativeConfigPath() throws {
        // A relative path from the current directory up to "/" and back down to the example.
        let depth = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.pathComponents.count - 1
        let relative = String(repeating: "../", count: depth) + String(exampleConfigPath.dropFirst())
        #expect(!relative.hasPrefix("/"))
        let link = try LinkConfiguration.load(from: relative)
        #expect(link.security.caCertificate == projectRoot.standardizedFileURL.path + "/certs/loopback/ca.crt")
    }

    @Test("snake-case keys map to Swift names and back")
    func keySpelling() {
        #expect(yamlKey("lossDbPerKm") == "loss_db_per_km")
        #expect(snakeToCamel("loss_db_per_km") == "lossDbPerKm")
    }
}
