import Foundation
import LinkModel

/// What the simulator needs to know about one side of the link besides the link model: which arm,
/// the tagger channels, and the lab's simulation settings.
public struct SimulatedSide: Sendable, Equatable {
    /// Index of the side's arm in ``LinkDescription/arms``.
    public var armIndex: Int
    /// Tagger channels of outcome +1 and −1 (pair source) or readout +1 and −1 (heralded).
    public var channels: OutcomeChannels
    /// Detector timing, clock, bases and readout of the lab.
    public var settings: SimulatedLab
    /// Detector efficiency and dark-count rate to use when the arm has no detector stage
    /// (pair source only), e.g. from the lab's detector configuration.
    public var fallbackDetector: (efficiency: Double, darkCountRateHz: Double)?

    public init(armIndex: Int, channels: OutcomeChannels, settings: SimulatedLab,
                fallbackDetector: (efficiency: Double, darkCountRateHz: Double)? = nil) {
        self.armIndex = armIndex
        self.channels = channels
        self.settings = settings
        self.fallbackDetector = fallbackDetector
    }

    public static func == (lhs: SimulatedSide, rhs: SimulatedSide) -> Bool {
        lhs.armIndex == rhs.armIndex && lhs.channels == rhs.channels && lhs.settings == rhs.settings
            && lhs.fallbackDetector?.efficiency == rhs.fallbackDetector?.efficiency
            && lhs.fallbackDetector?.darkCountRateHz == rhs.fallbackDetector?.darkCountRateHz
    }
}

/// Resolves the shared link model (``LinkDescription``) onto the simulator's scenarios.
///
/// Heralded protocols (single click, double click) become a ``HeraldedLinkScenario``: each arm's
/// stage product is the node's arm efficiency, the noise photons its stages add at the chosen
/// repetition rate (n₀ + k·f, attenuated by the later stages) plus half the station's stray light are
/// the node's noise per attempt, the fibre group delay is the node–station delay, the station's
/// processing time and classical latency delay the readout, and a memory stage's coherence decay
/// over the herald wait becomes the node's retained coherence. The pair-source protocol becomes a
/// ``PairSourceScenario`` with pair rate μ·f, Werner visibility (4F − 1)/3 from the source's pair
/// fidelity, the product of the non-detector stages as arm transmission and the arm's detector
/// stage as the lab's detectors (its noise photons become extra dark counts).
public enum LinkModelMapping {
    /// The scenario for `model` run at `rateHz` (the caller resolves it: ``AttemptClock``).
    /// - Parameters:
    ///   - sides: lab A's and lab B's side (arms, channels, lab settings).
    ///   - stationChannels: channels of the station's detectors 0 and 1 (heralded protocols).
    ///   - faultStreams: names by which faults refer to lab A's and lab B's stream and arm.
    /// - Throws: ``SimulationError`` naming the `simulation.` or `model.` key to fix.
    public static func scenario(model: LinkDescription, settings: SimulationSettings, rateHz rate: Double,
                                sides: (SimulatedSide, SimulatedSide), stationChannels: OutcomeChannels,
                                faultStreams: (a: [String], b: [String]) = (["a", "labA"], ["b", "labB"])) throws -> SimulationScenario {
        for (side, name) in [(sides.0, "lab A"), (sides.1, "lab B")] where !model.arms.indices.contains(side.armIndex) {
            throw SimulationError(.invalidParameter, parameter: "simulation.labs", message: "\(name) has no arm",
                                  hint: "name an arm of model.arms")
        }
        let faults = try mapFaults(settings.faults, model: model, sides: sides, streams: faultStreams)
        switch model.protocol {
        case .pairSource(let meanPairs):
            guard settings.distillation == nil else {
                throw SimulationError(.invalidParameter, parameter: "simulation.distillation",
                                      message: "the simulator distils the pairs of heralded links (single_click, double_click) only",
                                      hint: "remove simulation.distillation (qlink plan still plans it for a pair source)")
            }
            return .pairSource(try pairSource(model: model, settings: settings, sides: sides, rateHz: rate,
                                              meanPairs: meanPairs, faults: faults))
        case .singleClick, .doubleClick:
            return .heraldedLink(try heralded(model: model, settings: settings, sides: sides, rateHz: rate,
                                              stationChannels: stationChannels, faults: faults))
        }
    }

    // MARK: Pair source

    private static func pairSource(model: LinkDescription, settings: SimulationSettings, sides: (SimulatedSide, SimulatedSide),
                                   rateHz: Double, meanPairs: Double, faults: FaultSchedule) throws -> PairSourceScenario {
        func lab(_ side: SimulatedSide) throws -> PairSourceLab {
            let arm = model.arms[side.armIndex]
            var transmission = 1.0, noise = 0.0
            for stage in arm.stages where stage.detectors == nil {
                transmission *= stage.transmission
                noise = noise * stage.transmission + stage.noisePhotons(repetitionRateHz: rateHz)
            }
            var efficiency = side.fallbackDetector?.efficiency ?? 1
            var dark = side.fallbackDetector?.darkCountRateHz ?? 0
            var deadTime: Int64 = 0
            if let detectors = arm.detectors.last {
                efficiency = detectors.efficiency
                dark = detectors.darkCountRateHz
                deadTime = detectors.deadTimePs
            }
            // Noise photons reaching the lab become extra dark counts, shared by the two detectors.
            dark += noise * rateHz * efficiency / 2
            return PairSourceLab(armTransmission: transmission, fibreDelayPs: arm.groupDelayPs,
                                 detector: detectorModel(efficiency: efficiency, darkCountRateHz: dark, deadTimePs: deadTime,
                                                         timing: side.settings.detector),
                                 channels: side.channels, bases: try schedule(side.settings.bases, side: side),
                                 clock: clockModel(side.settings.clock))
        }
        let fidelity = model.midpoint.source?.pairFidelity ?? 1
        return PairSourceScenario(pairRateHz: meanPairs * rateHz, state: try bellState(settings.state),
                                  visibility: max(0, min(1, (4 * fidelity - 1) / 3)),
                                  labA: try lab(sides.0), labB: try lab(sides.1), faults: faults,
                                  preparation: try preparation(settings.stateDetail, heralded: false))
    }

    /// The scenario's ``StatePreparation`` from `simulation.state`'s mapping form; a heralded link's state
    /// comes from its herald, so there a `density_matrix` is refused.
    static func preparation(_ state: SimulatedState, heralded: Bool) throws -> StatePreparation {
        var initial: ComplexMatrix4?
        if let matrix = state.densityMatrix {
            guard !heralded else {
                throw SimulationError(.invalidParameter, parameter: "simulation.state.density_matrix",
                                      message: "a heralded link's state is set by its herald (Ψ+ or Ψ−), not given",
                                      hint: "remove density_matrix; phase_deg, rotation, amplitude_damping and phase_damping apply to the heralded states")
            }
            initial = ComplexMatrix4(re: matrix.re, im: matrix.im)
        }
        let rotation = state.rotation.map {
            StatePreparation.Rotation(qubit: $0.qubit == "a" ? 0 : 1, axis: $0.axis, angleRad: $0.angleDeg * Double.pi / 180)
        }
        return StatePreparation(initial: initial, phaseRad: state.phaseDeg * Double.pi / 180, rotation: rotation,
                                amplitudeDamping: [state.amplitudeDamping.a, state.amplitudeDamping.b],
                                phaseDamping: [state.phaseDamping.a, state.phaseDamping.b])
    }

    private static func bellState(_ name: String) throws -> BellState {
        switch name {
        case "phi_plus": return .phiPlus
        case "phi_minus": return .phiMinus
        case "psi_plus": return .psiPlus
        case "psi_minus": return .psiMinus
        default:
            throw SimulationError(.invalidParameter, parameter: "simulation.state", message: "'\(name)' is not a Bell state",
                                  hint: "use phi_plus, phi_minus, psi_plus or psi_minus")
        }
    }

    // MARK: Heralded link

    private static func heralded(model: LinkDescription, settings: SimulationSettings, sides: (SimulatedSide, SimulatedSide),
                                 rateHz: Double, stationChannels: OutcomeChannels, faults: FaultSchedule) throws -> HeraldedLinkScenario {
        guard let detectors = model.midpoint.detectors else {
            throw SimulationError(.invalidParameter, parameter: "model.midpoint.detectors", message: "the station has no detectors",
                                  hint: "add midpoint.detectors")
        }
        let periodPs = AttemptClock.periodPs(rateHz: rateHz)
        let latency = model.midpoint.processingPs + model.clock.classicalLatencyPs
        let multiplexed = model.clock.multiplexingModes > 1
        func node(_ side: SimulatedSide) -> HeraldedNode {
            let arm = model.arms[side.armIndex]
            let wait = Double(model.heraldWaitPs(arm: side.armIndex))
            let retained = arm.memory?.coherenceFactor(waitPs: wait, attempts: multiplexed ? wait * 1e-12 * rateHz : 0) ?? 1
            return HeraldedNode(
                armEfficiency: arm.transmission,
                noisePhotonsPerAttempt: arm.noisePhotonsAtEnd(repetitionRateHz: rateHz) + model.midpoint.noisePhotonsPerAttempt / 2,
                fibreDelayPs: arm.groupDelayPs, readoutDelayPs: latency + side.settings.readoutDelayPs,
                readoutFidelity: side.settings.readoutFidelity, readoutChannels: side.channels,
                bases: (try? schedule(side.settings.bases, side: side)) ?? .fixed(.z),
                clock: clockModel(side.settings.clock), coherenceRetained: max(0, min(1, retained)))
        }
        for side in [sides.0, sides.1] { _ = try schedule(side.settings.bases, side: side) }
        let heraldingProtocol: HeraldingProtocol
        switch model.protocol {
        case .singleClick(let alpha):
            heraldingProtocol = .singleClick(brightStatePopulation: alpha)
        default:
            heraldingProtocol = .barrettKok(roundSeparationPs: HeraldStation.roundSeparationPs(
                configured: settings.station.roundSeparationPs, attemptPeriodPs: periodPs))
        }
        let station = HeraldingStation(
            detector: detectorModel(efficiency: detectors.efficiency, darkCountRateHz: detectors.darkCountRateHz,
                                    deadTimePs: detectors.deadTimePs, timing: settings.station.detector),
            detectionWindowPs: detectors.windowPs, channels: stationChannels, heraldMarkers: settings.station.heraldMarkers,
            heraldMarkerBase: settings.station.heraldMarkerBase, clock: clockModel(settings.station.clock))
        return HeraldedLinkScenario(attemptRateHz: rateHz, heraldingProtocol: heraldingProtocol,
                                    visibility: model.midpoint.visibility, nodeA: node(sides.0), nodeB: node(sides.1),
                                    station: station, faults: faults,
                                    preparation: try preparation(settings.stateDetail, heralded: true),
                                    distillation: try distillation(settings.distillation, model: model, sides: sides))
    }

    /// `simulation.distillation` resolved on the link (``ResolvedDistillation``, as the planner resolves
    /// `plan.distillation`), with lab A's memory first.
    private static func distillation(_ section: DistillationSettings?, model: LinkDescription,
                                     sides: (SimulatedSide, SimulatedSide)) throws -> ResolvedDistillation? {
        guard let section else { return nil }
        guard var resolved = ResolvedDistillation(settings: section, description: model) else {
            throw SimulationError(.invalidParameter, parameter: "simulation.distillation.storage",
                                  message: "an arm has no memory stage to keep the stored pair in",
                                  hint: "add a memory stage to each arm or give simulation.distillation.storage")
        }
        resolved.memories = [resolved.memories[sides.0.armIndex], resolved.memories[sides.1.armIndex]]
        return resolved
    }

    // MARK: Shared pieces

    private static func detectorModel(efficiency: Double, darkCountRateHz: Double, deadTimePs: Int64,
                                      timing: SimulatedDetectorTiming) -> DetectorModel {
        DetectorModel(efficiency: efficiency, darkCountRateHz: darkCountRateHz, jitterSigmaPs: timing.jitterSigmaPs,
                      jitterTailFraction: timing.jitterTailFraction, jitterTailMeanPs: timing.jitterTailMeanPs,
                      deadTimePs: deadTimePs, afterpulseProbability: timing.afterpulseProbability,
                      afterpulseDelayMeanPs: timing.afterpulseDelayMeanPs)
    }

    private static func clockModel(_ clock: SimulatedClock) -> ClockModel {
        ClockModel(offsetPs: clock.offsetPs, frequencyErrorPpm: clock.frequencyErrorPpm, wanderStepPs: clock.wanderStepPs,
                   wanderIntervalPs: clock.wanderIntervalPs)
    }

    private static func schedule(_ bases: SimulatedBases, side: SimulatedSide) throws -> BasisSchedule {
        var mapped: [MeasurementBasis] = []
        for text in bases.settings {
            switch SimulatedBases.parse(text) {
            case .z: mapped.append(.z)
            case .x: mapped.append(.x)
            case .y: mapped.append(.y)
            case .linear(let degrees): mapped.append(.linear(analyserAngleDeg: degrees))
            case nil:
                throw SimulationError(.invalidParameter, parameter: "simulation.labs.bases.settings",
                                      message: "'\(text)' is not a setting", hint: "use z, x, y or an angle in degrees")
            }
        }
        return BasisSchedule(bases: mapped, periodPs: bases.periodPs, order: bases.order == "random" ? .random : .cyclic,
                             announceWithMarkers: bases.markers, markerBase: bases.markerBase)
    }

    private static func mapFaults(_ faults: [SimulatedFault], model: LinkDescription, sides: (SimulatedSide, SimulatedSide),
                                  streams: (a: [String], b: [String])) throws -> FaultSchedule {
        func stream(_ name: String, _ index: Int) throws -> StreamRole {
            if name == "station" { return .station }
            if streams.a.contains(name) { return .labA }
            if streams.b.contains(name) { return .labB }
            throw SimulationError(.invalidParameter, parameter: "simulation.faults[\(index)].stream",
                                  message: "'\(name)' is not a simulated stream",
                                  hint: "use \((streams.a.prefix(1) + streams.b.prefix(1)).joined(separator: ", ")) or station")
        }
        var mapped: [ScheduledFault] = []
        for (index, fault) in faults.enumerated() {
            let kind: FaultKind
            switch fault.kind {
            case .lossStep(let armName, let db):
                let armA = model.arms[sides.0.armIndex].name, armB = model.arms[sides.1.armIndex].name
                if armName == armA || streams.a.contains(armName) {
                    kind = .lossStep(arm: .a, extraLossDb: db)
                } else if armName == armB || streams.b.contains(armName) {
                    kind = .lossStep(arm: .b, extraLossDb: db)
                } else {
                    throw SimulationError(.invalidParameter, parameter: "simulation.faults[\(index)].arm",
                                          message: "'\(armName)' is not a simulated arm", hint: "use \(armA) or \(armB)")
                }
            case .detectorDark(let name, let detector, let duration):
                kind = .detectorDark(stream: try stream(name, index), detector: detector, durationPs: duration)
            case .clockJump(let name, let jump):
                kind = .clockJump(stream: try stream(name, index), jumpPs: jump)
            case .visibilityChange(let visibility):
                kind = .visibilityChange(visibility: visibility)
            }
            mapped.append(ScheduledFault(atPs: fault.atPs, kind: kind))
        }
        return FaultSchedule(mapped)
    }
}
