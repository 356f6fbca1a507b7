import Plotting
import LinkModel

/// The tomography of one set of coincidences of a link analysis: all coincidences, or those of one herald state.
public struct LinkTomography: Sendable, Codable, Equatable {
    /// nil: every coincidence of the link; else the heralds of this state.
    public var heraldedState: BellState?
    public var result: TomographyResult

    public init(heraldedState: BellState?, result: TomographyResult) {
        self.heraldedState = heraldedState
        self.result = result
    }

    /// "all coincidences" or "heralded psiPlus".
    public var name: String { Self.name(heraldedState) }

    /// The name of a set of counts: "all coincidences" (nil) or "heralded psiPlus".
    static func name(_ heraldedState: BellState?) -> String { heraldedState.map { "heralded \($0.rawValue)" } ?? "all coincidences" }
}

/// A set of counts whose tomography was asked for but not made, and why: shown in the snapshot (and so in `/status`)
/// instead of a silent absence. Settings that do not yet determine the state (live, before all nine setting pairs
/// have counts) are not a failure and are not listed.
public struct TomographyFailure: Sendable, Codable, Equatable {
    /// nil: every coincidence of the link; else the heralds of this state.
    public var heraldedState: BellState?
    /// What failed, with the engine's hint (e.g. "maximum likelihood did not converge …").
    public var reason: String

    public init(heraldedState: BellState?, reason: String) {
        self.heraldedState = heraldedState
        self.reason = reason
    }

    /// "all coincidences" or "heralded psiPlus".
    public var name: String { LinkTomography.name(heraldedState) }
}

extension TomographyDetectors {
    /// The detectors behind the qubits of a link's outcome-detector `roles`: two per qubit when both labs have a −
    /// outcome detector, else one. With two, each lab's efficiency ratio is its − detector's efficiency over its +
    /// detector's (``DetectorRole/efficiency``; passive basis choice: the + and − detector of each basis, which
    /// must all give the same ratio, since the engine takes one ratio per lab). `qlink correlate --tomography` and
    /// the live analysis both resolve their detectors here.
    public init(roles: [DetectorRole]) throws(CorrelationError) {
        let twoDetectors = LabSide.allCases.allSatisfy { side in roles.contains { $0.side == side && $0.outcome == .minus } }
        guard twoDetectors else { self = .one; return }
        var ratios: [Double] = []
        for side in LabSide.allCases {
            let lab = roles.filter { $0.side == side }
            var labRatios: [Double] = []
            for basis in Set(lab.map(\.basis)) {
                let plus = lab.filter { $0.basis == basis && $0.outcome == .plus }, minus = lab.filter { $0.basis == basis && $0.outcome == .minus }
                guard plus.count == 1, minus.count == 1 else {
                    throw CorrelationError(.invalidParameter, "lab \(side == .a ? "A" : "B") has \(plus.count) + and \(minus.count) − detectors for basis \(basis ?? "(active choice)")",
                                           context: "tomography detectors", hint: "give each basis one + and one − detector")
                }
                guard plus[0].efficiency > 0 else {
                    throw CorrelationError(.invalidParameter, "lab \(side == .a ? "A" : "B")'s + detector (channel \(plus[0].channel)) has efficiency 0",
                                           context: "tomography detectors", hint: "configure the detectors' efficiencies (only their ratio matters)")
                }
                labRatios.append(minus[0].efficiency / plus[0].efficiency)
            }
            let first = labRatios.first ?? 1
            guard labRatios.allSatisfy({ abs($0 - first) <= 1e-9 * first }) else {
                throw CorrelationError(.invalidParameter, "lab \(side == .a ? "A" : "B")'s detector pairs have different efficiency ratios (\(labRatios.sorted()))",
                                       context: "tomography detectors", hint: "the tomography takes one − / + efficiency ratio per lab")
            }
            ratios.append(first)
        }
        self = TomographyDetectors(perQubit: 2, efficiencyRatioA: ratios[0], efficiencyRatioB: ratios[1])
    }
}

extension LinkTomography {
    /// One set of counts to reconstruct: all coincidences, or those of one herald state.
    public struct CountSet: Sendable {
        /// nil: all coincidences.
        public var heraldedState: BellState?
        /// The Bell state fidelities are quoted against: the link's target, or the herald state.
        public var target: BellState
        public var settings: [SettingCounts]
        /// The bootstrap's seed (each set its own).
        public var seed: UInt64
    }

    /// The sets of counts of a link: each herald state that has counts on a heralded link (`heralded` not empty;
    /// target: the herald state), else all coincidences (target: `target`; none when `settings` is empty).
    public static func countSets(settings: [SettingCounts], heralded: [(state: BellState, settings: [SettingCounts])],
                                 target: BellState) -> [CountSet] {
        if heralded.isEmpty {
            return settings.isEmpty ? [] : [CountSet(heraldedState: nil, target: target, settings: settings, seed: 1)]
        }
        return heralded.filter { entry in entry.settings.contains { $0.counts.total > 0 } }.enumerated().map { index, entry in
            CountSet(heraldedState: entry.state, target: entry.state, settings: entry.settings, seed: UInt64(index + 1))
        }
    }

    /// The tomography of one set of counts (``TwoQubitTomography/reconstruct(settings:detectors:target:bootstrapReplicates:seed:)``).
    public static func reconstruct(_ set: CountSet, detectors: TomographyDetectors,
                                   bootstrapReplicates: Int) throws(CorrelationError) -> LinkTomography {
        LinkTomography(heraldedState: set.heraldedState, result: try TwoQubitTomography.reconstruct(
            settings: set.settings, detectors: detectors, target: set.target, bootstrapReplicates: bootstrapReplicates, seed: set.seed))
    }
}

extension LinkAnalysis {
    /// The counts per basis setting so far, with accidentals per cell from the singles (empty when no bases
    /// are known; heralded links: see ``heraldedSettingCounts()``).
    public func settingCounts() -> [SettingCounts] {
        guard heraldReadouts == nil, let bases = counters.bases else { return [] }
        return bases.results(durationPs: max(0, (lastPs ?? 0) - (firstPs ?? 0)))
    }

    /// Heralded links: the counts per basis setting of each herald state (no accidentals).
    public func heraldedSettingCounts() -> [(state: BellState, settings: [SettingCounts])] {
        if let heraldReadouts { return HeraldType.allCases.map { ($0.bellState, heraldReadouts.settings(for: $0)) } }
        return counters.heralded?.results.map { ($0.state, $0.settings) } ?? []
    }
}

extension LinkAnalysisFormat {
    /// The tomography rows: per quantity the raw and the accidental-subtracted value, each ± its bootstrap σ.
    public static func tomographyRows(_ t: LinkTomography) -> [Row] {
        let r = t.result
        let label = "Tomography (\(t.name))"
        var rows = [Row(label: label, value: "settings \(r.settings.joined(separator: " ")); maximum likelihood, \(r.detectors.perQubit) detector(s) per qubit; columns: raw | accidental-subtracted")]
        let estimates = [r.raw] + (r.accidentalSubtracted.map { [$0] } ?? [])
        func add(_ name: String, _ key: KeyPath<TomographyQuantities, Double>) {
            rows.append(Row(label: "\(label) \(name)", value: estimates.map { "\($0.estimate(key))" }.joined(separator: " | ")))
        }
        add("F to \(r.target.rawValue)", \.fidelityToTarget)
        add("F max. entangled", \.fidelityMaxEntangled)
        add("purity", \.purity)
        add("concurrence", \.concurrence)
        add("negativity", \.negativity)
        add("CHSH max (Horodecki)", \.chshMax)
        rows.append(Row(label: "\(label) eigenvalues", value: estimates.map { e in
            e.quantities.eigenvalues.enumerated().map { k, v in "\(Estimate(v, standardError: e.standardErrors?.eigenvalues[k] ?? 0))" }
                .joined(separator: ", ")
        }.joined(separator: " | ")))
        rows.append(Row(label: "\(label) linear inversion min eigenvalue", value: estimates.map { e in
            "\((e.linearInversionMinEigenvalue * 1e5).rounded() / 1e5)" + (e.linearInversionMinEigenvalue < 0 ? " (unphysical)" : "")
        }.joined(separator: " | ")))
        rows.append(Row(label: "\(label) distance to the true state (bootstrap: mean [95 % percentiles])", value: estimates.map { e in
            guard let d = e.reconstructionError else { return "no bootstrap" }
            func spread(_ s: BootstrapSpread) -> String {
                let r = { (x: Double) in "\((x * 1e4).rounded() / 1e4)" }
                return "\(r(s.mean)) [\(r(s.lower95)), \(r(s.upper95))]"
            }
            return "T \(spread(d.traceDistance)), F \(spread(d.fidelity))"
        }.joined(separator: " | ")))
        rows.append(Row(label: "\(label) fit", value: estimates.map { e in
            "\(e.iterations) iterations, −log L \(e.negativeLogLikelihood), \(Int(e.totalCounts.rounded())) counts, bootstrap \(e.bootstrapReplicates)"
        }.joined(separator: " | ")))
        if r.accidentalSubtracted == nil {
            rows.append(Row(label: "\(label) accidental-subtracted", value: "not available (no accidentals per cell for these counts)"))
        }
        return rows
    }

    /// CSV lines `tomography,<set>_<quantity>,value,standard_error,count_basis`.
    static func tomographyCSV(_ t: LinkTomography) -> [String] {
        let set = t.heraldedState.map { "heralded_\($0.rawValue)" } ?? "all"
        var lines: [String] = []
        for e in [t.result.raw] + (t.result.accidentalSubtracted.map { [$0] } ?? []) {
            let items: [(String, KeyPath<TomographyQuantities, Double>)] = [
                ("fidelity_\(t.result.target.rawValue)", \.fidelityToTarget), ("fidelity_max_entangled", \.fidelityMaxEntangled),
                ("purity", \.purity), ("concurrence", \.concurrence), ("negativity", \.negativity), ("chsh_max", \.chshMax),
            ]
            for (name, key) in items {
                let estimate = e.estimate(key)
                lines.append("tomography,\(set)_\(name),\(estimate.value),\(estimate.standardError),\(e.countBasis.rawValue)")
            }
        }
        return lines
    }

    /// An SVG of Re ρ and Im ρ of the maximum-likelihood state (raw, or accidental-subtracted when `basis` says so).
    public static func tomographySVG(_ t: LinkTomography, basis: CountBasis = .raw) -> String {
        let estimate = basis == .accidentalSubtracted ? (t.result.accidentalSubtracted ?? t.result.raw) : t.result.raw
        return SVGMatrixPlot(title: "Two-qubit state, maximum likelihood (\(t.name), \(estimate.countBasis.rawValue))",
                             labels: ["00", "01", "10", "11"],
                             panels: [.init(title: "Re ρ", values: estimate.rho.re), .init(title: "Im ρ", values: estimate.rho.im)]).render()
    }
}
