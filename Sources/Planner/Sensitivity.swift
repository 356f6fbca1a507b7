import Foundation
import LinkModel

/// How much one improvement to one part of the link helps, per dB.
///
/// "Loss" rows remove loss (the part's transmission grows by the factor 10^(x/10)); "noise" rows
/// remove noise (its added noise photons, or dark counts, shrink by 10^(−x/10)). Values are local
/// derivatives at the operating point, per dB removed.
public struct Sensitivity: Sendable, Equatable, Encodable {
    /// What is improved.
    public enum Knob: String, Sendable, Encodable {
        case loss, noise
    }

    /// The arm the part belongs to, or `station`.
    public var arm: String
    /// The part's name.
    public var stage: String
    /// Loss or noise.
    public var knob: Knob
    /// Change of the pair rate in Hz per dB removed.
    public var pairRateHzPerDb: Double
    /// Relative change of the pair rate in percent per dB removed.
    public var pairRatePercentPerDb: Double
    /// Relative reduction of the cost per pair in percent per dB removed (positive means cheaper).
    public var costPerPairReductionPercentPerDb: Double
    /// Change of the delivered fidelity per dB removed.
    public var fidelityPerDb: Double
    /// Relative reduction of the cost per pair above the fidelity target (distilled where that pays) in
    /// percent per dB removed; nil without a useful-output model.
    public var costPerUsefulPairReductionPercentPerDb: Double? = nil
    /// Relative reduction of the cost per secret bit in percent per dB removed; nil without a key-rate function.
    public var costPerSecretBitReductionPercentPerDb: Double? = nil
}

/// The "improve this first" analysis: every lossy or noisy part of a link, perturbed one at a time.
public struct SensitivityAnalysis: Sendable {
    /// One perturbation, prepared once and reused at every operating point.
    struct Probe: Sendable {
        var arm: String
        var stage: String
        var knob: Sensitivity.Knob
        var profile: LinkProfile
    }

    let base: LinkProfile
    let probes: [Probe]
    /// The step used for the finite difference, in dB.
    public let stepDb: Double
    /// Pairs above the fidelity target and secret bits; with it the rows rank by cost per useful pair.
    public let useful: UsefulOutputModel?

    /// Prepares the analysis of `description` with finite-difference step `stepDb`.
    public init(_ description: LinkDescription, stepDb: Double = 0.01, useful: UsefulOutputModel? = nil) {
        self.stepDb = stepDb
        self.useful = useful
        base = LinkProfile(description)
        let gain = pow(10, stepDb / 10)
        var probes: [Probe] = []
        func add(_ arm: String, _ stage: String, target: StageTarget, lossy: Bool, noisy: Bool) {
            if lossy {
                probes.append(Probe(arm: arm, stage: stage, knob: .loss, profile: LinkProfile(
                    description, adjustment: StageAdjustment(target: target, transmissionFactor: gain))))
            }
            if noisy {
                probes.append(Probe(arm: arm, stage: stage, knob: .noise, profile: LinkProfile(
                    description, adjustment: StageAdjustment(target: target, noiseFactor: 1 / gain))))
            }
        }
        for (armIndex, arm) in description.arms.enumerated() {
            for (stageIndex, stage) in arm.stages.enumerated() {
                let noisy = stage.noisePhotonsPerAttempt > 0 || stage.noisePhotonsPerAttemptPerHz > 0
                    || (stage.detectors?.darkCountRateHz ?? 0) > 0
                add(arm.name, stage.name, target: .armStage(arm: armIndex, stage: stageIndex),
                    lossy: stage.transmission < 1 && stage.transmission > 0, noisy: noisy)
            }
        }
        if let detectors = description.midpoint.detectors {
            add("station", "detectors", target: .stationDetectors,
                lossy: detectors.efficiency < 1 && detectors.efficiency > 0, noisy: detectors.darkCountRateHz > 0)
        }
        if description.midpoint.noisePhotonsPerAttempt > 0 {
            add("station", "stray light", target: .stationNoise, lossy: false, noisy: true)
        }
        self.probes = probes
    }

    /// The sensitivity table at `point`, most useful first (largest cost-per-pair reduction, then
    /// largest rate gain).
    public func table(at point: OperatingPoint) -> [Sensitivity] {
        let reference = base.evaluate(point)
        return rows(reference: reference).sorted {
            ($0.costPerUsefulPairReductionPercentPerDb ?? 0, $0.costPerPairReductionPercentPerDb, $0.pairRatePercentPerDb, $0.fidelityPerDb)
                > ($1.costPerUsefulPairReductionPercentPerDb ?? 0, $1.costPerPairReductionPercentPerDb, $1.pairRatePercentPerDb, $1.fidelityPerDb)
        }
    }

    /// Unsorted rows relative to an already evaluated `reference` (used by batch sweeps).
    public func rows(reference: Performance) -> [Sensitivity] {
        let referenceUseful = reference.useful ?? useful.map { $0.output(for: reference, profile: base) }
        return probes.map { probe in
            let changed = probe.profile.evaluate(reference.point)
            let rateGain = (changed.pairRateHz - reference.pairRateHz) / stepDb
            let ratePercent = reference.pairRateHz > 0 ? 100 * rateGain / reference.pairRateHz : 0
            let costPercent = reduction(reference.costPerPair, changed.costPerPair)
            var row = Sensitivity(arm: probe.arm, stage: probe.stage, knob: probe.knob, pairRateHzPerDb: rateGain,
                                  pairRatePercentPerDb: ratePercent, costPerPairReductionPercentPerDb: costPercent,
                                  fidelityPerDb: (changed.fidelity - reference.fidelity) / stepDb)
            if let useful, let referenceUseful {
                let changedUseful = useful.output(for: changed, profile: probe.profile)
                row.costPerUsefulPairReductionPercentPerDb = reduction(referenceUseful.costPerPair, changedUseful.costPerPair)
                if let before = referenceUseful.costPerSecretBit, let after = changedUseful.costPerSecretBit {
                    row.costPerSecretBitReductionPercentPerDb = reduction(before, after)
                }
            }
            return row
        }
    }

    /// Percent reduction per dB from `before` to `after`; 0 when either is not a finite positive cost.
    func reduction(_ before: Double, _ after: Double) -> Double {
        guard before.isFinite, before > 0, after.isFinite else { return 0 }
        return 100 * (before - after) / before / stepDb
    }

    /// Evaluates every point of `grid` with its sensitivity rows.
    public func sweep(_ grid: SweepGrid) -> [(performance: Performance, sensitivities: [Sensitivity])] {
        grid.points.map { point in
            var reference = base.evaluate(point)
            reference.useful = useful?.output(for: reference, profile: base)
            return (reference, rows(reference: reference))
        }
    }
}
