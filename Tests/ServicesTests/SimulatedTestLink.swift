import Foundation
import LinkModel
import Protocol
import Services
import Simulation
import TimeTags

/// Small simulated links for the service tests, built in code from the demo's labs (alice: channels 1/2,
/// bob: 11/12, certificates in `pki/`) plus a `model:` and `simulation:` section:
///
/// * a ψ⁻ pair source (200 k pairs/s, V = 0.9, each photon detected with probability 0.5, 200 Hz dark
///   counts, Z/X bases switched at random every ms and announced by markers, lab B's clock 37 000 123 ps late);
/// * a single-click heralded link (100 k attempts/s, station detectors on channels 13/14 in lab A's stream,
///   no station jitter, so the station's clicks sit exactly on the attempt grid).
///
/// The nodes run the simulator exactly as `qlink node` does; the truth comes from running the same seeded
/// simulation in the test.
enum SimulatedTestLink {
    static let labBClockOffsetPs: Int64 = 37_000_123

    /// The demo configuration's header and labs, without its model.
    static var labs: String {
        get throws {
            let text = try String(contentsOfFile: demoConfiguration, encoding: .utf8)
            return text.range(of: "\nmodel:").map { String(text[..<$0.lowerBound]) + "\n" } ?? text
        }
    }

    /// The pair-source link; `frequencyErrorPpm` makes lab B's clock drift.
    static func pairSourceSections(seed: UInt64 = 7, frequencyErrorPpm: Double = 0, pairsPerPulse: Double = 0.02,
                                   clockOffsetPs: Int64 = labBClockOffsetPs) -> String {
        """
        model:
          protocol: { kind: pair_source, mean_pairs_per_attempt: \(pairsPerPulse) }
          clock: { repetition_rate_hz: 10_000_000 }
          midpoint:
            source: { pair_fidelity: 0.925 }
          arms:
            - name: alice
              stages:
                - { kind: detectors, name: analyser, efficiency: 0.5, dark_count_rate_hz: 200, window_ps: 1_000 }
            - name: bob
              stages:
                - { kind: detectors, name: analyser, efficiency: 0.5, dark_count_rate_hz: 200, window_ps: 1_000 }
        simulation:
          seed: \(seed)
          state: psi_minus
          chunk_tags: 8192
          labs:
            - lab: alice
              channels: [1, 2]
              detector: { jitter_sigma_ps: 40 }
              bases: { settings: [z, x], period_ps: 1_000_000_000, order: random, markers: true, marker_base: 0 }
            - lab: bob
              channels: [11, 12]
              detector: { jitter_sigma_ps: 40 }
              clock: { offset_ps: \(clockOffsetPs), frequency_error_ppm: \(frequencyErrorPpm) }
              bases: { settings: [z, x], period_ps: 1_000_000_000, order: random, markers: true, marker_base: 10 }
        """
    }

    /// The heralded single-click link at `rateHz` attempts per second (about 3 600 heralds/s at α = 0.05).
    /// `labBClock`, when given, is lab B's clock line (for example `{ offset_ps: 2_000_000_000, frequency_error_ppm: 30 }`).
    static func heraldedSections(seed: UInt64 = 7, rateHz: Double = 100_000, chunkTags: Int = 4096, alpha: Double = 0.05,
                                 labBClock: String? = nil) -> String {
        """
        model:
          protocol: { kind: single_click, alpha: \(alpha) }
          clock: { repetition_rate_hz: \(rateHz) }
          midpoint:
            visibility: 0.9
            detectors: { efficiency: 0.8, dark_count_rate_hz: 1000, window_ps: 20_000, dead_time_ps: 0 }
          arms:
            - name: alice
              stages:
                - { kind: emitter, collection_efficiency: 0.5 }
                - { kind: fibre, length_km: 1, loss_db_per_km: 0.5 }
            - name: bob
              stages:
                - { kind: emitter, collection_efficiency: 0.5 }
                - { kind: fibre, length_km: 1, loss_db_per_km: 0.5 }
        simulation:
          seed: \(seed)
          chunk_tags: \(chunkTags)
          labs:
            - lab: alice
              channels: [1, 2]
              bases: { settings: [z, x], period_ps: 1_000_000_000, order: random, markers: true, marker_base: 0 }
            - lab: bob
              channels: [11, 12]
              bases: { settings: [z, x], period_ps: 1_000_000_000, order: random, markers: true, marker_base: 10 }\(labBClock.map { "\n      clock: \($0)" } ?? "")
        """
    }

    static func configuration(_ sections: String) throws -> LinkConfiguration {
        try LinkConfiguration.parse(try labs + sections)
    }

    static func pairSource(seed: UInt64 = 7, frequencyErrorPpm: Double = 0) throws -> LinkConfiguration {
        try configuration(pairSourceSections(seed: seed, frequencyErrorPpm: frequencyErrorPpm))
    }

    static func heralded(seed: UInt64 = 7, rateHz: Double = 100_000, chunkTags: Int = 4096) throws -> LinkConfiguration {
        try configuration(heraldedSections(seed: seed, rateHz: rateHz, chunkTags: chunkTags))
    }

    /// Coordinator settings for `configuration` on ephemeral ports: the configured link's heralds and analysis.
    static func coordinatorSettings(_ configuration: LinkConfiguration, directory: String) throws -> CoordinatorSettings {
        var settings = ConfigurationMapping.coordinator(configuration, heralds: try ConfigurationMapping.heralds(configuration))
        settings.controlEndpoint = "tcp://127.0.0.1:0"
        settings.publishEndpoint = "tcp://127.0.0.1:0"
        settings.journalPath = directory + "/journal.sqlite"
        settings.statusIntervalMs = 100
        return settings
    }

    /// The simulation both nodes run, for `durationPs` of link time.
    static func simulation(_ configuration: LinkConfiguration, durationPs: Int64) throws -> ConfiguredSimulation {
        try ConfiguredSimulation(configuration: configuration, durationPs: durationPs)
    }

    /// Node settings for `lab` running the simulation as `qlink node` does: lab A's node also carries the station.
    static func nodeSettings(_ configuration: LinkConfiguration, lab: String, directory: String, control: String, publish: String,
                             durationPs: Int64, realTime: Bool = false) throws -> NodeSettings {
        let simulation = try simulation(configuration, durationPs: durationPs)
        let role: StreamRole = lab == configuration.labs[0].name ? .labA : .labB
        var settings = try ConfigurationMapping.node(configuration, lab: lab, dataDirectory: directory,
                                                     source: .simulation(simulation, role: role, withStation: role == .labA, realTime: realTime))
        settings.controlEndpoint = control
        settings.publishEndpoint = publish
        return settings
    }

    /// One batch a node sends: its payload checksum, its first tag's time and its tag count.
    struct ExpectedBatch: Equatable {
        var checksum: UInt32
        var firstPs: Int64?
        var tags: Int
    }

    /// The batches each node sends, in order: lab A's stream merged with the station's (lab A's markers only),
    /// and lab B's; steps without tags or markers send nothing.
    static func expectedBatches(_ simulation: ConfiguredSimulation,
                                rateChanges: [RepetitionRateChange] = []) throws -> (alice: [ExpectedBatch], bob: [ExpectedBatch]) {
        var simulator = try simulation.makeSimulator(rateChanges: rateChanges)
        var alice: [ExpectedBatch] = [], bob: [ExpectedBatch] = []
        func expected(_ batch: TagBatch) -> ExpectedBatch? {
            batch.isEmpty && batch.markers.isEmpty ? nil
                : ExpectedBatch(checksum: CRC32C.checksum(TagPayload.encode(batch)), firstPs: batch.timesPs.first, tags: batch.count)
        }
        while let step = simulator.next() {
            let a = step.chunk(.labA)?.batch ?? TagBatch(), station = step.chunk(.station)?.batch ?? TagBatch()
            var merged = TagBatch(capacity: a.count + station.count)
            merged.markers = a.markers
            var i = 0, j = 0
            while i < a.count || j < station.count {
                if j >= station.count || (i < a.count && a.timesPs[i] <= station.timesPs[j]) {
                    merged.append(timePs: a.timesPs[i], channel: a.channels[i]); i += 1
                } else {
                    merged.append(timePs: station.timesPs[j], channel: station.channels[j]); j += 1
                }
            }
            if let batch = expected(station.isEmpty ? a : merged) { alice.append(batch) }
            if let batch = expected(step.chunk(.labB)?.batch ?? TagBatch()) { bob.append(batch) }
        }
        return (alice, bob)
    }

    /// Tags each node sends (lab A's stream with the station's, lab B's), from the same simulation.
    static func expectedTags(_ simulation: ConfiguredSimulation, rateChanges: [RepetitionRateChange] = []) throws -> (alice: Int64, bob: Int64) {
        var simulator = try simulation.makeSimulator(rateChanges: rateChanges)
        var alice: Int64 = 0, bob: Int64 = 0
        while let step = simulator.next() {
            alice += Int64((step.chunk(.labA)?.batch.count ?? 0) + (step.chunk(.station)?.batch.count ?? 0))
            bob += Int64(step.chunk(.labB)?.batch.count ?? 0)
        }
        return (alice, bob)
    }
}
