import Correlation
import Foundation
import Monitoring
import Simulation
import TimeTags

/// Runs the pair-source simulator and turns its tag streams into one ``LinkObservation`` per simulated
/// second with Correlation's streaming counters and rolling windows, as a coordinator would.
///
/// Lab A records on channels 1 (+) and 2 (−), lab B on 3 (+) and 4 (−). Both labs alternate Z and X
/// every second, so the fidelity lower bound (E_z + E_x)/2 to Φ⁺ comes from the rolling Z and X cells.
/// The clock residual is the coincidence-peak position (per second, from lag histograms) minus the
/// calibrated offset.
struct SimulatedLinkHarness {
    /// One simulated stretch; times of later segments are shifted to follow the earlier ones.
    struct Segment {
        var scenario: PairSourceScenario
        var durationPs: Int64
    }

    static let second: Int64 = 1_000_000_000_000
    static let basisPeriodPs: Int64 = second

    var segments: [Segment]
    var seed: UInt64 = 11
    var windowPs: Int64 = 10 * second
    /// Calibrated lag t_B − t_A of true coincidences.
    var nominalLagPs: Int64
    var coincidenceHalfWidthPs: Int64 = 1000
    var histogramRangePs: Int64 = 50_000
    var histogramBinPs: Int64 = 100

    /// Lab detectors with Z/X alternation every second.
    static func lab(transmission: Double, efficiency: Double, darkHz: Double, delayPs: Int64, plus: Int32, minus: Int32) -> PairSourceLab {
        PairSourceLab(armTransmission: transmission, fibreDelayPs: delayPs,
                      detector: DetectorModel(efficiency: efficiency, darkCountRateHz: darkHz, jitterSigmaPs: 40),
                      channels: OutcomeChannels(plus: plus, minus: minus),
                      bases: BasisSchedule(bases: [.z, .x], periodPs: basisPeriodPs))
    }

    /// Runs every segment and calls `observe` once per simulated second.
    func run(_ observe: (LinkObservation) throws -> Void) throws {
        let pairs = [(Int32(1), Int32(3)), (1, 4), (2, 3), (2, 4)]
        let specs = try pairs.map { pair throws -> CoincidenceSpec in
            CoincidenceSpec(ChannelPair(pair.0, pair.1),
                            window: try CoincidenceWindow(halfWidthPs: coincidenceHalfWidthPs, centerPs: nominalLagPs))
        }
        var counter = try CoincidenceCounter(specs: specs)
        var histograms = try HistogramBuilder(histograms: pairs.map { pair in
            try CorrelationHistogram(pair: ChannelPair(pair.0, pair.1), startPs: nominalLagPs - histogramRangePs,
                                     binWidthPs: histogramBinPs, binCount: Int(2 * histogramRangePs / histogramBinPs))
        })
        var rolling = try RollingCounter(windowPs: windowPs, binCount: Int(windowPs / Self.second))
        var previousCells = [Int64](repeating: 0, count: 4)
        var previousHistogram = [Int64](repeating: 0, count: Int(2 * histogramRangePs / histogramBinPs))
        var nextSecond = Self.second
        var pending = TagBatch()
        var offsetPs: Int64 = 0

        func closeSecond(_ end: Int64) throws {
            // Everything before `end` has been read: count it and publish the window.
            try counter.process(pending)
            try histograms.process(pending)
            for channel in pending.channels { rolling.record("ch\(channel)", atPs: end - 1) }
            pending = TagBatch()
            let cells = counter.counts
            let basis = ((end - 1) / Self.basisPeriodPs) % 2 == 0 ? "z" : "x"
            for (index, name) in ["pp", "pm", "mp", "mm"].enumerated() {
                rolling.record(basis + name, count: cells[index] - previousCells[index], atPs: end - 1)
            }
            previousCells = cells
            var lagCounts = [Int64](repeating: 0, count: previousHistogram.count)
            for histogram in histograms.histograms {
                for (index, value) in histogram.counts.enumerated() { lagCounts[index] += value }
            }
            let thisSecond = zip(lagCounts, previousHistogram).map { $0 - $1 }
            previousHistogram = lagCounts
            rolling.advance(toPs: end - 1)
            guard end >= windowPs else {
                // The rolling window is not full yet: rates over it would read low.
                try observe(LinkObservation(timePs: end, nodeLastSeenPs: ["alice-node": end, "bob-node": end]))
                return
            }
            try observe(observation(at: end, rolling: rolling, lagCounts: thisSecond))
        }

        for segment in segments {
            var simulator = try LinkSimulator(scenario: .pairSource(segment.scenario),
                                              options: SimulationOptions(durationPs: segment.durationPs, seed: seed &+ UInt64(offsetPs / Self.second),
                                                                         targetTagsPerStep: 4096))
            // Collect the segment, then walk it in time order (the two labs' chunks of one step are not
            // mutually ordered with the next step's).
            var merged: [(Int64, Int32)] = []
            while let step = simulator.next() {
                for chunk in step.chunks where chunk.role == .labA || chunk.role == .labB {
                    for (time, channel) in zip(chunk.batch.timesPs, chunk.batch.channels) { merged.append((time + offsetPs, channel)) }
                }
            }
            merged.sort { $0.0 < $1.0 }
            for (time, channel) in merged {
                while time >= nextSecond {
                    try closeSecond(nextSecond)
                    nextSecond += Self.second
                }
                pending.timesPs.append(time)
                pending.channels.append(channel)
            }
            offsetPs += segment.durationPs
            while nextSecond <= offsetPs {
                try closeSecond(nextSecond)
                nextSecond += Self.second
            }
        }
    }

    private func observation(at end: Int64, rolling: RollingCounter, lagCounts: [Int64]) -> LinkObservation {
        var observation = LinkObservation(timePs: end)
        let windowS = Double(windowPs) / Double(Self.second)
        for channel in Int32(1)...4 { observation.channelRatesHz[Int(channel)] = rolling.rateHz("ch\(channel)") }
        let singlesA = rolling.total("ch1") + rolling.total("ch2")
        let singlesB = rolling.total("ch3") + rolling.total("ch4")
        observation.armRatesHz = ["a": Double(singlesA) / windowS, "b": Double(singlesB) / windowS]
        let coincidences = ["z", "x"].flatMap { basis in ["pp", "pm", "mp", "mm"].map { rolling.total(basis + $0) } }.reduce(0, +)
        observation.coincidenceRateHz = Estimate(Double(coincidences) / windowS, standardError: max(1, Double(coincidences)).squareRoot() / windowS)
        if let accidentals = try? Accidentals.fromSingles(singlesA: max(1, singlesA), singlesB: max(1, singlesB),
                                                           windowPs: 2 * coincidenceHalfWidthPs + 1, durationPs: windowPs) {
            observation.accidentalRateHz = Estimate(accidentals.value / windowS, standardError: accidentals.standardError / windowS)
            if let car = try? Accidentals.car(raw: coincidences, accidentals: accidentals) {
                observation.car = Estimate(car.value, standardError: car.standardError)
            }
        }
        var correlations: [Estimate] = []
        for basis in ["z", "x"] {
            let counts = JointCounts(plusPlus: Double(rolling.total(basis + "pp")), plusMinus: Double(rolling.total(basis + "pm")),
                                     minusPlus: Double(rolling.total(basis + "mp")), minusMinus: Double(rolling.total(basis + "mm")))
            if let e = try? BellEstimators.correlation(raw: counts) {
                correlations.append(e)
                observation.visibility[basis] = Estimate(abs(e.value), standardError: e.standardError)
            }
        }
        if correlations.count == 2 {
            let bound = BellEstimators.fidelityLowerBound(to: .phiPlus, z: correlations[0], x: correlations[1])
            observation.fidelity = Estimate(bound.value, standardError: bound.standardError)
        }
        // Clock: centroid of the lag peak this second, against the calibrated offset.
        if let peak = lagCounts.indices.max(by: { lagCounts[$0] < lagCounts[$1] }), lagCounts[peak] >= 3 {
            var sum = 0.0, weight = 0.0
            for index in max(0, peak - 3)...min(lagCounts.count - 1, peak + 3) {
                let center = Double(nominalLagPs - histogramRangePs) + (Double(index) + 0.5) * Double(histogramBinPs)
                sum += center * Double(lagCounts[index])
                weight += Double(lagCounts[index])
            }
            let offset = sum / weight
            observation.clockOffsetPs = offset
            observation.clockResidualPs = offset - Double(nominalLagPs)
        }
        observation.nodeLastSeenPs = ["alice-node": end, "bob-node": end]
        return observation
    }
}
