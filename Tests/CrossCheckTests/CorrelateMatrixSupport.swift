import Correlation
import Foundation
import LinkModel
import QLinkTestSupport
import Simulation
import TimeTags

/// One link of the cross-tool matrix: a shipped configuration, or a generated one.
struct MatrixLink: Sendable {
    enum Kind: Sendable {
        /// An entangled-pair source at `attemptRateHz` with `meanPairs` pairs per attempt.
        case pairSource(attemptRateHz: Double, meanPairs: Double)
        /// A single-click heralded link at `attemptRateHz` with bright-state population `alpha`.
        case heralded(attemptRateHz: Double, alpha: Double)
    }

    /// Where the analysis takes each lab's bases from.
    enum Bases: Sendable {
        /// The simulated schedule's markers (settings per lab, switched at random every `periodPs`).
        case markers(a: [String], b: [String], periodPs: Int64)
        /// `correlation.bases` time segments on each lab's clock (settings cycled every `periodPs`, no markers).
        case segments(settings: [String], periodPs: Int64)
        /// Detector names (H/V → Z): one setting in the simulation, and a correlate configuration without the model.
        case names
    }

    var kind: Kind
    var bases: Bases
    /// Lab B's clock against lab A's.
    var offsetPs: Int64
    var frequencyErrorPpm: Double
    /// A shared clock reference (`correlation.clock_reference: shared`); lab B's clock must then not drift.
    var shared: Bool
    /// Dark-count rate of each pair-source detector, Hz (raises the singles without adding pairs).
    var darkCountRateHz: Double = 200

    /// The simulation configuration, and the configuration `qlink correlate` is given (the same file except for
    /// detector-name bases, where it is the labs without the model).
    func yaml(seed: UInt64, durationS: Double) -> (simulate: String, correlate: String) {
        let detectorsA = "[{ channel: 1, name: H }, { channel: 2, name: V }]"
        let detectorsB = "[{ channel: 3, name: H }, { channel: 4, name: V }]"
        let head = """
        name: matrix
        security: { ca_certificate: ca.crt, certificate_store: certs }
        coordinator: { name: c, control_endpoint: "tcp://127.0.0.1:5550", publish_endpoint: "tcp://127.0.0.1:5551", certificate: c.crt, private_key: c.key }
        labs:
          - { name: alice, node: a, certificate: a.crt, private_key: a.key, detectors: \(detectorsA) }
          - { name: bob, node: b, certificate: b.crt, private_key: b.key, detectors: \(detectorsB) }

        """
        var model: String
        var extraLab = "", state = "phi_plus"
        switch kind {
        case .pairSource(let rate, let mean):
            let arm = "[{ kind: detectors, name: d, efficiency: 0.5, dark_count_rate_hz: \(darkCountRateHz), window_ps: 1000 }]"
            model = """
            model:
              protocol: { kind: pair_source, mean_pairs_per_attempt: \(mean) }
              clock: { repetition_rate_hz: \(rate) }
              midpoint: { source: { pair_fidelity: 0.93 } }
              arms: [{ name: alice, stages: \(arm) }, { name: bob, stages: \(arm) }]

            """
            extraLab = "detector: { jitter_sigma_ps: 40 }, "
            state = "psi_minus"
        case .heralded(let rate, let alpha):
            let arm = """
            [{ kind: emitter, name: e, collection_efficiency: 0.3 }, { kind: fibre, name: f, length_km: 2, loss_db_per_km: 0.25 }]
            """
            model = """
            model:
              protocol: { kind: single_click, alpha: \(alpha) }
              clock: { repetition_rate_hz: \(rate), classical_latency_ps: 1_000_000 }
              midpoint: { visibility: 0.9, detectors: { efficiency: 0.8, dark_count_rate_hz: 20, window_ps: 20_000 } }
              arms: [{ name: alice, stages: \(arm) }, { name: bob, stages: \(arm) }]

            """
        }
        func lab(_ name: String, _ settings: [String], markers: Bool, base: Int32, clock: String, period: Int64, order: String) -> String {
            "    - { lab: \(name), \(extraLab)\(clock)bases: { settings: [\(settings.joined(separator: ", "))], period_ps: \(period), order: \(order), markers: \(markers), marker_base: \(base) } }\n"
        }
        let clockB = "clock: { offset_ps: \(offsetPs), frequency_error_ppm: \(frequencyErrorPpm) }, "
        var simulation = "simulation:\n  seed: \(seed)\n  state: \(state)\n  labs:\n"
        var correlation = "correlation:\n  clock_reference: \(shared ? "shared" : "independent")\n  shared_offset_ps: \(offsetPs)\n"
        switch bases {
        case .markers(let a, let b, let period):
            simulation += lab("alice", a, markers: true, base: 0, clock: "", period: period, order: "random")
            simulation += lab("bob", b, markers: true, base: 10, clock: clockB, period: period, order: "random")
        case .segments(let settings, let period):
            simulation += lab("alice", settings, markers: false, base: 0, clock: "", period: period, order: "cyclic")
            simulation += lab("bob", settings, markers: false, base: 10, clock: clockB, period: period, order: "cyclic")
            // Segments on each lab's own clock: lab B's switches are at its reading of the same true times.
            let count = Int((durationS * 1e12 / Double(period)).rounded(.up))
            correlation += "  bases:\n"
            for (name, shift) in [("alice", Int64(0)), ("bob", offsetPs)] {
                let segments = (0..<count).map { k -> String in
                    let t = Int64(k) * period
                    let reading = t + shift + Int64((Double(t) * frequencyErrorPpm * 1e-6).rounded())
                    return "{ start_ps: \(reading), basis: \(settings[k % settings.count].uppercased()) }"
                }
                correlation += "    - { lab: \(name), segments: [\(segments.joined(separator: ", "))] }\n"
            }
        case .names:
            simulation += lab("alice", ["z"], markers: false, base: 0, clock: "", period: 1_000_000_000, order: "cyclic")
            simulation += lab("bob", ["z"], markers: false, base: 10, clock: clockB, period: 1_000_000_000, order: "cyclic")
        }
        let simulate = head + model + simulation + correlation
        if case .names = bases { return (simulate, head + correlation) }
        return (simulate, simulate)
    }
}

/// What the matrix reads back from one run: the truth from the simulator and `qlink correlate`'s snapshot.
struct MatrixRun {
    var truth: GroundTruth
    var snapshot: LinkAnalysisSnapshot
    /// Lab A's and lab B's names and files.
    var labs: [String]
    var labFiles: [String]
    /// Each simulated lab's setting labels as the analysis names them, indexed by setting.
    var settingLabels: [[String]]
    /// The lab detectors' dead time (non-paralysable), ps.
    var deadTimePs: Int64

    /// Simulates `link` (or the shipped configuration at `shipped`) with `qlink simulate`, then runs
    /// `qlink correlate --json` on the two lab files with the defaults (plus `--chunk-size` when given).
    static func run(shipped: URL?, link: MatrixLink?, seconds: Double, seed: UInt64, chunkSizes: [Int?],
                    in directory: URL) throws -> [MatrixRun] {
        var simulateConfig: String, correlateConfig: String
        if let shipped {
            simulateConfig = shipped.path; correlateConfig = shipped.path
        } else {
            let (simulate, correlate) = link!.yaml(seed: seed, durationS: seconds)
            simulateConfig = directory.appendingPathComponent("simulate.yaml").path
            correlateConfig = directory.appendingPathComponent("correlate.yaml").path
            try simulate.write(toFile: simulateConfig, atomically: true, encoding: .utf8)
            try correlate.write(toFile: correlateConfig, atomically: true, encoding: .utf8)
        }
        let out = directory.appendingPathComponent("out")
        let simulated = try QLinkRunner.run(["simulate", "--config", simulateConfig, "--out", out.path, "--seconds", "\(seconds)",
                                             "--seed", "\(seed)", "--log-level", "error"], in: directory)
        guard simulated.status == 0 else { throw MatrixFailure("qlink simulate failed: \(simulated.error)") }
        let truth = try JSONDecoder().decode(GroundTruth.self, from: Data(contentsOf: out.appendingPathComponent("ground_truth.json")))
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".qtag") && $0 != "station.qtag" }
        // Lab A's file first: the configuration's first lab.
        let labs = Array(try LinkConfiguration.load(from: correlateConfig).labs.prefix(2).map(\.name))
        let simulation = try LinkConfiguration.load(from: simulateConfig)
        let settings = simulation.simulation?.labs.map { $0.bases.settings.map(ResolvedLab.basisLabel) } ?? []
        let deadTimePs = simulation.model?.arms.flatMap { $0.stages }.compactMap { stage -> Int64? in
            if case .detectors(let detectors) = stage.kind { return detectors.deadTimePs } else { return nil }
        }.max() ?? 0
        let labFiles = labs.map { out.appendingPathComponent("\($0).qtag").path }
        guard labFiles.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) else {
            throw MatrixFailure("qlink simulate wrote \(files), expected \(labs)")
        }
        return try chunkSizes.map { chunk in
            var arguments = ["correlate"] + labFiles + ["--config", correlateConfig, "--json", "--quiet", "--log-level", "error"]
            if let chunk { arguments += ["--chunk-size", "\(chunk)"] }
            let correlated = try QLinkRunner.run(arguments, in: directory)
            guard correlated.status == 0 else {
                throw MatrixFailure("qlink \(arguments.joined(separator: " ")) exited \(correlated.status): \(correlated.error)")
            }
            let snapshot = try JSONDecoder().decode(LinkAnalysisSnapshot.self, from: Data(correlated.output.utf8))
            return MatrixRun(truth: truth, snapshot: snapshot, labs: labs, labFiles: labFiles, settingLabels: settings, deadTimePs: deadTimePs)
        }
    }
}

struct MatrixFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Exact coincidence counts by definition: every (A tag, B tag) of the two channels with
/// −window ≤ (t_B − offset) − t_A ≤ window, found by binary search per A tag.
enum BruteForceCount {
    static func read(_ path: String) throws -> (times: [Int64], channels: [TagChannel]) {
        let reader = try NativeTagReader(path: path)
        var times: [Int64] = [], channels: [TagChannel] = []
        while let batch = try reader.next() { times += batch.timesPs; channels += batch.channels }
        return (times, channels)
    }

    static func coincidences(a: [Int64], b: [Int64], offsetPs: Int64, windowPs: Int64) -> Int64 {
        let shifted = b.map { $0 - offsetPs }.sorted()
        func lowerBound(_ x: Int64) -> Int {
            var low = 0, high = shifted.count
            while low < high {
                let mid = (low + high) / 2
                if shifted[mid] < x { low = mid + 1 } else { high = mid }
            }
            return low
        }
        return a.reduce(Int64(0)) { $0 + Int64(lowerBound($1 + windowPs + 1) - lowerBound($1 - windowPs)) }
    }
}

/// Truth numbers the analysis should recover, from a ``GroundTruth``.
enum MatrixTruth {
    /// Signs (z, x, y) of ⟨σσ⟩ for each Bell state, as in F = (1 + s_z E_ZZ + s_x E_XX + s_y E_YY)/4.
    static func signs(_ state: BellState) -> (z: Double, x: Double, y: Double) {
        switch state {
        case .phiPlus: (1, 1, -1)
        case .phiMinus: (1, -1, 1)
        case .psiPlus: (-1, 1, 1)
        case .psiMinus: (-1, -1, -1)
        }
    }

    /// E for each pair of setting labels (lab A's label followed by lab B's, as the snapshot names them): the
    /// source's Born-rule correlators (pair source), or the herald-rate weighted mixture of the Ψ+ and Ψ−
    /// heralded states (heralded link, which `qlink correlate` on two lab files sees without the station's heralds).
    static func correlations(_ truth: GroundTruth, labelsA: [String], labelsB: [String]) -> [String: Double] {
        var result: [String: Double] = [:]
        if let segment = truth.pairSourceSegments?.first {
            for c in segment.correlations { result[labelsA[c.basisA] + labelsB[c.basisB]] = c.correlation }
        } else if let segment = truth.heraldedSegments?.first {
            let plus = segment.psiPlusProbability, minus = segment.psiMinusProbability
            for (p, m) in zip(segment.correlationsPsiPlus, segment.correlationsPsiMinus) {
                result[labelsA[p.basisA] + labelsB[p.basisB]] = (plus * p.correlation + minus * m.correlation) / (plus + minus)
            }
        }
        return result
    }
}
