/// The `simulation:` section of a link configuration: how `qlink simulate` and the simulator's live
/// streams rehearse the link described by `model:` — the seed, the default duration, the chunk size,
/// which lab's tagger channels record which outcome, the labs' detector timing and clocks, the
/// measurement bases, and faults.
///
/// Every key is optional; `docs/configuration.md` lists them with their defaults.
public struct SimulationSettings: Decodable, Sendable, Equatable {
    /// Seed of all randomness; equal seeds give equal output.
    public var seed: UInt64
    /// Simulated duration when `qlink simulate` is not given `--seconds`, in seconds.
    public var durationS: Double
    /// Aim for about this many tags per generated chunk (memory stays proportional to it).
    public var chunkTags: Int
    /// Attempt rate to simulate, in Hz; when absent `model.clock.repetition_rate_hz` is used.
    public var repetitionRateHz: Double?
    /// The Bell state (`phi_plus`, `phi_minus`, `psi_plus`, `psi_minus`): what a pair source emits
    /// and the target of the fidelity; `state:` gives it as a name or as the `bell:` key of a mapping.
    public var state: String
    /// Everything `state:` sets beyond the Bell state (phase, rotation, damping, a general density
    /// matrix); the simulator takes the Bell state from ``state``.
    public var stateDetail: SimulatedState
    /// The two simulated labs (lab A first); when absent the first two labs of the configuration,
    /// matched to the arms of the same name (or in order).
    public var labs: [SimulatedLab]
    /// The midpoint station's tagger (heralded protocols).
    public var station: SimulatedStation
    /// Faults during the run.
    public var faults: [SimulatedFault]
    /// Heralded links: keep each heralded pair in the labs' memories and distil it with fresh ones, with a
    /// memory cut-off (the same section as a plan's `plan.distillation`); nil: every herald is read out at once.
    public var distillation: DistillationSettings?

    /// Settings with every default.
    public init(seed: UInt64 = 1, durationS: Double = 1, chunkTags: Int = 65_536, repetitionRateHz: Double? = nil,
                state: String = "phi_plus", stateDetail: SimulatedState? = nil, labs: [SimulatedLab] = [],
                station: SimulatedStation = SimulatedStation(), faults: [SimulatedFault] = [],
                distillation: DistillationSettings? = nil) {
        self.seed = seed
        self.durationS = durationS
        self.chunkTags = chunkTags
        self.repetitionRateHz = repetitionRateHz
        self.stateDetail = stateDetail ?? SimulatedState(bell: state)
        self.state = self.stateDetail.bell
        self.labs = labs
        self.station = station
        self.faults = faults
        self.distillation = distillation
    }

    /// The Bell-state spellings `state:` accepts.
    public static let stateNames = ["phi_plus", "phi_minus", "psi_plus", "psi_minus"]

    enum CodingKeys: String, CodingKey {
        case seed, durationS, chunkTags, repetitionRateHz, state, labs, station, faults, distillation
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
        durationS = try container.decode(Double.self, forKey: .durationS, in: 1e-9...86_400, default: 1,
                                         what: "a duration in seconds")
        chunkTags = try container.decode(Int.self, forKey: .chunkTags, in: 16...(1 << 26), default: 65_536,
                                         what: "a number of tags per chunk")
        repetitionRateHz = try container.decodeIfPresent(Double.self, forKey: .repetitionRateHz)
        if let rate = repetitionRateHz, !(rate >= 1e-3 && rate <= 1e10) {
            throw container.invalid(.repetitionRateHz, "\(rate) is out of range; expected an attempt rate between 1e-3 and 1e10 Hz")
        }
        if !container.contains(.state) {
            stateDetail = SimulatedState()
        } else if let name = try? container.decode(String.self, forKey: .state) {
            guard Self.stateNames.contains(name) else {
                throw container.invalid(.state, "'\(name)' is not a Bell state; expected one of \(Self.stateNames.joined(separator: ", ")) or a mapping (bell, phase_deg, rotation, amplitude_damping, phase_damping, density_matrix)")
            }
            stateDetail = SimulatedState(bell: name)
        } else {
            stateDetail = try container.decode(SimulatedState.self, forKey: .state)
        }
        state = stateDetail.bell
        labs = try container.decodeIfPresent([SimulatedLab].self, forKey: .labs) ?? []
        guard labs.isEmpty || labs.count == 2 else {
            throw container.invalid(.labs, "a simulated link has two labs, found \(labs.count); list lab A and lab B")
        }
        if labs.count == 2, labs[0].lab == labs[1].lab {
            throw container.invalid(.labs, "lab '\(labs[0].lab)' is listed twice; simulate two different labs")
        }
        station = try container.decodeIfPresent(SimulatedStation.self, forKey: .station) ?? SimulatedStation()
        faults = try container.decodeIfPresent([SimulatedFault].self, forKey: .faults) ?? []
        distillation = try container.decodeIfPresent(DistillationSettings.self, forKey: .distillation)
    }
}

/// Timing effects of a tagger input that the link model does not describe: Gaussian jitter with an
/// optional exponential tail, and afterpulsing.
public struct SimulatedDetectorTiming: Decodable, Sendable, Equatable {
    /// Standard deviation of the Gaussian timing jitter, in ps.
    public var jitterSigmaPs: Double
    /// Fraction of detections delayed by an exponential tail, 0…1.
    public var jitterTailFraction: Double
    /// Mean of the exponential tail, in ps.
    public var jitterTailMeanPs: Double
    /// Probability that a detection causes an afterpulse, 0…0.5.
    public var afterpulseProbability: Double
    /// Mean delay of an afterpulse after the dead time, in ps.
    public var afterpulseDelayMeanPs: Double

    public init(jitterSigmaPs: Double = 0, jitterTailFraction: Double = 0, jitterTailMeanPs: Double = 0,
                afterpulseProbability: Double = 0, afterpulseDelayMeanPs: Double = 0) {
        self.jitterSigmaPs = jitterSigmaPs
        self.jitterTailFraction = jitterTailFraction
        self.jitterTailMeanPs = jitterTailMeanPs
        self.afterpulseProbability = afterpulseProbability
        self.afterpulseDelayMeanPs = afterpulseDelayMeanPs
    }

    enum CodingKeys: String, CodingKey {
        case jitterSigmaPs, jitterTailFraction, jitterTailMeanPs, afterpulseProbability, afterpulseDelayMeanPs
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        jitterSigmaPs = try c.decode(Double.self, forKey: .jitterSigmaPs, in: 0...1e8, default: 0, what: "a jitter in ps")
        jitterTailFraction = try c.decode(Double.self, forKey: .jitterTailFraction, in: 0...1, default: 0,
                                          what: "a fraction")
        jitterTailMeanPs = try c.decode(Double.self, forKey: .jitterTailMeanPs, in: 0...1e8, default: 0,
                                        what: "a tail mean in ps")
        afterpulseProbability = try c.decode(Double.self, forKey: .afterpulseProbability, in: 0...0.49, default: 0,
                                             what: "an afterpulse probability")
        afterpulseDelayMeanPs = try c.decode(Double.self, forKey: .afterpulseDelayMeanPs, in: 0...1e11, default: 0,
                                             what: "an afterpulse delay in ps")
    }
}

/// A simulated tagger clock relative to true time.
public struct SimulatedClock: Decodable, Sendable, Equatable {
    /// Constant offset, in ps.
    public var offsetPs: Int64
    /// Frequency error in parts per million (positive: runs fast).
    public var frequencyErrorPpm: Double
    /// Standard deviation of one random-walk step, in ps.
    public var wanderStepPs: Double
    /// Time between random-walk steps, in ps.
    public var wanderIntervalPs: Int64

    public init(offsetPs: Int64 = 0, frequencyErrorPpm: Double = 0, wanderStepPs: Double = 0,
                wanderIntervalPs: Int64 = 10_000_000_000) {
        self.offsetPs = offsetPs
        self.frequencyErrorPpm = frequencyErrorPpm
        self.wanderStepPs = wanderStepPs
        self.wanderIntervalPs = wanderIntervalPs
    }

    enum CodingKeys: String, CodingKey {
        case offsetPs, frequencyErrorPpm, wanderStepPs, wanderIntervalPs
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        offsetPs = try c.decode(Int64.self, forKey: .offsetPs, in: -86_400_000_000_000_000...86_400_000_000_000_000,
                                default: 0, what: "an offset in ps (within a day)")
        frequencyErrorPpm = try c.decode(Double.self, forKey: .frequencyErrorPpm, in: -10_000...10_000, default: 0,
                                         what: "a frequency error in ppm")
        wanderIntervalPs = try c.decode(Int64.self, forKey: .wanderIntervalPs, in: 1...86_400_000_000_000_000,
                                        default: 10_000_000_000, what: "a wander interval in ps")
        wanderStepPs = try c.decode(Double.self, forKey: .wanderStepPs, in: 0...1e15, default: 0, what: "a wander step in ps")
        guard 20 * wanderStepPs < Double(wanderIntervalPs) else {
            throw c.invalid(.wanderStepPs, "\(wanderStepPs) ps is too large for wander_interval_ps \(wanderIntervalPs); keep it below 1/20 of the interval so the clock never runs backwards")
        }
    }
}

/// When a lab measures in which basis.
///
/// YAML: `{ settings: [z, x], period_ps: …, order: cyclic|random, markers: true, marker_base: 0 }`, or
/// `{ tomography: true, … }` for Z, X and Y in random order with markers (the tomographic sequence).
public struct SimulatedBases: Decodable, Sendable, Equatable {
    /// The settings: `z`, `x`, `y`, or a number (a linear polariser at that angle from H, in degrees).
    public var settings: [String]
    /// How long each setting is held, in ps.
    public var periodPs: Int64
    /// `cyclic` or `random`.
    public var order: String
    /// Whether each period start is recorded as a marker (number `marker_base` + setting index).
    public var markers: Bool
    /// Added to the setting index to form the marker number.
    public var markerBase: Int32

    public init(settings: [String] = ["z"], periodPs: Int64 = 1_000_000_000, order: String = "cyclic",
                markers: Bool = false, markerBase: Int32 = 0) {
        self.settings = settings
        self.periodPs = periodPs
        self.order = order
        self.markers = markers
        self.markerBase = markerBase
    }

    /// The settings of state tomography: Z, X and Y.
    public static let tomographySettings = ["z", "x", "y"]

    enum CodingKeys: String, CodingKey {
        case settings, periodPs, order, markers, markerBase, tomography
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // `tomography: true`: Z, X, Y in random order, announced by markers, so that every pair of the two
        // labs' settings occurs (two cyclic labs with equal periods would only meet ZZ, XX and YY).
        let tomography = try c.decodeIfPresent(Bool.self, forKey: .tomography) ?? false
        if tomography, c.contains(.settings) {
            throw c.invalid(.tomography, "tomography: true sets the settings to z, x, y; remove settings: or tomography:")
        }
        settings = tomography ? Self.tomographySettings : try c.decodeIfPresent([String].self, forKey: .settings) ?? ["z"]
        guard !settings.isEmpty, settings.count <= 64 else {
            throw c.invalid(.settings, "\(settings.count) settings; give between 1 and 64")
        }
        for setting in settings where Self.parse(setting) == nil {
            throw c.invalid(.settings, "'\(setting)' is not a setting; use z, x, y or an analyser angle in degrees")
        }
        periodPs = try c.decode(Int64.self, forKey: .periodPs, in: 1_000...86_400_000_000_000_000, default: 1_000_000_000,
                                what: "a basis period in ps")
        order = try c.decodeIfPresent(String.self, forKey: .order) ?? (tomography ? "random" : "cyclic")
        guard order == "cyclic" || order == "random" else {
            throw c.invalid(.order, "'\(order)' is not an order; expected cyclic or random")
        }
        markers = try c.decodeIfPresent(Bool.self, forKey: .markers) ?? (settings.count > 1)
        markerBase = try c.decode(Int32.self, forKey: .markerBase, in: -1_000_000...1_000_000, default: 0,
                                  what: "a marker number")
    }

    /// A parsed setting.
    public enum Setting: Sendable, Equatable {
        case z, x, y
        /// A linear polariser at this angle from H, in degrees.
        case linear(degrees: Double)
    }

    /// Parses one setting spelling.
    public static func parse(_ text: String) -> Setting? {
        switch text.lowercased() {
        case "z": return .z
        case "x": return .x
        case "y": return .y
        default:
            guard let degrees = Double(text.replacingOccurrences(of: "_", with: "")), degrees.isFinite else { return nil }
            return .linear(degrees: degrees)
        }
    }
}

/// One simulated lab: which lab and arm, its channels, detector timing, clock, bases and readout.
public struct SimulatedLab: Decodable, Sendable, Equatable {
    /// Name of the lab in `labs:`.
    public var lab: String
    /// Name of the arm in `model.arms` that ends (or, for heralded links, starts) at this lab;
    /// default: the arm of the same name, else the arm at the lab's position.
    public var arm: String?
    /// Tagger channels of outcome +1 and −1; default: the lab's first two detector channels.
    public var channels: [Int32]?
    /// Timing effects of the lab's detectors.
    public var detector: SimulatedDetectorTiming
    /// The lab's tagger clock.
    public var clock: SimulatedClock
    /// Measurement (pair source) or readout (heralded) bases.
    public var bases: SimulatedBases
    /// Heralded links: probability that a qubit readout is correct, 0.5…1.
    public var readoutFidelity: Double
    /// Heralded links: time from the herald's arrival to the readout event, in ps.
    public var readoutDelayPs: Int64

    public init(lab: String, arm: String? = nil, channels: [Int32]? = nil,
                detector: SimulatedDetectorTiming = SimulatedDetectorTiming(), clock: SimulatedClock = SimulatedClock(),
                bases: SimulatedBases = SimulatedBases(), readoutFidelity: Double = 1, readoutDelayPs: Int64 = 0) {
        self.lab = lab
        self.arm = arm
        self.channels = channels
        self.detector = detector
        self.clock = clock
        self.bases = bases
        self.readoutFidelity = readoutFidelity
        self.readoutDelayPs = readoutDelayPs
    }

    enum CodingKeys: String, CodingKey {
        case lab, arm, channels, detector, clock, bases, readoutFidelity, readoutDelayPs
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lab = try c.decode(String.self, forKey: .lab)
        arm = try c.decodeIfPresent(String.self, forKey: .arm)
        channels = try c.decodeIfPresent([Int32].self, forKey: .channels)
        if let channels, channels.count != 2 || channels[0] == channels[1] {
            throw c.invalid(.channels, "expected two different channels [plus, minus], found \(channels)")
        }
        detector = try c.decodeIfPresent(SimulatedDetectorTiming.self, forKey: .detector) ?? SimulatedDetectorTiming()
        clock = try c.decodeIfPresent(SimulatedClock.self, forKey: .clock) ?? SimulatedClock()
        bases = try c.decodeIfPresent(SimulatedBases.self, forKey: .bases) ?? SimulatedBases()
        readoutFidelity = try c.decode(Double.self, forKey: .readoutFidelity, in: 0.5...1, default: 1,
                                       what: "a readout fidelity")
        readoutDelayPs = try c.decode(Int64.self, forKey: .readoutDelayPs, in: 0...1_000_000_000_000_000, default: 0,
                                      what: "a readout delay in ps")
    }
}

/// The midpoint station's tagger in a simulation of a heralded link.
public struct SimulatedStation: Decodable, Sendable, Equatable {
    /// Channels of station detectors 0 and 1; default: the two channels after the highest lab channel.
    public var channels: [Int32]?
    /// Timing effects of the station's detectors.
    public var detector: SimulatedDetectorTiming
    /// The station tagger's clock.
    public var clock: SimulatedClock
    /// Whether each herald is recorded as a marker (`herald_marker_base` + 1 for Ψ+, + 2 for Ψ−).
    public var heraldMarkers: Bool
    /// Offset of the herald marker numbers.
    public var heraldMarkerBase: Int32
    /// Barrett–Kok: time between the two emission rounds of an attempt, in ps; default half the
    /// attempt period.
    public var roundSeparationPs: Int64?

    public init(channels: [Int32]? = nil, detector: SimulatedDetectorTiming = SimulatedDetectorTiming(),
                clock: SimulatedClock = SimulatedClock(), heraldMarkers: Bool = true, heraldMarkerBase: Int32 = 0,
                roundSeparationPs: Int64? = nil) {
        self.channels = channels
        self.detector = detector
        self.clock = clock
        self.heraldMarkers = heraldMarkers
        self.heraldMarkerBase = heraldMarkerBase
        self.roundSeparationPs = roundSeparationPs
    }

    enum CodingKeys: String, CodingKey {
        case channels, detector, clock, heraldMarkers, heraldMarkerBase, roundSeparationPs
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        channels = try c.decodeIfPresent([Int32].self, forKey: .channels)
        if let channels, channels.count != 2 || channels[0] == channels[1] {
            throw c.invalid(.channels, "expected two different channels [detector 0, detector 1], found \(channels)")
        }
        detector = try c.decodeIfPresent(SimulatedDetectorTiming.self, forKey: .detector) ?? SimulatedDetectorTiming()
        clock = try c.decodeIfPresent(SimulatedClock.self, forKey: .clock) ?? SimulatedClock()
        heraldMarkers = try c.decodeIfPresent(Bool.self, forKey: .heraldMarkers) ?? true
        heraldMarkerBase = try c.decode(Int32.self, forKey: .heraldMarkerBase, in: -1_000_000...1_000_000, default: 0,
                                        what: "a marker number")
        roundSeparationPs = try c.decodeIfPresent(Int64.self, forKey: .roundSeparationPs)
        if let separation = roundSeparationPs, !(1...1_000_000_000_000).contains(separation) {
            throw c.invalid(.roundSeparationPs, "\(separation) is out of range; expected a round separation between 1 ps and 1 s")
        }
    }
}

/// A fault at a true time of the run.
///
/// YAML: `{ at_ps: …, kind: loss_step, arm: alice, extra_loss_db: 3 }`,
/// `{ at_ps: …, kind: detector_dark, stream: bob, detector: 1, duration_ps: … }`,
/// `{ at_ps: …, kind: clock_jump, stream: station, jump_ps: -2000 }` or
/// `{ at_ps: …, kind: visibility_change, visibility: 0.8 }`.
public struct SimulatedFault: Decodable, Sendable, Equatable {
    /// What happens.
    public enum Kind: Sendable, Equatable {
        /// The arm's loss rises by this many dB.
        case lossStep(arm: String, extraLossDb: Double)
        /// A detector of a lab (or `station`) records nothing, for a while or for good.
        case detectorDark(stream: String, detector: Int, durationPs: Int64?)
        /// A tagger clock steps.
        case clockJump(stream: String, jumpPs: Int64)
        /// The visibility changes.
        case visibilityChange(visibility: Double)
    }

    /// True time of the fault, in ps.
    public var atPs: Int64
    /// What happens.
    public var kind: Kind

    public init(atPs: Int64, kind: Kind) {
        self.atPs = atPs
        self.kind = kind
    }

    enum CodingKeys: String, CodingKey {
        case atPs, kind, arm, extraLossDb, stream, detector, durationPs, jumpPs, visibility
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        atPs = try c.decode(Int64.self, forKey: .atPs, in: 0...86_400_000_000_000_000, what: "a fault time in ps")
        let kindName = try c.decode(String.self, forKey: .kind)
        switch kindName {
        case "loss_step":
            kind = .lossStep(arm: try c.decode(String.self, forKey: .arm),
                             extraLossDb: try c.decode(Double.self, forKey: .extraLossDb, in: 0...200, what: "a loss step in dB"))
        case "detector_dark":
            let duration = try c.decodeIfPresent(Int64.self, forKey: .durationPs)
            if let duration, !(1...86_400_000_000_000_000).contains(duration) {
                throw c.invalid(.durationPs, "\(duration) is out of range; expected a positive duration in ps (omit it for good)")
            }
            kind = .detectorDark(stream: try c.decode(String.self, forKey: .stream),
                                 detector: try c.decode(Int.self, forKey: .detector, in: 0...1, what: "a detector index"),
                                 durationPs: duration)
        case "clock_jump":
            kind = .clockJump(stream: try c.decode(String.self, forKey: .stream),
                              jumpPs: try c.decode(Int64.self, forKey: .jumpPs, in: -1_000_000_000_000_000...1_000_000_000_000_000,
                                                   what: "a clock jump in ps"))
        case "visibility_change":
            kind = .visibilityChange(visibility: try c.decode(Double.self, forKey: .visibility, in: 0...1, what: "a visibility"))
        default:
            throw c.invalid(.kind, "'\(kindName)' is not a fault; expected loss_step, detector_dark, clock_jump or visibility_change")
        }
    }
}
