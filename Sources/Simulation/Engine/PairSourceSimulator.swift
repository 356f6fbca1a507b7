/// Streams the tags of a ``PairSourceScenario``: lab A's and lab B's taggers, window by window.
///
/// ```swift
/// var simulator = try PairSourceSimulator(scenario: scenario, options: SimulationOptions(durationPs: 1_000_000_000_000, seed: 7))
/// while let step = simulator.next() { consume(step.chunk(.labA)!.batch, step.chunk(.labB)!.batch) }
/// let truth = simulator.groundTruth()
/// ```
public struct PairSourceSimulator: Sequence, IteratorProtocol, Sendable {
    /// The scenario in force (it changes at the times given to ``changeScenario(to:fromPs:)``).
    public private(set) var scenario: PairSourceScenario
    /// The run options.
    public let options: SimulationOptions

    private var planner: WindowPlanner
    private var emission: DistributionSampler
    private var streamA: DetectorStream
    private var streamB: DetectorStream
    private var basisA: BasisCursor
    private var basisB: BasisCursor
    /// This window's arrivals per lab: the first `signalCountA` / `signalCountB` elements (the
    /// storage is kept across windows).
    private var signalA: [RawEvent] = []
    private var signalB: [RawEvent] = []
    private var signalCountA = 0
    private var signalCountB = 0
    private var finished = false
    private let sortedFaults: [ScheduledFault]
    /// Every scenario of the run with the time it takes effect (the first at 0), in time order.
    private var schedule: [(fromPs: Int64, scenario: PairSourceScenario)]
    /// Scheduled changes not yet in force.
    private var pendingChanges = 0

    /// A simulator; throws ``SimulationError`` for an invalid scenario or options.
    public init(scenario: PairSourceScenario, options: SimulationOptions) throws {
        try scenario.validate()
        try options.validate()
        self.scenario = scenario
        self.options = options
        let seed = options.seed
        sortedFaults = scenario.faults.faults.sorted { $0.atPs < $1.atPs }
        emission = DistributionSampler(seed: seed, stream: RandomStream.emission.rawValue)
        func stream(_ role: StreamRole, _ lab: PairSourceLab, detector: RandomStream, clock: RandomStream) -> DetectorStream {
            DetectorStream(
                role: role, channels: [lab.channels.plus, lab.channels.minus], model: lab.detector,
                freeRunningDarkRateHz: lab.detector.darkCountRateHz, shiftPs: lab.fibreDelayPs,
                clock: ClockState(model: lab.clock, jumps: scenario.faults.clockJumps(stream: role),
                                  rng: DistributionSampler(seed: seed, stream: clock.rawValue)),
                rng: DistributionSampler(seed: seed, stream: detector.rawValue))
        }
        streamA = stream(.labA, scenario.labA, detector: .detectorA, clock: .clockA)
        streamB = stream(.labB, scenario.labB, detector: .detectorB, clock: .clockB)
        basisA = BasisCursor(schedule: scenario.labA.bases, seed: SplitMix64.mix(seed ^ RandomStream.scheduleA.rawValue))
        basisB = BasisCursor(schedule: scenario.labB.bases, seed: SplitMix64.mix(seed ^ RandomStream.scheduleB.rawValue))

        var changePoints = scenario.faults.changeTimes(stream: nil)
        changePoints += scenario.faults.changeTimes(stream: .labA).map { $0 - scenario.labA.fibreDelayPs }
        changePoints += scenario.faults.changeTimes(stream: .labB).map { $0 - scenario.labB.fibreDelayPs }
        planner = WindowPlanner(durationPs: options.durationPs, lengthPs: options.windowLengthPs(totalTagRateHz: Self.tagRateHz(scenario)),
                                changePoints: changePoints)
        schedule = [(0, scenario)]
    }

    /// Expected tags per second of both labs (sets the window length).
    private static func tagRateHz(_ scenario: PairSourceScenario) -> Double {
        scenario.pairRateHz * (scenario.labA.totalEfficiency + scenario.labB.totalEfficiency)
            + 2 * (scenario.labA.detector.darkCountRateHz + scenario.labB.detector.darkCountRateHz)
    }

    /// The truth segments: one per span of constant parameters (faults and scenario changes).
    private var segments: [PairSourceTruthSegment] {
        let boundaries = WindowPlanner(durationPs: options.durationPs, lengthPs: 1,
                                       changePoints: scenario.faults.changeTimes(stream: nil) + schedule.dropFirst().map(\.fromPs))
            .segmentBoundaries
        return zip(boundaries, boundaries.dropFirst()).map { start, end in
            let inForce = schedule.last { $0.fromPs <= start }?.scenario ?? schedule[0].scenario
            return Self.truthSegment(scenario: inForce, startPs: start, endPs: end)
        }
    }

    /// End of the windows generated so far: a change can take effect at this time or later.
    public var generatedThroughPs: Int64 { planner.cursorPs }

    /// Runs the link with `newScenario`'s operating point from emission time `fromPs` on (pair rate,
    /// visibility, arm transmissions, detector dark-count rates); windows split there, time and the random
    /// streams continue. Deterministic for a seed and a schedule of changes.
    /// - Throws: ``SimulationError`` when `fromPs` lies before ``generatedThroughPs`` or an earlier change,
    ///   or when anything else differs (channels, delays, detectors' timing, clocks, bases, faults).
    public mutating func changeScenario(to newScenario: PairSourceScenario, fromPs: Int64) throws {
        try newScenario.validate()
        let last = schedule[schedule.count - 1]
        try ScenarioChangeCheck.time(fromPs, generatedThroughPs: generatedThroughPs, lastChangePs: last.fromPs)
        var comparable = newScenario
        comparable.pairRateHz = last.scenario.pairRateHz
        comparable.visibility = last.scenario.visibility
        comparable.labA.armTransmission = last.scenario.labA.armTransmission
        comparable.labB.armTransmission = last.scenario.labB.armTransmission
        comparable.labA.detector.darkCountRateHz = last.scenario.labA.detector.darkCountRateHz
        comparable.labB.detector.darkCountRateHz = last.scenario.labB.detector.darkCountRateHz
        comparable.labA.detector.efficiency = last.scenario.labA.detector.efficiency
        comparable.labB.detector.efficiency = last.scenario.labB.detector.efficiency
        guard comparable == last.scenario else {
            throw ScenarioChangeCheck.structureChanged
        }
        schedule.append((fromPs, newScenario))
        pendingChanges += 1
        planner.insertChangePoint(fromPs)
    }

    /// Puts the scheduled changes due at the planner's cursor in force.
    private mutating func applyDueChanges() {
        while pendingChanges > 0 {
            let next = schedule[schedule.count - pendingChanges]
            guard next.fromPs <= planner.cursorPs else { return }
            scenario = next.scenario
            streamA.freeRunningDarkRateHz = scenario.labA.detector.darkCountRateHz
            streamB.freeRunningDarkRateHz = scenario.labB.detector.darkCountRateHz
            planner.lengthPs = options.windowLengthPs(totalTagRateHz: Self.tagRateHz(scenario))
            pendingChanges -= 1
        }
    }

    /// Emission parameters in force at emission time `timePs`.
    private static func parameters(_ scenario: PairSourceScenario, at timePs: Int64) -> (etaA: Double, etaB: Double, visibility: Double) {
        (scenario.labA.totalEfficiency * scenario.faults.lossFactor(arm: .a, atTimePs: timePs),
         scenario.labB.totalEfficiency * scenario.faults.lossFactor(arm: .b, atTimePs: timePs),
         scenario.faults.visibility(initial: scenario.visibility, atTimePs: timePs))
    }

    private static func truthSegment(scenario: PairSourceScenario, startPs: Int64, endPs: Int64) -> PairSourceTruthSegment {
        let (etaA, etaB, visibility) = parameters(scenario, at: startPs)
        let rho = scenario.emittedState(visibility: visibility)
        return PairSourceTruthSegment(
            startPs: startPs, endPs: endPs, visibility: visibility, state: rho, fidelity: rho.fidelity(with: scenario.state),
            chshS: rho.chshValue(basesA: scenario.labA.bases.bases, basesB: scenario.labB.bases.bases),
            correlations: BasisPairTruth.table(rho, basesA: scenario.labA.bases.bases, basesB: scenario.labB.bases.bases),
            detectionProbabilityA: etaA, detectionProbabilityB: etaB,
            singlesRateAHz: scenario.pairRateHz * etaA + 2 * scenario.labA.detector.darkCountRateHz,
            singlesRateBHz: scenario.pairRateHz * etaB + 2 * scenario.labB.detector.darkCountRateHz,
            coincidenceRateHz: scenario.pairRateHz * etaA * etaB)
    }

    /// Cumulative Born-rule tables: for basis pair (i, j), three thresholds of outcomes 00, 01, 10.
    private func bornTable(visibility: Double) -> [Double] {
        scenario.emittedState(visibility: visibility)
            .cumulativeOutcomeTable(basesA: scenario.labA.bases.bases, basesB: scenario.labB.bases.bases)
    }

    /// The next step, or `nil` after the final one.
    public mutating func next() -> SimulationStep? {
        applyDueChanges()
        guard !finished, let (start, end) = planner.next() else { return nil }
        generatePairs(startPs: start, endPs: end)
        let dA = scenario.labA.fibreDelayPs
        let dB = scenario.labB.fibreDelayPs
        basisA.emitMarkers(startPs: start + dA, endPs: end + dA, into: &streamA)
        basisB.emitMarkers(startPs: start + dB, endPs: end + dB, into: &streamB)
        let isFinal = end >= options.durationPs
        if isFinal { finished = true }
        let darkA = scenario.faults.darkMask(stream: .labA, atTimePs: start + dA), darkB = scenario.faults.darkMask(stream: .labB, atTimePs: start + dB)
        let record = options.recordTrueTimes
        // The two labs' detector chains are independent (own random streams): run them side by side.
        let (chunkA, chunkB) = StreamWorkers.run(
            &streamA, &streamB, parallel: options.parallelStreams && signalCountA + signalCountB >= StreamWorkers.minimumEvents,
            { [signalA, signalCountA] stream in
                stream.process(signal: signalA, count: signalCountA, startPs: start + dA, endPs: end + dA, dark: darkA)
                return stream.emit(arrivalFloorPs: isFinal ? nil : end + dA, recordTrueTimes: record)
            },
            { [signalB, signalCountB] stream in
                stream.process(signal: signalB, count: signalCountB, startPs: start + dB, endPs: end + dB, dark: darkB)
                return stream.emit(arrivalFloorPs: isFinal ? nil : end + dB, recordTrueTimes: record)
            })
        return SimulationStep(startPs: start, endPs: end, chunks: [chunkA, chunkB], isFinal: isFinal)
    }

    /// Pair emissions in [start, end) with at least one detected photon (thinned Poisson process).
    private mutating func generatePairs(startPs: Int64, endPs: Int64) {
        signalCountA = 0
        signalCountB = 0
        let (etaA, etaB, visibility) = Self.parameters(scenario, at: startPs)
        let pBoth = etaA * etaB
        let pAny = etaA + etaB - pBoth
        let rate = scenario.pairRateHz * pAny
        guard rate > 0 else { return }
        let meanGapPs = 1e12 / rate
        let outcomes = PairOutcomeTable(born: bornTable(visibility: visibility), both: pBoth / pAny, aOnly: (etaA - pBoth) / pAny)
        let basesB = scenario.labB.bases.bases.count
        let dA = scenario.labA.fibreDelayPs
        let dB = scenario.labB.fibreDelayPs
        let expected = Int(Double(endPs - startPs) * 1e-12 * rate * 1.1) + 1_024
        // Work on local copies so that the hot loop keeps its state in registers and writes to
        // uniquely referenced arrays whose storage is reused window after window.
        var outA = signalA, outB = signalB
        signalA = []
        signalB = []
        var countA = 0, countB = 0
        var sampler = emission
        // One Poisson process over the window, worked through in stretches of emission time in which
        // neither lab's basis changes (so one alias-table row serves the whole stretch). Each
        // stretch starts at its first pair, so stretches without pairs cost nothing; `offset` is the
        // next pair's time from `origin`, minus one half. Stretches are at most 2⁴⁰ ps long, so the
        // offsets stay exact doubles.
        var origin = startPs
        var offset = sampler.standardExponential() * meanGapPs - 0.5
        while offset < Double(endPs - origin) - 0.5 {
            let pairPs = origin + Int64(offset + 0.5)
            offset -= Double(pairPs - origin)
            origin = pairPs
            let indexA = basisA.index(at: origin + dA), indexB = basisB.index(at: origin + dB)
            let stretchEnd = Swift.min(endPs, basisA.validUntilPs - dA, basisB.validUntilPs - dB, origin + (1 << 40))
            let rowStart = (indexA * basesB + indexB) * PairOutcomeTable.columns
            guard rowStart >= 0, rowStart + PairOutcomeTable.columns <= outcomes.entries.count else { break }
            let loop = PairEmissionLoop(meanGapPs: meanGapPs, limit: Double(stretchEnd - origin) - 0.5,
                                        baseAPs: origin + dA, baseBPs: origin + dB)
            // Each pair writes one slot per lab: room for `budget` pairs.
            let filler = RawEvent(timePs: 0, detector: 0)
            let wanted = Swift.max(expected, countA + 1_024, countB + 1_024)
            if outA.count < wanted { outA.append(contentsOf: repeatElement(filler, count: Swift.max(wanted, 2 * outA.count) - outA.count)) }
            if outB.count < wanted { outB.append(contentsOf: repeatElement(filler, count: Swift.max(wanted, 2 * outB.count) - outB.count)) }
            let budget = Swift.min(outA.count - countA, outB.count - countB)
            outcomes.entries.withUnsafeBufferPointer { table in
                outA.withUnsafeMutableBufferPointer { bufferA in
                    outB.withUnsafeMutableBufferPointer { bufferB in
                        let row = UnsafeBufferPointer(rebasing: table[rowStart..<rowStart + PairOutcomeTable.columns])
                        (countA, countB) = loop.run(row: row, offset: &offset, sampler: &sampler, a: bufferA, countA: countA,
                                                    b: bufferB, countB: countB, budget: budget)
                    }
                }
            }
        }
        emission = sampler
        signalA = outA
        signalB = outB
        signalCountA = countA
        signalCountB = countB
    }

    /// The ground truth (wander knots as far as the run has gone).
    public func groundTruth() -> GroundTruth {
        func truth(_ stream: DetectorStream, _ lab: PairSourceLab) -> StreamTruth {
            StreamTruth(role: stream.role, channels: stream.channels, delayPs: lab.fibreDelayPs, clock: lab.clock,
                        clockJumps: scenario.faults.clockJumps(stream: stream.role),
                        wanderKnotsPs: stream.wanderKnotsPs, bases: lab.bases.bases)
        }
        return GroundTruth(kind: "pairSource", seed: options.seed, durationPs: options.durationPs,
                           streams: [truth(streamA, scenario.labA), truth(streamB, scenario.labB)],
                           faults: sortedFaults, pairSourceSegments: segments, heraldedSegments: nil,
                           targetState: scenario.state, attemptPeriodPs: nil)
    }
}
