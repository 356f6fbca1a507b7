import LinkModel
import TimeTags

/// One output stream of a configured simulation, with the names a tag file header needs.
public struct ConfiguredStream: Sendable, Equatable {
    /// The simulator's stream.
    public var role: StreamRole
    /// The lab's name (`station` for the midpoint station), used as the file name stem.
    public var name: String
    /// The node that records the stream (the lab's node service), if any.
    public var node: String?
    /// Human names of the stream's channels.
    public var channelNames: [TagChannel: String]
}

/// A link configuration (`model:` and `simulation:` sections) resolved into a scenario and run
/// options, ready for ``LinkSimulator``, ``SimulatedTagStream`` or `qlink simulate`.
///
/// Lab A is the first lab of `simulation.labs` (or of the configuration's `labs:`), matched to
/// the arm of the same name or, failing that, the arm at the same position.
public struct ConfiguredSimulation: Sendable {
    /// The configuration's name.
    public var linkName: String
    /// The scenario to run.
    public var scenario: SimulationScenario
    /// Seed, duration and chunk size.
    public var options: SimulationOptions
    /// The streams, in the order the simulator's steps hold them.
    public var streams: [ConfiguredStream]
    /// The repetition rate the scenario runs at (pulse rate of a pair source, attempt rate of a heralded link), in Hz.
    public private(set) var repetitionRateHz: Double
    /// What the scenario was resolved from, to resolve it again at another repetition rate.
    private let mapping: Mapping
    /// The link model simulated.
    public var model: LinkDescription { mapping.model }

    private struct Mapping: Sendable {
        var model: LinkDescription
        var settings: SimulationSettings
        var attempts: AttemptClock?
        var sides: (SimulatedSide, SimulatedSide)
        var stationChannels: OutcomeChannels
        var faultStreams: (a: [String], b: [String])

        /// The scenario at `rateHz`, or at the resolved attempt rate when nil.
        func scenario(rateHz: Double?) throws -> SimulationScenario {
            guard let rate = rateHz ?? attempts?.rateHz else {
                throw SimulationError(.invalidParameter, parameter: "simulation.repetition_rate_hz",
                                      message: "no repetition rate is set",
                                      hint: "set model.clock.repetition_rate_hz or simulation.repetition_rate_hz (qlink simulate: --repetition-rate-hz)")
            }
            return try LinkModelMapping.scenario(model: model, settings: settings, rateHz: rate, sides: sides,
                                                 stationChannels: stationChannels, faultStreams: faultStreams)
        }
    }

    /// Resolves `configuration` (through ``ResolvedLink``: attempt rate, each lab's outcome channels, the
    /// station's channels); `durationPs` and `seed` override the `simulation:` section.
    /// - Throws: ``ConfigurationError`` when the configuration does not resolve, ``SimulationError`` naming
    ///   the key to add or fix when it cannot be simulated.
    public init(configuration: LinkConfiguration, durationPs: Int64? = nil, seed: UInt64? = nil) throws {
        guard let model = configuration.model else {
            throw SimulationError(.invalidParameter, parameter: "model", message: "the configuration has no 'model:' section",
                                  hint: "describe the link's arms, midpoint and protocol under model: (docs/configuration.md)")
        }
        let resolved = try ResolvedLink(configuration)
        let settings = configuration.simulation ?? SimulationSettings()
        let simulatedLabs = settings.labs.isEmpty ? Array(configuration.labs.prefix(2).map(\.name)) : settings.labs.map(\.lab)
        var sides: [SimulatedSide] = []
        var streams: [ConfiguredStream] = []
        for (position, labName) in simulatedLabs.enumerated() {
            guard let lab = resolved.labs.first(where: { $0.name == labName }), let simulated = lab.simulated else {
                throw SimulationError(.invalidParameter, parameter: "simulation.labs[\(position)].lab",
                                      message: "'\(labName)' is not a lab of this link", hint: "use a name from labs:")
            }
            let armIndex: Int
            if let name = simulated.arm ?? (model.arms.contains { $0.name == lab.name } ? lab.name : nil) {
                guard let index = model.arms.firstIndex(where: { $0.name == name }) else {
                    throw SimulationError(.invalidParameter, parameter: "simulation.labs[\(position)].arm",
                                          message: "'\(name)' is not an arm of the model", hint: "use a name from model.arms")
                }
                armIndex = index
            } else {
                armIndex = position
            }
            let detectors = lab.outcomeDetectors
            guard detectors.count == 2 else {
                throw SimulationError(.invalidParameter, parameter: "simulation.labs[\(position)].channels",
                                      message: "lab '\(lab.name)' needs two detector channels (outcome +1 and −1)",
                                      hint: "list two detectors for the lab or give simulation.labs[\(position)].channels")
            }
            let configured = detectors.compactMap { detector in
                configuration.lab(named: lab.name)?.detectors.first { $0.channel == detector.channel }
            }
            let fallback = (efficiency: configured.map(\.efficiency).reduce(0, +) / 2,
                            darkCountRateHz: configured.map(\.darkCountRateHz).reduce(0, +) / 2)
            sides.append(SimulatedSide(armIndex: armIndex,
                                       channels: OutcomeChannels(plus: detectors[0].channel, minus: detectors[1].channel),
                                       settings: simulated, fallbackDetector: fallback))
            streams.append(ConfiguredStream(role: position == 0 ? .labA : .labB, name: lab.name, node: lab.node,
                                            channelNames: [detectors[0].channel: detectors[0].name,
                                                           detectors[1].channel: detectors[1].name]))
        }
        guard sides.count == 2, sides[0].armIndex != sides[1].armIndex else {
            throw SimulationError(.inconsistentParameters, parameter: "simulation.labs",
                                  message: "the two labs must use the two different arms of the model",
                                  hint: "set simulation.labs[].arm to each arm's name")
        }
        let stationChannels = resolved.station.map { OutcomeChannels(plus: $0.channels[0], minus: $0.channels[1]) }
            ?? OutcomeChannels(plus: 0, minus: 0)
        let names = (a: [streams[0].name, model.arms[sides[0].armIndex].name],
                     b: [streams[1].name, model.arms[sides[1].armIndex].name])
        mapping = Mapping(model: model, settings: settings, attempts: resolved.attempts, sides: (sides[0], sides[1]),
                          stationChannels: stationChannels, faultStreams: names)
        scenario = try mapping.scenario(rateHz: nil)
        repetitionRateHz = resolved.attempts?.rateHz ?? 0
        if case .heraldedLink = scenario {
            streams.append(ConfiguredStream(role: .station, name: "station", node: nil,
                                            channelNames: [stationChannels.plus: "D0", stationChannels.minus: "D1"]))
        }
        self.streams = streams
        linkName = configuration.name
        let duration = durationPs ?? Int64((settings.durationS * 1e12).rounded())
        options = SimulationOptions(durationPs: duration, seed: seed ?? settings.seed, targetTagsPerStep: settings.chunkTags)
        try options.validate()
        switch scenario {
        case .pairSource(let s): try s.validate()
        case .heraldedLink(let s): try s.validate()
        }
    }

    /// Resolves a bare link model (a plan file has no labs): lab A takes arm 0 on channels 1 and 2,
    /// lab B arm 1 on channels 3 and 4, the station channels 5 and 6; streams are named after the arms.
    /// `settings.labs` may still set each side's detector timing, clock, bases and readout (their
    /// `lab` names are then the arm names).
    public init(linkName: String, model: LinkDescription, settings: SimulationSettings = SimulationSettings(),
                durationPs: Int64? = nil, seed: UInt64? = nil) throws {
        guard model.arms.count == 2 else {
            throw SimulationError(.invalidParameter, parameter: "model.arms", message: "\(model.arms.count) arms",
                                  hint: "describe exactly two arms")
        }
        var sides: [SimulatedSide] = []
        var streams: [ConfiguredStream] = []
        for index in 0..<2 {
            let arm = model.arms[index]
            let lab = settings.labs.first { $0.lab == arm.name } ?? (settings.labs.count == 2 ? settings.labs[index] : SimulatedLab(lab: arm.name))
            let channels = OutcomeChannels(plus: Int32(2 * index + 1), minus: Int32(2 * index + 2))
            sides.append(SimulatedSide(armIndex: index, channels: channels, settings: lab))
            streams.append(ConfiguredStream(role: index == 0 ? .labA : .labB, name: arm.name, node: nil,
                                            channelNames: [channels.plus: "+", channels.minus: "-"]))
        }
        let stationChannels = OutcomeChannels(plus: 5, minus: 6)
        let attempts = AttemptClock(simulation: settings, model: model)
        mapping = Mapping(model: model, settings: settings, attempts: attempts, sides: (sides[0], sides[1]),
                          stationChannels: stationChannels, faultStreams: ([model.arms[0].name], [model.arms[1].name]))
        scenario = try mapping.scenario(rateHz: nil)
        repetitionRateHz = attempts?.rateHz ?? 0
        if case .heraldedLink = scenario {
            streams.append(ConfiguredStream(role: .station, name: "station", node: nil, channelNames: [5: "D0", 6: "D1"]))
        }
        self.streams = streams
        self.linkName = linkName
        options = SimulationOptions(durationPs: durationPs ?? Int64((settings.durationS * 1e12).rounded()),
                                    seed: seed ?? settings.seed, targetTagsPerStep: settings.chunkTags)
        try options.validate()
        switch scenario {
        case .pairSource(let s): try s.validate()
        case .heraldedLink(let s): try s.validate()
        }
    }

    /// A simulator for the whole run.
    public func makeSimulator() throws -> LinkSimulator {
        try LinkSimulator(scenario: scenario, options: options)
    }

    /// A simulator for the whole run that follows `rateChanges` (in time order).
    /// - Throws: ``SimulationError`` for a rate the link cannot run at or changes out of order.
    public func makeSimulator(rateChanges: [RepetitionRateChange]) throws -> LinkSimulator {
        var simulator = try makeSimulator()
        for change in rateChanges { try changeRepetitionRate(change, in: &simulator) }
        return simulator
    }

    /// The scenario of the same link at another repetition rate: everything that depends on the rate
    /// follows the link model (pair rate μ·f, added noise n₀ + k·f per attempt and the dark counts it makes,
    /// attempt period, default Barrett–Kok round separation, multiplexed memory decoherence).
    /// - Throws: ``SimulationError`` for a rate that is not a positive number.
    public func scenario(repetitionRateHz rateHz: Double) throws -> SimulationScenario {
        guard rateHz.isFinite, rateHz > 0 else {
            throw SimulationError(.invalidParameter, parameter: "repetitionRateHz", message: "\(rateHz) Hz",
                                  hint: "use a positive repetition rate")
        }
        return try mapping.scenario(rateHz: rateHz)
    }

    /// Makes the running `simulator` (made by ``makeSimulator()``) run at `change.rateHz` from link time
    /// `change.fromPs` on, keeping time continuous and the random streams going; the output is
    /// deterministic for a seed and a schedule of changes.
    /// - Returns: the link time the change takes effect (a heralded link's next attempt at or after it).
    /// - Throws: ``SimulationError`` when the time is already generated, changes are out of order, or the
    ///   link cannot run at the rate (e.g. an attempt's rounds no longer fit in its period).
    @discardableResult
    public func changeRepetitionRate(_ change: RepetitionRateChange, in simulator: inout LinkSimulator) throws -> Int64 {
        try simulator.changeScenario(to: scenario(repetitionRateHz: change.rateHz), fromPs: change.fromPs)
    }

    /// The stream description of `role`.
    public func stream(_ role: StreamRole) -> ConfiguredStream? { streams.first { $0.role == role } }
}
