import Foundation
import LinkModel
import Testing

/// The project root, found from this file.
let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The shipped loopback configuration with `section` appended.
func loopbackYAML(appending section: String) throws -> String {
    var text = try String(contentsOfFile: projectRoot.appendingPathComponent("configs/loopback.yaml").path, encoding: .utf8)
    if let start = text.range(of: "\nmonitoring:") { text = String(text[..<start.lowerBound]) }   // the shipped example's own section
    return text + "\n" + section
}

@Suite("The monitoring section of the link configuration")
struct MonitoringConfigurationTests {
    @Test("the shipped example's monitoring section loads")
    func shippedExample() throws {
        let link = try LinkConfiguration.load(from: projectRoot.appendingPathComponent("configs/loopback.yaml").path)
        let monitoring = try #require(link.monitoring)
        #expect(monitoring.statusEndpoint?.port == 9460)
        #expect(monitoring.alerts.nodeSilentS.critical == 30)
        #expect(monitoring.alerts.carBelow == AlertRulesConfiguration().carBelow)
    }

    @Test("absent section: nil; empty section: every default")
    func defaults() throws {
        #expect(try LinkConfiguration.parse(loopbackYAML(appending: "")).monitoring == nil)
        let monitoring = try #require(try LinkConfiguration.parse(loopbackYAML(appending: "monitoring: {}\n")).monitoring)
        #expect(monitoring == MonitoringConfiguration())
        #expect(monitoring.alerts.fidelityBelow.forSeconds == 60)
        #expect(monitoring.retune.autoTune == false)
    }

    @Test("a full section decodes with snake-case keys")
    func fullSection() throws {
        let yaml = try loopbackYAML(appending: """
        monitoring:
          status_endpoint: tcp://127.0.0.1:9460
          window_s: 5
          alerts:
            fidelity_below: { warning: 0.9, critical: 0.85, for_s: 60, clear_for_s: 15, hysteresis: 0.01 }
            arm_rate_drop_db: { warning: 2, for_s: 10 }
            car_below: { critical: 5, for_s: 30, enabled: false }
            clock_residual_above_ps: { warning: 300, critical: 1000, for_s: 2 }
            node_silent_s: { critical: 20 }
            certificate_expiry_days: { warning: 60, critical: 14 }
            baseline_s: 20
          planned: { k_sigma: 4, for_s: 30 }
          webhook: { url: "http://127.0.0.1:9000/alerts", timeout_s: 2 }
          retune: { auto_tune: true, min_fidelity: 0.9, min_rate_hz: 1e5, max_rate_hz: 2e6, min_dwell_s: 120, min_improvement: 0.1 }
        """)
        let monitoring = try #require(try LinkConfiguration.parse(yaml).monitoring)
        #expect(monitoring.statusEndpoint?.port == 9460)
        #expect(monitoring.windowSeconds == 5)
        #expect(monitoring.alerts.fidelityBelow == ThresholdRule(warning: 0.9, critical: 0.85, forSeconds: 60, clearForSeconds: 15, hysteresis: 0.01))
        #expect(monitoring.alerts.fidelityBelow.forPs == 60_000_000_000_000)
        #expect(monitoring.alerts.armRateDropDb.critical == nil)
        #expect(monitoring.alerts.carBelow.enabled == false)
        #expect(monitoring.alerts.nodeSilentS.warning == nil && monitoring.alerts.nodeSilentS.critical == 20)
        #expect(monitoring.alerts.channelRateDropDb == AlertRulesConfiguration().channelRateDropDb)
        #expect(monitoring.alerts.baselineSeconds == 20)
        #expect(monitoring.planned.kSigma == 4)
        #expect(monitoring.webhook == WebhookConfiguration(url: "http://127.0.0.1:9000/alerts", timeoutSeconds: 2))
        #expect(monitoring.retune.autoTune && monitoring.retune.minRateHz == 1e5 && monitoring.retune.minDwellPs == 120_000_000_000_000)
    }

    @Test("bad values are refused with the key path", arguments: [
        ("alerts: { fidelity_below: { warning: 1.5 } }", "monitoring.alerts.fidelity_below"),
        ("alerts: { fidelity_below: { warning: 0.8, critical: 0.9 } }", "monitoring.alerts.fidelity_below"),
        ("alerts: { clock_residual_above_ps: { warning: 500, critical: 100 } }", "monitoring.alerts.clock_residual_above_ps"),
        ("alerts: { car_below: { for_s: 10 } }", "monitoring.alerts.car_below"),
        ("alerts: { car_below: { warning: 3, for_s: -1 } }", "monitoring.alerts.car_below.for_s"),
        ("alerts: { car_below: { warning: 3, fr_s: 1 } }", "monitoring.alerts.car_below.fr_s"),
        ("planned: { k_sigma: 0 }", "monitoring.planned.k_sigma"),
        ("webhook: { url: ftp://x/y }", "monitoring.webhook.url"),
        ("retune: { min_rate_hz: 5e6, max_rate_hz: 1e6 }", "monitoring.retune.max_rate_hz"),
        ("retune: { min_improvement: 2 }", "monitoring.retune.min_improvement"),
        ("status_endpoint: ipc:///tmp/x", "monitoring.status_endpoint"),
        ("window_s: 0", "monitoring.window_s"),
    ])
    func refused(_ body: String, _ keyPath: String) throws {
        let yaml = try loopbackYAML(appending: "monitoring: { \(body) }\n")
        do {
            _ = try LinkConfiguration.parse(yaml, file: "m.yaml")
            Issue.record("expected an error at \(keyPath)")
        } catch {
            #expect(error.keyPath == keyPath, "\(error)")
            #expect(error.line != nil)
        }
    }
}
