import Foundation
import LinkModel
import TimeTags

/// Streams the tags of a ``HeraldedLinkScenario``: the station's detector clicks and herald
/// markers, and each node's readout events, window by window.
public struct HeraldedLinkSimulator: Sequence, IteratorProtocol, Sendable {
    /// The scenario in force (it changes at the times given to ``changeScenario(to:fromPs:)``).
    public private(set) var scenario: HeraldedLinkScenario
    /// The run options.
    public let options: SimulationOptions

    private var planner: WindowPlanner
    private var attempts: DistributionSampler
    private var readout: DistributionSampler
    private var streamA: DetectorStream
    private var streamB: DetectorStream
    private var station: DetectorStream
    private var basisA: BasisCursor
    private var basisB: BasisCursor
    private var signalA: [RawEvent] = []
    private var signalB: [RawEvent] = []
    private var signalStation: [RawEvent] = []
    private var finished = false
    private var periodPs: Int64
    /// Attempts are at `gridOriginPs + k × periodPs` (the origin moves to the time of a rate change).
    private var gridOriginPs: Int64 = 0
    private let isBarrettKok: Bool
    private var roundSeparationPs: Int64
    private let sortedFaults: [ScheduledFault]
    /// Every scenario of the run with the time it takes effect (the first at 0), in time order.
    private var schedule: [(fromPs: Int64, scenario: HeraldedLinkScenario)]
    /// Scheduled changes not yet in force.
    private var pendingChanges = 0
    /// The memories and distillation, when the scenario has them.
    private var distillation: DistillationStage?

    /// A simulator; throws ``SimulationError`` for an invalid scenario or options.
    public init(scenario: HeraldedLinkScenario, options: SimulationOptions) throws {
        try scenario.validate()
        try options.validate()
        self.scenario = scenario
        self.options = options
        let seed = options.seed
        periodPs = scenario.attemptPeriodPs
        switch scenario.heraldingProtocol {
        case .singleClick: isBarrettKok = false; roundSeparationPs = 0
        case .barrettKok(let separation): isBarrettKok = true; roundSeparationPs = separation
        }
        sortedFaults = scenario.faults.faults.sorted { $0.atPs < $1.atPs }
        attempts = DistributionSampler(seed: seed, stream: RandomStream.emission.rawValue)
        readout = DistributionSampler(seed: seed, stream: RandomStream.readout.rawValue)
        func node(_ role: StreamRole, _ n: HeraldedNode, detector: RandomStream, clock: RandomStream) -> DetectorStream {
            DetectorStream(
                role: role, channels: [n.readoutChannels.plus, n.readoutChannels.minus], model: .ideal,
                freeRunningDarkRateHz: 0, shiftPs: n.fibreDelayPs + n.readoutDelayPs,
                clock: ClockState(model: n.clock, jumps: scenario.faults.clockJumps(stream: role),
                                  rng: DistributionSampler(seed: seed, stream: clock.rawValue)),
                rng: DistributionSampler(seed: seed, stream: detector.rawValue))
        }
        streamA = node(.labA, scenario.nodeA, detector: .detectorA, clock: .clockA)
        streamB = node(.labB, scenario.nodeB, detector: .detectorB, clock: .clockB)
        station = DetectorStream(
            role: .station, channels: [scenario.station.channels.plus, scenario.station.channels.minus],
            model: scenario.station.detector, freeRunningDarkRateHz: 0, shiftPs: 0,
            clock: ClockState(model: scenario.station.clock, jumps: scenario.faults.clockJumps(stream: .station),
                              rng: DistributionSampler(seed: seed, stream: RandomStream.clockStation.rawValue)),
            rng: DistributionSampler(seed: seed, stream: RandomStream.detectorStation.rawValue))
        basisA = BasisCursor(schedule: scenario.nodeA.bases, seed: SplitMix64.mix(seed ^ RandomStream.scheduleA.rawValue))
        basisB = BasisCursor(schedule: scenario.nodeB.bases, seed: SplitMix64.mix(seed ^ RandomStream.scheduleB.rawValue))

        var changePoints = scenario.faults.changeTimes(stream: nil) + scenario.faults.changeTimes(stream: .station)
        changePoints += scenario.faults.changeTimes(stream: .labA).map { $0 - scenario.nodeA.fibreDelayPs - scenario.nodeA.readoutDelayPs }
        changePoints += scenario.faults.changeTimes(stream: .labB).map { $0 - scenario.nodeB.fibreDelayPs - scenario.nodeB.readoutDelayPs }
        planner = WindowPlanner(durationPs: options.durationPs, lengthPs: options.windowLengthPs(totalTagRateHz: Self.clickRateHz(scenario)),
                                changePoints: changePoints)
        schedule = [(0, scenario)]
        distillation = scenario.distillation.map { DistillationStage($0, seed: seed) }
    }

    /// Expected station clicks per second, about (sets the window length).
    private static func clickRateHz(_ scenario: HeraldedLinkScenario) -> Double {
        let tables = Self.tables(scenario, Self.parameters(scenario, at: 0))
        return scenario.attemptRateHz * (1 - tables.outcomeProbabilities[0]) * 2 + 1
    }

    /// The truth segments: one per span of constant parameters (faults and scenario changes).
    private var segments: [HeraldedTruthSegment] {
        let boundaries = WindowPlanner(durationPs: options.durationPs, lengthPs: 1,
                                       changePoints: scenario.faults.changeTimes(stream: nil) + scenario.faults.changeTimes(stream: .station)
                                           + schedule.dropFirst().map(\.fromPs))
            .segmentBoundaries
        return zip(boundaries, boundaries.dropFirst()).map { start, end in
            let inForce = schedule.last { $0.fromPs <= start }?.scenario ?? schedule[0].scenario
            return Self.truthSegment(inForce, startPs: start, endPs: end)
        }
    }

    /// End of the windows generated so far: a change can take effect at this time or later.
    public var generatedThroughPs: Int64 { planner.cursorPs }

    /// Runs the link with `newScenario`'s operating point (attempt rate, round separation, visibility, arm
    /// efficiencies, noise per attempt, readout fidelities, retained coherence) from the first attempt of
    /// the current attempt grid at or after `fromPs`; from there attempts follow the new period. Windows
    /// split there; time and the random streams continue. Deterministic for a seed and a schedule of changes.
    /// - Returns: the link time the change takes effect (`fromPs` moved up onto the attempt grid).
    /// - Throws: ``SimulationError`` when `fromPs` lies before ``generatedThroughPs`` or an earlier change,
    ///   or when anything else differs (protocol, channels, delays, station detectors, clocks, bases, faults).
    @discardableResult
    public mutating func changeScenario(to newScenario: HeraldedLinkScenario, fromPs: Int64) throws -> Int64 {
        try newScenario.validate()
        let last = schedule[schedule.count - 1]
        try ScenarioChangeCheck.time(fromPs, generatedThroughPs: generatedThroughPs, lastChangePs: last.fromPs)
        var comparable = newScenario
        comparable.attemptRateHz = last.scenario.attemptRateHz
        if case .barrettKok = newScenario.heraldingProtocol, case .barrettKok = last.scenario.heraldingProtocol {
            comparable.heraldingProtocol = last.scenario.heraldingProtocol
        }
        comparable.visibility = last.scenario.visibility
        for (node, old) in [(\HeraldedLinkScenario.nodeA, last.scenario.nodeA), (\.nodeB, last.scenario.nodeB)] {
            comparable[keyPath: node].armEfficiency = old.armEfficiency
            comparable[keyPath: node].noisePhotonsPerAttempt = old.noisePhotonsPerAttempt
            comparable[keyPath: node].readoutFidelity = old.readoutFidelity
            comparable[keyPath: node].coherenceRetained = old.coherenceRetained
        }
        guard comparable == last.scenario else { throw ScenarioChangeCheck.structureChanged }
        // Attempts of the grid in force run on until the change: the new grid starts at its next attempt.
        let period = last.scenario.attemptPeriodPs
        let steps = (fromPs - last.fromPs + period - 1) / period
        let (offset, overflow) = steps.multipliedReportingOverflow(by: period)
        let effective = overflow ? Int64.max : last.fromPs &+ offset
        schedule.append((effective, newScenario))
        pendingChanges += 1
        planner.insertChangePoint(effective)
        return effective
    }

    /// Puts the scheduled changes due at the planner's cursor in force.
    private mutating func applyDueChanges() {
        while pendingChanges > 0 {
            let next = schedule[schedule.count - pendingChanges]
            guard next.fromPs <= planner.cursorPs else { return }
            scenario = next.scenario
            gridOriginPs = next.fromPs
            periodPs = scenario.attemptPeriodPs
            if case .barrettKok(let separation) = scenario.heraldingProtocol { roundSeparationPs = separation }
            planner.lengthPs = options.windowLengthPs(totalTagRateHz: Self.clickRateHz(scenario))
            pendingChanges -= 1
        }
    }

    /// Station parameters in force at attempt time `timePs`.
    private static func parameters(_ s: HeraldedLinkScenario, at timePs: Int64) -> HeraldParameters {
        let detectorEfficiency = s.station.detector.efficiency
        let noiseMean = detectorEfficiency * (s.nodeA.noisePhotonsPerAttempt + s.nodeB.noisePhotonsPerAttempt) / 2
            + s.station.detector.darkCountRateHz * Double(s.station.detectionWindowPs) * 1e-12
        let live = (0..<2).map { !s.faults.isDark(stream: .station, detector: $0, atTimePs: timePs) }
        return HeraldParameters(
            etaA: s.nodeA.armEfficiency * detectorEfficiency * s.faults.lossFactor(arm: .a, atTimePs: timePs),
            etaB: s.nodeB.armEfficiency * detectorEfficiency * s.faults.lossFactor(arm: .b, atTimePs: timePs),
            visibility: s.faults.visibility(initial: s.visibility, atTimePs: timePs),
            noiseClick: [-expm1(-noiseMean), -expm1(-noiseMean)], live: live,
            coherenceRetained: s.nodeA.coherenceRetained * s.nodeB.coherenceRetained)
    }

    private static func tables(_ s: HeraldedLinkScenario, _ p: HeraldParameters) -> HeraldTables {
        var tables: HeraldTables
        switch s.heraldingProtocol {
        case .singleClick(let alpha): tables = HeraldModel.singleClick(alpha: alpha, p)
        case .barrettKok: tables = HeraldModel.barrettKok(p)
        }
        // The configured phase, rotation and damping act on the heralded states (trace-preserving: the
        // herald probabilities stay).
        if s.preparation != .none {
            tables.psiPlus = s.preparation.apply(to: tables.psiPlus)
            tables.psiMinus = s.preparation.apply(to: tables.psiMinus)
        }
        return tables
    }

    private static func truthSegment(_ s: HeraldedLinkScenario, startPs: Int64, endPs: Int64) -> HeraldedTruthSegment {
        let p = parameters(s, at: startPs)
        let t = tables(s, p)
        func correlations(_ rho: ComplexMatrix4) -> [BasisPairTruth] {
            BasisPairTruth.table(rho, basesA: s.nodeA.bases.bases, basesB: s.nodeB.bases.bases)
        }
        let plus = t.psiPlus.trace
        let minus = t.psiMinus.trace
        return HeraldedTruthSegment(
            startPs: startPs, endPs: endPs, visibility: p.visibility, detectionProbabilityA: p.etaA,
            detectionProbabilityB: p.etaB, noiseClickProbability: p.noiseClick, psiPlusProbability: plus,
            psiMinusProbability: minus, heraldProbability: plus + minus, heraldRateHz: (plus + minus) * s.attemptRateHz,
            fidelityPsiPlus: t.psiPlus.fidelity(with: .psiPlus), fidelityPsiMinus: t.psiMinus.fidelity(with: .psiMinus),
            statePsiPlus: t.psiPlus.normalized, statePsiMinus: t.psiMinus.normalized,
            correlationsPsiPlus: correlations(t.psiPlus), correlationsPsiMinus: correlations(t.psiMinus))
    }

    /// Cumulative Born table per herald class (index 0: Ψ+, 1: Ψ−) and basis pair.
    private func bornTable(_ t: HeraldTables) -> [Double] {
        [t.psiPlus, t.psiMinus].flatMap {
            $0.cumulativeOutcomeTable(basesA: scenario.nodeA.bases.bases, basesB: scenario.nodeB.bases.bases)
        }
    }

    /// The next step, or `nil` after the final one.
    public mutating func next() -> SimulationStep? {
        applyDueChanges()
        guard !finished, let (start, end) = planner.next() else { return nil }
        generateAttempts(startPs: start, endPs: end)
        let shiftA = streamA.shiftPs
        let shiftB = streamB.shiftPs
        basisA.emitMarkers(startPs: start + shiftA, endPs: end + shiftA, into: &streamA)
        basisB.emitMarkers(startPs: start + shiftB, endPs: end + shiftB, into: &streamB)
        streamA.process(signal: signalA, startPs: start + shiftA, endPs: end + shiftA, dark: scenario.faults.darkMask(stream: .labA, atTimePs: start + shiftA))
        streamB.process(signal: signalB, startPs: start + shiftB, endPs: end + shiftB, dark: scenario.faults.darkMask(stream: .labB, atTimePs: start + shiftB))
        // Station darkness is part of the click model (dark detectors never click).
        station.process(signal: signalStation, startPs: start, endPs: end, dark: 0)
        let isFinal = end >= options.durationPs
        if isFinal { finished = true }
        let record = options.recordTrueTimes
        let chunks = [
            streamA.emit(arrivalFloorPs: isFinal ? nil : end + shiftA, recordTrueTimes: record),
            streamB.emit(arrivalFloorPs: isFinal ? nil : end + shiftB, recordTrueTimes: record),
            station.emit(arrivalFloorPs: isFinal ? nil : end, recordTrueTimes: record),
        ]
        return SimulationStep(startPs: start, endPs: end, chunks: chunks, isFinal: isFinal)
    }

    /// Attempts in [start, end) with at least one click, skipped to geometrically.
    private mutating func generateAttempts(startPs: Int64, endPs: Int64) {
        signalA.removeAll(keepingCapacity: true)
        signalB.removeAll(keepingCapacity: true)
        signalStation.removeAll(keepingCapacity: true)
        let tables = Self.tables(scenario, Self.parameters(scenario, at: startPs))
        let pAny = 1 - tables.outcomeProbabilities[0]
        guard pAny > 1e-300 else { return }
        var cumulative: [Double] = []
        var sum = 0.0
        for p in tables.outcomeProbabilities.dropFirst() { sum += p / pAny; cumulative.append(sum) }
        let born = bornTable(tables)
        let basesB = scenario.nodeB.bases.bases.count
        let basisPairs = scenario.nodeA.bases.bases.count * basesB
        let flipA = 1 - scenario.nodeA.readoutFidelity
        let flipB = 1 - scenario.nodeB.readoutFidelity
        let shiftA = streamA.shiftPs
        let shiftB = streamB.shiftPs
        let markers = scenario.station.heraldMarkers
        let heraldedStates = distillation == nil ? [] : [tables.psiPlus.normalized, tables.psiMinus.normalized]
        // Attempt k of the grid in force is at origin + k × period (windows never start before the origin).
        let origin = gridOriginPs
        var attempt = (startPs - origin + periodPs - 1) / periodPs
        let logNoClick = log1p(-pAny)
        while true {
            let skip = pAny >= 1 ? 0 : attempts.geometricFailures(logFailureProbability: logNoClick)
            guard skip < ((endPs - origin) / periodPs) + 2 - attempt else { break }
            attempt += skip
            let t = origin + attempt * periodPs
            guard t < endPs else { break }
            attempt += 1
            let u = attempts.uniform()
            var outcome = cumulative.count
            for (index, threshold) in cumulative.enumerated() where u < threshold { outcome = index + 1; break }
            if isBarrettKok {
                appendClicks(pattern: outcome >> 2, at: t)
                appendClicks(pattern: outcome & 3, at: t + roundSeparationPs)
            } else {
                appendClicks(pattern: outcome, at: t)
            }
            let herald = HeraldTables.herald(outcome: outcome, isBarrettKok: isBarrettKok)
            guard herald != 0 else { continue }
            if markers { station.addMarker(truePs: t, marker: scenario.station.heraldMarkerBase &+ Int32(herald)) }
            let tA = t + shiftA
            let tB = t + shiftB
            var table = born
            var row = ((herald - 1) * basisPairs + basisA.index(at: tA) * basesB + basisB.index(at: tB)) * 3
            if distillation != nil {
                // Pairs go to the memories; the nodes read out only distilled pairs, at the last herald's readout time.
                guard let pair = distillation!.herald(timePs: t, heraldClass: herald, state: heraldedStates[herald - 1],
                                                      originPs: origin, periodPs: periodPs) else { continue }
                table = pair.state.cumulativeOutcomeTable(basesA: scenario.nodeA.bases.bases, basesB: scenario.nodeB.bases.bases)
                row = (basisA.index(at: tA) * basesB + basisB.index(at: tB)) * 3
            }
            let v = readout.uniform()
            let joint = v < table[row] ? 0 : (v < table[row + 1] ? 1 : (v < table[row + 2] ? 2 : 3))
            var outcomeA = joint >> 1
            var outcomeB = joint & 1
            if readout.uniform() < flipA { outcomeA ^= 1 }
            if readout.uniform() < flipB { outcomeB ^= 1 }
            signalA.append(RawEvent(timePs: tA, detector: Int32(outcomeA)))
            signalB.append(RawEvent(timePs: tB, detector: Int32(outcomeB)))
        }
    }

    private mutating func appendClicks(pattern: Int, at timePs: Int64) {
        if pattern & 1 != 0 { signalStation.append(RawEvent(timePs: timePs, detector: 0)) }
        if pattern & 2 != 0 { signalStation.append(RawEvent(timePs: timePs, detector: 1)) }
    }

    /// The ground truth (wander knots as far as the run has gone).
    public func groundTruth() -> GroundTruth {
        func truth(_ stream: DetectorStream, bases: [MeasurementBasis], clock: ClockModel) -> StreamTruth {
            StreamTruth(role: stream.role, channels: stream.channels, delayPs: stream.shiftPs, clock: clock,
                        clockJumps: scenario.faults.clockJumps(stream: stream.role),
                        wanderKnotsPs: stream.wanderKnotsPs, bases: bases)
        }
        return GroundTruth(
            kind: "heraldedLink", seed: options.seed, durationPs: options.durationPs,
            streams: [truth(streamA, bases: scenario.nodeA.bases.bases, clock: scenario.nodeA.clock),
                      truth(streamB, bases: scenario.nodeB.bases.bases, clock: scenario.nodeB.clock),
                      truth(station, bases: [], clock: scenario.station.clock)],
            faults: sortedFaults, pairSourceSegments: nil, heraldedSegments: segments, targetState: nil,
            attemptPeriodPs: schedule[0].scenario.attemptPeriodPs, distillation: distillation?.truth)
    }
}
