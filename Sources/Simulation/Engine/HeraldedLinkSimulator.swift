import Foundation
import TimeTags

/// Streams the tags of a ``HeraldedLinkScenario``: the station's detector clicks and herald
/// markers, and each node's readout events, window by window.
public struct HeraldedLinkSimulator: Sequence, IteratorProtocol, Sendable {
    /// The scenario being simulated.
    public let scenario: HeraldedLinkScenario
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
    private let periodPs: Int64
    private let isBarrettKok: Bool
    private let roundSeparationPs: Int64
    private let sortedFaults: [ScheduledFault]
    private let segments: [HeraldedTruthSegment]

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
        let first = Self.parameters(scenario, at: 0)
        let firstTables = Self.tables(scenario, first)
        let clickRate = scenario.attemptRateHz * (1 - firstTables.outcomeProbabilities[0]) * 2 + 1
        planner = WindowPlanner(durationPs: options.durationPs, lengthPs: options.windowLengthPs(totalTagRateHz: clickRate),
                                changePoints: changePoints)
        let boundaries = WindowPlanner(durationPs: options.durationPs, lengthPs: 1,
                                       changePoints: scenario.faults.changeTimes(stream: nil) + scenario.faults.changeTimes(stream: .station))
            .segmentBoundaries
        segments = zip(boundaries, boundaries.dropFirst()).map { start, end in
            Self.truthSegment(scenario, startPs: start, endPs: end)
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
        switch s.heraldingProtocol {
        case .singleClick(let alpha): return HeraldModel.singleClick(alpha: alpha, p)
        case .barrettKok: return HeraldModel.barrettKok(p)
        }
    }

    private static func truthSegment(_ s: HeraldedLinkScenario, startPs: Int64, endPs: Int64) -> HeraldedTruthSegment {
        let p = parameters(s, at: startPs)
        let t = tables(s, p)
        func correlations(_ rho: TwoQubitDensityMatrix) -> [BasisPairTruth] {
            var result: [BasisPairTruth] = []
            for (i, a) in s.nodeA.bases.bases.enumerated() {
                for (j, b) in s.nodeB.bases.bases.enumerated() {
                    result.append(BasisPairTruth(basisA: i, basisB: j, correlation: rho.correlation(basisA: a, basisB: b)))
                }
            }
            return result
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
        var attempt = (startPs + periodPs - 1) / periodPs
        let logNoClick = log1p(-pAny)
        while true {
            let skip = pAny >= 1 ? 0 : attempts.geometricFailures(logFailureProbability: logNoClick)
            guard skip < (endPs / periodPs) + 2 - attempt else { break }
            attempt += skip
            let t = attempt * periodPs
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
            let row = ((herald - 1) * basisPairs + basisA.index(at: tA) * basesB + basisB.index(at: tB)) * 3
            let v = readout.uniform()
            let joint = v < born[row] ? 0 : (v < born[row + 1] ? 1 : (v < born[row + 2] ? 2 : 3))
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
            attemptPeriodPs: periodPs)
    }
}
