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

    /// "all coincidences" or "heralded psi_plus".
    public var name: String { heraldedState.map { "heralded \($0.rawValue)" } ?? "all coincidences" }
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
