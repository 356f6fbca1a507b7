/// A link configuration resolved once into what every consumer reads: the attempt clock, the herald
/// windows, each lab's detectors with their outcome and basis mapping, the per-channel delays, the target
/// state and the clock relation of the labs.
///
/// Build it with ``init(_:)`` right after loading a ``LinkConfiguration``; the simulator, the planner, the
/// coordinator, the monitor and `qlink correlate` read it instead of the raw sections, so each rule below
/// is decided here and nowhere else:
/// - **Attempt rate**: `simulation.repetition_rate_hz` when given, else `model.clock.repetition_rate_hz`
///   (``AttemptClock``); nil when neither is set.
/// - **Heralds** (single click, Barrett–Kok): the station's detectors on `simulation.station.channels`, else
///   the two channels after the highest lab detector channel, recorded by the simulator's lab A
///   (`simulation.labs[0]`, else `labs[0]`); windows from the attempt
///   start for `model.midpoint.detectors.window_ps` (``HeraldStation``).
/// - **Outcomes and bases** of each lab (``ResolvedLab``): the `correlation.bases` entry when given; else,
///   when the link has a model, the simulated lab's basis schedule (markers `marker_base + i` → setting `i`);
///   else the detector names.
/// - **Target state**: `correlation.target_state`, else the simulated source's `simulation.state` when the
///   link has a model, else Φ⁺.
public struct ResolvedLink: Sendable, Equatable {
    /// How the labs' clocks are related.
    public enum ClockRelation: Sendable, Equatable {
        /// A shared reference: lab B's time minus lab A's for the same pair is `offsetPs`.
        case shared(offsetPs: Int64)
        /// Independent clocks: the offset (up to `maxOffsetPs` either way) and drift are recovered from the data.
        case independent(maxOffsetPs: Int64)
    }

    /// The link's name.
    public let name: String
    /// The physical description, when the configuration has one, with `clock.repetitionRateHz` set to the
    /// resolved attempt rate (so planner evaluations of this model run at the rate the link runs at).
    public let model: LinkDescription?
    /// Every lab in configuration order; `labs[0]` is lab A and `labs[1]` lab B of the analyses.
    public let labs: [ResolvedLab]
    /// The attempt clock; nil when neither the model nor the simulation sets a rate.
    public let attempts: AttemptClock?
    /// The midpoint station of a heralded link; nil for a pair source or without a model.
    public let station: HeraldStation?
    /// Delay subtracted from each channel's tags (every lab detector with a non-zero `delay_ps`), in ps.
    public let delaysPs: [Int32: Int64]
    /// The Bell state fidelities are computed against (`phi_plus`, `phi_minus`, `psi_plus`, `psi_minus`).
    public let targetState: String
    /// The clock relation (`correlation.clock_reference`, default independent).
    public let clock: ClockRelation
    /// Half-width of the coincidence window, in ps (`correlation.window_ps`).
    public let coincidenceWindowPs: Int64
    /// CHSH settings (`correlation.chsh`), if given.
    public let chsh: CHSHConfiguration?
    /// Herald patterns on recorded station channels for offline correlation (`correlation.heralds`), if given.
    public let heraldPatterns: HeraldConfiguration?

    /// Lab A (`labs[0]`).
    public var labA: ResolvedLab { labs[0] }
    /// Lab B (`labs[1]`).
    public var labB: ResolvedLab { labs[1] }

    /// The herald windows at the initial attempt rate; nil for a link that does not herald at a midpoint
    /// or has no rate.
    public var heraldWindows: HeraldWindows? { attempts.flatMap { heraldWindows(attemptRateHz: $0.rateHz) } }

    /// The herald windows at attempt rate `rateHz` (after a rate change); nil without a heralding station.
    public func heraldWindows(attemptRateHz rateHz: Double) -> HeraldWindows? {
        station?.windows(attemptRateHz: rateHz)
    }

    /// Resolves and validates `configuration`.
    /// - Throws: ``ConfigurationError`` naming the configuration's file, the key to fix and what is expected:
    ///   a heralded link whose rounds do not fit in the attempt period, a lab with two `correlation.bases`
    ///   entries, a marker announcing two different bases.
    public init(_ configuration: LinkConfiguration) throws(ConfigurationError) {
        let file = configuration.file
        func invalid(_ keyPath: String, _ message: String) -> ConfigurationError {
            ConfigurationError(kind: .invalidValue, file: file, keyPath: keyPath, message: message)
        }
        name = configuration.name
        let correlation = configuration.correlation ?? CorrelationConfiguration()
        var entries: [String: LabBases] = [:]
        for (index, entry) in correlation.bases.enumerated() {
            guard entries[entry.lab] == nil else {
                throw invalid("correlation.bases[\(index)].lab", "lab '\(entry.lab)' has a second entry; give each lab's bases once")
            }
            var seen: [Int32: String] = [:]
            for marker in entry.markers {
                if let basis = seen[marker.marker], basis != marker.basis {
                    throw invalid("correlation.bases[\(index)].markers", "marker \(marker.marker) announces both '\(basis)' and '\(marker.basis)'; give each marker one basis")
                }
                seen[marker.marker] = marker.basis
            }
            entries[entry.lab] = entry
        }
        // The simulator rehearses a link that has a model: the listed labs, or the first two with the defaults.
        let simulation = configuration.model == nil ? nil : configuration.simulation ?? SimulationSettings()
        labs = configuration.labs.enumerated().map { position, lab in
            let simulated = simulation.flatMap { settings in
                settings.labs.isEmpty ? (position < 2 ? SimulatedLab(lab: lab.name) : nil) : settings.labs.first { $0.lab == lab.name }
            }
            return ResolvedLab(lab, entry: entries[lab.name], simulated: simulated)
        }
        var delays: [Int32: Int64] = [:]
        for detector in labs.flatMap(\.detectors) where detector.delayPs != 0 { delays[detector.channel] = detector.delayPs }
        delaysPs = delays
        let attempts = AttemptClock(simulation: configuration.simulation, model: configuration.model)
        self.attempts = attempts
        model = configuration.model.map { model in
            var model = model
            model.clock.repetitionRateHz = attempts?.rateHz
            return model
        }
        if let model = configuration.model, model.protocol.heraldsAtMidpoint, let detectors = model.midpoint.detectors {
            let settings = configuration.simulation ?? SimulationSettings()
            let highest = configuration.labs.flatMap { $0.detectors.map(\.channel) }.max() ?? 0
            let heralding: HeraldStation.Heralding
            if case .singleClick = model.protocol {
                heralding = .singleClick
            } else {
                heralding = .barrettKok(roundSeparationPs: settings.station.roundSeparationPs)
            }
            // The simulator's lab A (simulation.labs[0], else labs[0]) records the station's detectors.
            let stationLab = settings.labs.first.flatMap { first in configuration.labs.firstIndex { $0.name == first.lab } } ?? 0
            let station = HeraldStation(heralding: heralding, channels: settings.station.channels ?? [highest &+ 1, highest &+ 2],
                                        labIndex: stationLab, detectionWindowPs: detectors.windowPs)
            if let attempts {
                let periodPs = attempts.periodPs
                var spanPs = station.detectionWindowPs
                if case .barrettKok(let configured) = heralding {
                    spanPs += HeraldStation.roundSeparationPs(configured: configured, attemptPeriodPs: periodPs)
                }
                guard spanPs < periodPs else {
                    throw invalid(attempts.source.rawValue, "an attempt's rounds (\(spanPs) ps: detection window plus round separation) do not fit in the attempt period (\(periodPs) ps at \(attempts.rateHz) Hz); lower the rate or shorten model.midpoint.detectors.window_ps / simulation.station.round_separation_ps")
                }
            }
            self.station = station
        } else {
            station = nil
        }
        targetState = correlation.targetState ?? simulation?.state ?? "phi_plus"
        clock = correlation.clockReference == .shared ? .shared(offsetPs: correlation.sharedOffsetPs)
            : .independent(maxOffsetPs: correlation.maxOffsetPs)
        coincidenceWindowPs = correlation.windowPs
        chsh = correlation.chsh
        heraldPatterns = correlation.heralds
    }
}
