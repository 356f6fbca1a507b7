import TimeTags
import LinkModel

/// The heralded state a herald announces (ψ⁺ or ψ⁻), for the herald-conditioned analysis.
public enum HeraldType: Int, Sendable, CaseIterable {
    case psiPlus = 0, psiMinus = 1

    /// The Bell state the labs' qubits should be in after such a herald.
    public var bellState: BellState { self == .psiPlus ? .psiPlus : .psiMinus }
}

/// Live analysis of a heralded link: correlates each lab's qubit readout with the herald it belongs to and
/// counts the joint outcomes per herald type (ψ⁺, ψ⁻) and basis combination, so each herald type is
/// compared with its own target state (ψ⁺ and ψ⁻ differ in the sign of the XX and YY correlations).
///
/// Each lab records its readout a fixed lag after the attempt time of its herald (fibre delay, classical
/// latency, readout delay, plus the clock offset of its tagger). The lags are found from the data
/// (``HeraldLagSearch`` on the first heralds and readouts) and then followed herald by herald (each matched
/// readout pulls the lag by `trackingGain` of its residual), so slowly drifting clocks stay locked. After
/// `lostLockHeralds` heralds in a row without a readout of one lab near its expected time (a clock step), the
/// lags are searched again (``relocks``).
/// A herald counts when each lab has exactly one readout within ±`windowHalfWidthPs` of its expected time.
/// Input: heralds (attempt times on the station's axis, lab A's stream) and basis-labelled readouts of both
/// labs (virtual channels of ``OutcomeChannels``), each in time order and on lab A's axis: inside ``LinkAnalysis``
/// lab B's readouts come through the clock recovered from the readouts of both labs, so the lags are the fixed
/// delays of each lab's path and the clock relation (offset, drift, their errors) is the engine's. Heralds before
/// a lab's first readout (before the clock locked) count as analysed but not as misses. Memory: the events not
/// yet analysed.
public struct HeraldedAnalysis: Sendable {
    /// The labelled outcome channels (bases) of the readouts.
    public let outcomeChannels: OutcomeChannels
    /// Readout acceptance half width around the expected time, ps.
    public var windowHalfWidthPs: Int64
    /// Largest lag between a herald and a readout searched, ps.
    public var maxLagPs: Int64
    /// Heralds (and readouts per lab) needed before the lag search runs.
    public var searchEvents = 100
    /// Fraction of a matched readout's residual added to its lab's lag.
    public var trackingGain = 0.1

    private var heralds: [(timePs: Int64, state: HeraldType)] = []
    private var heraldStart = 0
    private var readouts: [[(timePs: Int64, channel: TagChannel)]] = [[], []]
    private var readoutStart = [0, 0]
    /// Latest time each input covers (heralds: lab A's stream; readouts: each lab's stream, on lab A's axis in the engine).
    private var coveredPs: [Int64] = [.min, .min, .min]
    /// Time of each lab's first readout input (its stream starts there: no misses before).
    private var startPs: [Int64?] = [nil, nil]
    private var lagPs: [Double]?
    private var searchedAtHeralds = 0
    /// Consecutive analysed heralds without any readout of a lab near its expected time.
    private var missesInARow = [0, 0]
    /// Heralds in a row without a readout of one lab after which its lock counts as lost and the lags are searched again.
    public var lostLockHeralds = 50
    /// How many times the lags were searched again after lock was lost.
    public private(set) var relocks = 0
    /// Events dropped because the other inputs stopped covering them (a silent lab), to keep memory bounded.
    public private(set) var droppedEvents: Int64 = 0
    /// Largest number of pending heralds or readouts per lab kept while waiting for the other inputs.
    public var maxPendingEvents = 500_000
    /// Counts: [state][basisA][basisB][cell], cell = 2·outcomeA + outcomeB.
    private var cells: [Int64]
    /// Heralds analysed per state, and of those with exactly one readout in each lab.
    public private(set) var heraldsAnalysed = [Int64](repeating: 0, count: 2)
    /// Heralds per state (ψ⁺, ψ⁻) whose readouts both labs recorded (one each within the window).
    public private(set) var heraldsWithReadouts = [Int64](repeating: 0, count: 2)
    /// Attempt time of the latest analysed herald.
    public private(set) var analysedThroughPs: Int64 = .min
    /// Attempt time of the first analysed herald.
    public private(set) var firstAnalysedPs: Int64?
    /// An analysis of readouts labelled with `outcomeChannels`.
    public init(outcomeChannels: OutcomeChannels, windowHalfWidthPs: Int64, maxLagPs: Int64) {
        self.outcomeChannels = outcomeChannels
        self.windowHalfWidthPs = max(1, windowHalfWidthPs)
        self.maxLagPs = max(1, maxLagPs)
        cells = [Int64](repeating: 0, count: 2 * outcomeChannels.bases.count * outcomeChannels.bases.count * 4)
    }

    /// The lags of lab A's and lab B's readouts after their herald's attempt time, ps (nil until found).
    public var lagsPs: (a: Int64, b: Int64)? {
        lagPs.map { (Int64($0[0].rounded()), Int64($0[1].rounded())) }
    }

    /// Adds successful heralds in time order and the time lab A's stream (which carries the station) now covers.
    public mutating func addHeralds(_ new: [(timePs: Int64, state: HeraldType)], coveredThroughPs: Int64?) {
        for herald in new where herald.timePs > (heralds.last?.timePs ?? .min) && herald.timePs > analysedThroughPs {
            heralds.append(herald)
        }
        if let coveredThroughPs { coveredPs[2] = max(coveredPs[2], coveredThroughPs) }
        advance()
    }

    /// Adds labelled readouts of lab 0 (A) or 1 (B) in time order, covering its stream through `coveredThroughPs`.
    public mutating func addReadouts(lab: Int, _ batch: TagBatch, coveredThroughPs: Int64?) {
        guard lab == 0 || lab == 1 else { return }
        let side: LabSide = lab == 0 ? .a : .b
        for index in 0..<batch.count {
            guard let decoded = outcomeChannels.decode(batch.channels[index]), decoded.side == side else { continue }
            let time = batch.timesPs[index]
            if let last = readouts[lab].last, time < last.timePs { continue }
            readouts[lab].append((time, batch.channels[index]))
        }
        if startPs[lab] == nil { startPs[lab] = batch.timesPs.first }
        if let coveredThroughPs { coveredPs[lab] = max(coveredPs[lab], coveredThroughPs) }
        advance()
    }

    private mutating func advance() {
        if lagPs == nil { search() }
        if lagPs != nil {
            analyse()
            // A lost lock ends the pass: search again at once on what is pending.
            if lagPs == nil { search(); if lagPs != nil { analyse() } }
        }
        compact()
    }

    /// Finds each lab's lag once enough heralds and readouts are there; keeps the buffers bounded meanwhile.
    private mutating func search() {
        let pendingHeralds = heralds.count - heraldStart
        guard pendingHeralds >= searchEvents, pendingHeralds >= searchedAtHeralds + searchEvents,
              readouts[0].count - readoutStart[0] >= searchEvents, readouts[1].count - readoutStart[1] >= searchEvents else { return }
        searchedAtHeralds = pendingHeralds
        let heraldTimes = heralds[heraldStart...].map(\.timePs)
        let binPs = max(16 * windowHalfWidthPs, 10_000)
        guard let a = HeraldLagSearch.find(heralds: heraldTimes, readouts: readouts[0][readoutStart[0]...].map(\.timePs),
                                           maxLagPs: maxLagPs, binPs: binPs),
              let b = HeraldLagSearch.find(heralds: heraldTimes, readouts: readouts[1][readoutStart[1]...].map(\.timePs),
                                           maxLagPs: maxLagPs, binPs: binPs) else {
            // Not found yet: keep the latest events only.
            let keep = 20 * searchEvents
            if heralds.count - heraldStart > keep { heraldStart = heralds.count - keep; searchedAtHeralds = keep }
            for lab in 0..<2 where readouts[lab].count - readoutStart[lab] > keep { readoutStart[lab] = readouts[lab].count - keep }
            compact()
            return
        }
        lagPs = [Double(a), Double(b)]
    }

    /// Matches every herald whose readouts can all have arrived.
    private mutating func analyse() {
        guard var lags = lagPs else { return }
        let reach = Double(4 * windowHalfWidthPs)
        let n = outcomeChannels.bases.count
        while heraldStart < heralds.count {
            let herald = heralds[heraldStart]
            guard herald.timePs <= coveredPs[2],
                  Double(herald.timePs) + lags[0] + reach <= Double(coveredPs[0]),
                  Double(herald.timePs) + lags[1] + reach <= Double(coveredPs[1]) else { break }
            heraldStart += 1
            analysedThroughPs = herald.timePs
            if firstAnalysedPs == nil { firstAnalysedPs = herald.timePs }
            heraldsAnalysed[herald.state.rawValue] += 1
            var outcomes: [(basis: Int, outcome: Outcome)?] = [nil, nil]
            var single = [true, true]
            for lab in 0..<2 {
                let expected = Double(herald.timePs) + lags[lab]
                // Before the lab's stream starts (the clock not locked yet): neither a readout nor a miss.
                guard let start = startPs[lab], Double(start) <= expected - reach else { single[lab] = false; continue }
                // Readouts too early for this herald can match no later one either.
                while readoutStart[lab] < readouts[lab].count, Double(readouts[lab][readoutStart[lab]].timePs) < expected - reach {
                    readoutStart[lab] += 1
                }
                var inWindow = 0, nearby = 0
                var residual = 0.0
                var index = readoutStart[lab]
                while index < readouts[lab].count, Double(readouts[lab][index].timePs) <= expected + reach {
                    let readout = readouts[lab][index]
                    let offset = Double(readout.timePs) - expected
                    nearby += 1
                    residual = offset
                    if abs(offset) <= Double(windowHalfWidthPs), let decoded = outcomeChannels.decode(readout.channel) {
                        inWindow += 1
                        outcomes[lab] = (decoded.basisIndex, decoded.outcome)
                    }
                    index += 1
                }
                if nearby == 1 { lags[lab] += trackingGain * residual }
                missesInARow[lab] = nearby == 0 ? missesInARow[lab] + 1 : 0
                single[lab] = inWindow == 1
            }
            if missesInARow.contains(where: { $0 >= lostLockHeralds }) {
                // Lock lost (a clock step beyond the reach): search the lags again from the heralds after this one.
                lagPs = nil
                missesInARow = [0, 0]
                searchedAtHeralds = 0
                relocks += 1
                return
            }
            guard single[0], single[1], let a = outcomes[0], let b = outcomes[1] else { continue }
            heraldsWithReadouts[herald.state.rawValue] += 1
            cells[((herald.state.rawValue * n + a.basis) * n + b.basis) * 4 + a.outcome.rawValue * 2 + b.outcome.rawValue] += 1
        }
        lagPs = lags
    }

    private mutating func compact() {
        // A lab (or the station) that stopped sending: keep the latest events only.
        if heralds.count - heraldStart > maxPendingEvents {
            droppedEvents += Int64(heralds.count - heraldStart - maxPendingEvents)
            heraldStart = heralds.count - maxPendingEvents
        }
        for lab in 0..<2 where readouts[lab].count - readoutStart[lab] > maxPendingEvents {
            droppedEvents += Int64(readouts[lab].count - readoutStart[lab] - maxPendingEvents)
            readoutStart[lab] = readouts[lab].count - maxPendingEvents
        }
        if heraldStart > 4096 { heralds.removeFirst(heraldStart); heraldStart = 0 }
        for lab in 0..<2 where readoutStart[lab] > 4096 {
            readouts[lab].removeFirst(readoutStart[lab])
            readoutStart[lab] = 0
        }
    }

    /// Joint outcome counts per basis combination for heralds of `state`.
    public func settings(for state: HeraldType) -> [SettingCounts] {
        let bases = outcomeChannels.bases, n = bases.count
        var result: [SettingCounts] = []
        for i in 0..<n {
            for j in 0..<n {
                let base = ((state.rawValue * n + i) * n + j) * 4
                let counts = (0..<4).map { Double(cells[base + $0]) }
                if counts.reduce(0, +) > 0 {
                    result.append(SettingCounts(basisA: bases[i], basisB: bases[j], counts: JointCounts(cells: counts)))
                }
            }
        }
        return result
    }

    /// Fidelity of the heralded states to their targets: per herald type from ZZ, XX, YY (or the Z/X lower
    /// bound when Y was not measured by both), and the average over heralds weighted by how many of each
    /// type were correlated, with the standard errors combined accordingly.
    public func fidelity() -> (combined: Estimate?, isLowerBound: Bool, perState: [HeraldType: Estimate]) {
        var full: [HeraldType: Estimate] = [:], bound: [HeraldType: Estimate] = [:]
        for state in HeraldType.allCases {
            let settings = settings(for: state)
            if let value = SettingEstimates.fidelity(settings, to: state.bellState, .raw) { full[state] = value }
            if let value = SettingEstimates.fidelityLowerBound(settings, to: state.bellState, .raw) { bound[state] = value }
        }
        // Full fidelity only when every herald type that has a bound also has the full estimate.
        let useFull = !full.isEmpty && full.count == bound.count
        let perState = useFull ? full : bound
        guard !perState.isEmpty else { return (nil, !useFull, perState) }
        let total = perState.keys.reduce(0.0) { $0 + Double(heraldsWithReadouts[$1.rawValue]) }
        guard total > 0 else { return (nil, !useFull, perState) }
        var value = 0.0, variance = 0.0
        for (state, estimate) in perState {
            let weight = Double(heraldsWithReadouts[state.rawValue]) / total
            value += weight * estimate.value
            variance += weight * weight * estimate.standardError * estimate.standardError
        }
        return (Estimate(value, standardError: variance.squareRoot()), !useFull, perState)
    }

    /// The correlation ⟨basis ⊗ basis⟩ in the ψ⁻ frame: ψ⁺ heralds' X and Y outcomes of lab B flipped, so
    /// that every herald type contributes with the same sign (ZZ: −1, XX: −1, YY: −1 for perfect states).
    public func correlation(_ basis: String) -> Estimate? {
        var cellsTotal = [Double](repeating: 0, count: 4)
        var any = false
        for state in HeraldType.allCases {
            guard let setting = settings(for: state).first(where: { $0.basisA == basis && $0.basisB == basis }) else { continue }
            any = true
            var counts = [setting.counts.plusPlus, setting.counts.plusMinus, setting.counts.minusPlus, setting.counts.minusMinus]
            if state == .psiPlus && basis != "Z" { counts = [counts[1], counts[0], counts[3], counts[2]] }
            for k in 0..<4 { cellsTotal[k] += counts[k] }
        }
        guard any else { return nil }
        return try? BellEstimators.correlation(raw: JointCounts(cells: cellsTotal))
    }
}

/// Finds the lag between heralds and one lab's readouts: the difference readout − herald that most pairs
/// share within ±`maxLagPs` (a histogram of `binPs` bins, the best pair of neighbouring bins, then the
/// median difference inside it). Nil when no bin stands out from the uniform background by 5 σ.
public enum HeraldLagSearch {
    /// The lag of `readouts` after `heralds` (both sorted, ps), searched within ±`maxLagPs` in `binPs` bins, or nil.
    public static func find(heralds: [Int64], readouts: [Int64], maxLagPs: Int64, binPs: Int64) -> Int64? {
        guard !heralds.isEmpty, !readouts.isEmpty, maxLagPs > 0, binPs > 0 else { return nil }
        var histogram: [Int64: Int] = [:]
        var pairs = 0
        var start = 0
        for herald in heralds {
            while start < readouts.count, readouts[start] < herald - maxLagPs { start += 1 }
            var index = start
            while index < readouts.count, readouts[index] <= herald + maxLagPs {
                let difference = readouts[index] - herald
                let bin = difference >= 0 ? difference / binPs : (difference - binPs + 1) / binPs
                histogram[bin, default: 0] += 1
                pairs += 1
                index += 1
                if pairs > 50_000_000 { return nil }
            }
        }
        var bestBin: Int64 = 0, bestCount = -1
        for (bin, count) in histogram {
            let pair = count + (histogram[bin + 1] ?? 0)
            if pair > bestCount { bestCount = pair; bestBin = bin }
        }
        let bins = Double(2 * maxLagPs / binPs + 1)
        let background = 2 * Double(pairs) / bins
        guard bestCount >= 10, Double(bestCount) > background + 5 * background.squareRoot() + 5 else { return nil }
        let low = bestBin * binPs, high = (bestBin + 2) * binPs
        var differences: [Int64] = []
        start = 0
        for herald in heralds {
            while start < readouts.count, readouts[start] - herald < low { start += 1 }
            var index = start
            while index < readouts.count, readouts[index] - herald < high {
                differences.append(readouts[index] - herald)
                index += 1
            }
        }
        guard !differences.isEmpty else { return nil }
        differences.sort()
        return differences[differences.count / 2]
    }
}

extension HeraldedAnalysis {
    /// The results so far as the engine's snapshot: per herald state its heralds, correlations, fidelity and QBER
    /// against its own state; overall the correlations in the ψ⁻ frame, the herald-weighted fidelity and the QBER of
    /// Z and X pooled over the herald states.
    public func snapshot(unlabelled: Int64) -> LinkAnalysisSnapshot {
        var snapshot = LinkAnalysisSnapshot(durationPs: firstAnalysedPs.map { analysedThroughPs - $0 } ?? 0)
        snapshot.linkTimePs = firstAnalysedPs == nil ? nil : analysedThroughPs
        snapshot.unlabelledEvents = unlabelled
        for state in HeraldType.allCases {
            snapshot.heralded.append(.init(state: state.bellState, heralds: heraldsAnalysed[state.rawValue],
                                           heraldsWithOutcomes: heraldsWithReadouts[state.rawValue], settings: settings(for: state),
                                           durationPs: snapshot.durationPs))
        }
        // QBER per basis, each herald state against its own Bell state, pooled: the measured key rate's input.
        snapshot.poolHeraldedQBER()
        for basis in ["Z", "X", "Y"] {
            if let e = correlation(basis) { snapshot.bases.append(.init(basis: basis + basis, countBasis: .raw, correlation: e)) }
        }
        let fidelity = fidelity()
        snapshot.fidelityCountBasis = .raw
        if fidelity.isLowerBound { snapshot.fidelityLowerBound = fidelity.combined } else { snapshot.fidelity = fidelity.combined }
        return snapshot
    }
}
