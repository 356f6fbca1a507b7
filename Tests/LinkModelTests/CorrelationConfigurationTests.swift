import Foundation
import Testing
@testable import LinkModel

@Suite("Correlation section of the link configuration")
struct CorrelationConfigurationTests {
    private func parse(_ section: String) throws(ConfigurationError) -> LinkConfiguration {
        let text = try! String(contentsOfFile: exampleConfigPath, encoding: .utf8)
        return try LinkConfiguration.parse(text + "\n" + section, file: "variant.yaml")
    }

    @Test("absent means no section; given keys are read, defaults fill the rest")
    func readsSection() throws {
        #expect(try parse("").correlation == nil)
        let link = try parse("""
        correlation:
          clock_reference: shared
          shared_offset_ps: -1_250
          window_ps: 300
          target_state: psi_minus
          bases:
            - { lab: alice, markers: [{ marker: 1, basis: Z }, { marker: 2, basis: X }] }
            - { lab: bob, segments: [{ start_ps: 0, basis: Z }, { start_ps: 1_000_000, basis: X }] }
          chsh: { a: Z, a_prime: X, b: B1, b_prime: B2 }
          heralds:
            window_a: { lower_ps: 1000, upper_ps: 3000 }
            window_b: { lower_ps: 2000, upper_ps: 4000 }
            patterns:
              - { state: psi_minus, channel: 10, requires: [{ channel: 11, lower_ps: 99000, upper_ps: 101000 }] }
              - { state: psi_plus, channel: 12 }
        """)
        let c = try #require(link.correlation)
        #expect(c.clockReference == .shared)
        #expect(c.sharedOffsetPs == -1250)
        #expect(c.windowPs == 300)
        #expect(c.maxOffsetPs == 10_000_000_000)
        #expect(c.targetState == "psi_minus")
        #expect(c.bases[0].markers.map(\.marker) == [1, 2])
        #expect(c.bases[1].segments.map(\.startPs) == [0, 1_000_000])
        #expect(c.chsh?.bPrime == "B2")
        #expect(c.heralds?.patterns.count == 2)
        #expect(c.heralds?.patterns[0].requires.first?.upperPs == 101_000)
        #expect(c.heralds?.patterns[1].requires.isEmpty == true)
    }

    @Test("bad values are refused with the key path")
    func refusesBadValues() {
        let cases: [(String, String)] = [
            ("correlation:\n  clock_reference: gps\n", "clock_reference"),
            ("correlation:\n  target_state: ghz\n", "target_state"),
            ("correlation:\n  bases: [{ lab: carol, basis: Z }]\n", "carol"),
            ("correlation:\n  bases: [{ lab: alice, basis: Z, markers: [{ marker: 1, basis: X }] }]\n", "exactly one"),
            ("correlation:\n  window_ps: -5\n", "window_ps"),
            ("correlation:\n  heralds: { window_a: { lower_ps: 0, upper_ps: 1 }, window_b: { lower_ps: 0, upper_ps: 1 }, patterns: [{ state: bell, channel: 1 }] }\n", "state"),
            ("correlation:\n  windw_ps: 5\n", "windw_ps"),
        ]
        for (section, fragment) in cases {
            do {
                _ = try parse(section)
                Issue.record("accepted: \(section)")
            } catch {
                #expect(error.description.contains(fragment), "\(error.description)")
            }
        }
    }
}
