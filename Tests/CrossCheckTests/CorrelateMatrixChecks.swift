import Correlation
import Foundation
import Simulation
import Testing
import TimeTags

/// The matrix's comparisons of one `qlink correlate` snapshot with the simulator's truth. Every bound is three of
/// the snapshot's own standard errors (Poisson counts for the coincidence totals).
struct MatrixChecks {
    var run: MatrixRun
    var link: MatrixLink?

    var snapshot: LinkAnalysisSnapshot { run.snapshot }
    var truth: GroundTruth { run.truth }
    var seconds: Double { Double(truth.durationPs) * 1e-12 }

    /// |value − expected| ≤ 3σ, with the numbers in the message.
    func within3σ(_ estimate: Estimate, _ expected: Double, _ what: String) {
        #expect(abs(estimate.value - expected) <= 3 * estimate.standardError,
                "\(what): \(estimate) vs truth \(expected) (\((estimate.value - expected) / estimate.standardError) σ)")
    }

    func checkAll() throws {
        try checkClock()
        if truth.pairSourceSegments != nil { try checkPairSource() } else { try checkHeralded() }
        try checkStatistics()
        if link?.shared == true { try checkBruteForce() }
    }

    /// Shared clock: the declared relation. Free-running: locked, with offset t_B − t_A at the reported link time
    /// and drift against the simulated clocks.
    func checkClock() throws {
        let clock = try #require(snapshot.clock)
        if link?.shared == true {
            #expect(clock.lock == .shared)
            return
        }
        #expect(clock.lock == .locked, "\(clock.events)")
        let a = try #require(truth.stream(.labA)), b = try #require(truth.stream(.labB))
        let at = Double(try #require(clock.atPs))
        #expect(a.clock.offsetPs == 0 && a.clock.frequencyErrorPpm == 0)
        var expected = Self.expectedOffsetPs(a, b, atPs: at)
        if truth.heraldedSegments != nil, let period = truth.attemptPeriodPs {
            expected += Self.meanRoundingPs(frequencyError: b.clock.frequencyErrorPpm * 1e-6, periodPs: period, delayPs: b.delayPs,
                                            durationPs: truth.durationPs)
        }
        within3σ(try #require(clock.offsetPs), expected, "clock offset at \(at) ps")
        within3σ(try #require(clock.driftPpm), b.clock.frequencyErrorPpm, "drift (ppm)")
        #expect(snapshot.unmappedEvents == 0)
    }

    /// The offset t_B − t_A of lab A's stream `a` and lab B's `b` at lab A time `atPs`: a pair emitted at τ is
    /// recorded at τ + d_A on A's clock (offset 0, no drift) and at (τ + d_B)(1 + ppm·10⁻⁶) + offset on B's;
    /// τ = t_A − d_A.
    static func expectedOffsetPs(_ a: StreamTruth, _ b: StreamTruth, atPs at: Double) -> Double {
        let ppm = b.clock.frequencyErrorPpm * 1e-6
        return Double(b.delayPs - a.delayPs + b.clock.offsetPs) + ppm * (at - Double(a.delayPs) + Double(b.delayPs))
    }

    /// Mean of round(ν·t) − ν·t over lab B's readout times t = k·period + delay of a run (rounded half away from
    /// zero, as the simulated tagger records). A heralded link's readouts carry no jitter and sit on the attempt
    /// grid, so each one's rounding of the drift term is fixed by its grid position: when ν·period is close to a
    /// whole number of picoseconds (30 ppm × 200 ns = 6 ps) the roundings do not average out and every pair's
    /// lag, hence the offset the pairs show, is shifted by their mean (up to ±0.5 ps).
    static func meanRoundingPs(frequencyError: Double, periodPs: Int64, delayPs: Int64, durationPs: Int64) -> Double {
        let attempts = max(1, durationPs / periodPs)
        var sum = 0.0
        for k in 0..<attempts {
            let drift = frequencyError * Double(k * periodPs + delayPs)
            sum += drift.rounded() - drift
        }
        return sum / Double(attempts)
    }

    /// Pair source: singles and true coincidences per second, CAR from the singles and the window.
    func checkPairSource() throws {
        let segment = try #require(truth.pairSourceSegments?.first)
        #expect(truth.pairSourceSegments?.count == 1)
        let singlesA = Double(snapshot.singles.filter { $0.lab == run.labs[0] }.map(\.counts).reduce(0, +))
        let singlesB = Double(snapshot.singles.filter { $0.lab == run.labs[1] }.map(\.counts).reduce(0, +))
        // The truth's rates are before the detectors' dead time (loopback.yaml declares 22 ns): each detector
        // keeps the live fraction of its clicks, each coincidence needs both detectors live.
        let liveA = liveFraction(segment.singlesRateAHz), liveB = liveFraction(segment.singlesRateBHz)
        within3σ(Estimate(singlesA, standardError: singlesA.squareRoot()), segment.singlesRateAHz * liveA * seconds, "lab A singles")
        within3σ(Estimate(singlesB, standardError: singlesB.squareRoot()), segment.singlesRateBHz * liveB * seconds, "lab B singles")
        let subtracted = snapshot.pairs.compactMap(\.accidentalSubtracted)
        #expect(subtracted.count == snapshot.pairs.count)
        let total = Estimate(subtracted.map(\.value).reduce(0, +),
                             standardError: subtracted.map { $0.standardError * $0.standardError }.reduce(0, +).squareRoot())
        within3σ(total, segment.coincidenceRateHz * seconds * liveA * liveB, "true coincidences")
        // CAR: all raw coincidences over the accidentals the singles rates give in the window (2w + 1 ps).
        let windowPs = Double(try #require(snapshot.pairs.first).window.upperPs - snapshot.pairs.first!.window.lowerPs + 1)
        let accidentalRateHz = segment.singlesRateAHz * segment.singlesRateBHz * windowPs * 1e-12
        within3σ(try #require(snapshot.car), (segment.coincidenceRateHz + accidentalRateHz) / accidentalRateHz, "CAR")
        try checkBellEstimators(dilution: segment.coincidenceRateHz / (segment.coincidenceRateHz + accidentalRateHz))
    }

    /// Heralded link seen through the two lab files: every herald gives one readout per lab, so the coincidences
    /// count the heralds. Accidentals are ~0 (readouts only follow heralds), so CAR has no finite truth to compare.
    func checkHeralded() throws {
        let segment = try #require(truth.heraldedSegments?.first)
        let expected = segment.heraldRateHz * seconds
        let raw = Double(snapshot.coincidences)
        within3σ(Estimate(raw, standardError: raw.squareRoot()), expected, "heralds (coincidences)")
        try checkBellEstimators(dilution: 1)
    }

    /// E per basis pair, the fidelity (exact or Z/X bound as labelled) and CHSH S. Raw estimates are compared
    /// with the truth diluted by the accidentals (`dilution`: true over all coincidences), accidental-subtracted
    /// ones with the truth itself.
    func checkBellEstimators(dilution: Double) throws {
        let labelsA = run.settingLabels.first ?? [], labelsB = run.settingLabels.dropFirst().first ?? []
        let namesOnly: Bool
        if case .names = link?.bases { namesOnly = true } else { namesOnly = false }
        let truthE = MatrixTruth.correlations(truth, labelsA: namesOnly ? ["Z"] : labelsA, labelsB: namesOnly ? ["Z"] : labelsB)
        #expect(!snapshot.bases.isEmpty)
        for basis in snapshot.bases {
            let expected = try #require(truthE[basis.basis], "basis \(basis.basis) not in the truth \(truthE.keys.sorted())")
            within3σ(basis.correlation, basis.countBasis == .raw ? dilution * expected : expected, "E(\(basis.basis)) \(basis.countBasis)")
        }
        let state = try #require(snapshot.targetState)
        let s = MatrixTruth.signs(state)
        let raw = snapshot.fidelityCountBasis != .accidentalSubtracted
        let d = raw ? dilution : 1
        if let fidelity = snapshot.fidelity {
            let zz: Double = s.z * truthE["ZZ"]!, xx: Double = s.x * truthE["XX"]!, yy: Double = s.y * truthE["YY"]!
            let expected = (1 + d * (zz + xx + yy)) / 4
            within3σ(fidelity, expected, "fidelity")
        } else if let bound = snapshot.fidelityLowerBound {
            let zz: Double = s.z * truthE["ZZ"]!, xx: Double = s.x * truthE["XX"]!
            within3σ(bound, d * (zz + xx) / 2, "fidelity Z/X bound")
        }
        // QBER per basis, e = (1 − s·E)/2: raw against the diluted truth, accidental-subtracted against the truth.
        for qber in snapshot.qber {
            let sign = qber.basis == "Z" ? s.z : s.x
            let expected = try #require(truthE[qber.basis + qber.basis])
            within3σ(qber.qber, (1 - sign * (qber.countBasis == .raw ? dilution : 1) * expected) / 2, "QBER \(qber.basis) \(qber.countBasis)")
        }
        #expect(snapshot.qber.contains { $0.basis == "Z" } == (truthE["ZZ"] != nil))
        let hasZXY = ["ZZ", "XX", "YY"].allSatisfy { truthE[$0] != nil }
        let hasZX = ["ZZ", "XX"].allSatisfy { truthE[$0] != nil }
        #expect(snapshot.fidelity != nil || !hasZXY)
        #expect(snapshot.fidelityLowerBound != nil || !hasZX || hasZXY)
        // CHSH S for two settings per lab that differ between the labs, a, a′, b, b′ in setting order.
        if labelsA.count == 2, labelsB.count == 2, Set(labelsA) != Set(labelsB), !namesOnly {
            let chsh = try #require(snapshot.chsh)
            let e = { (x: String, y: String) in truthE[x + y]! }
            let terms: [Double] = [e(labelsA[0], labelsB[0]), -e(labelsA[0], labelsB[1]), e(labelsA[1], labelsB[0]), e(labelsA[1], labelsB[1])]
            let expected = terms.reduce(0, +)
            let chshRaw = snapshot.chshCountBasis != .accidentalSubtracted
            within3σ(chsh, (chshRaw ? dilution : 1) * expected, "CHSH S")
            if let stated = truth.pairSourceSegments?.first?.chshS { #expect(abs(abs(expected) - stated) < 1e-9) }
        }
    }

    /// Internal consistency: every pair has coincidences, no late events.
    func checkStatistics() throws {
        #expect(snapshot.lateEvents == 0)
        #expect(snapshot.pairs.allSatisfy { $0.rawCoincidences > 0 })
    }

    /// Shared clock: singles equal the files' counts and each pair's coincidences equal the brute-force count of
    /// (A, B) tag pairs within the window once B's times are moved by the declared offset (the snapshot names
    /// each file's channels as written, with the lab).
    func checkBruteForce() throws {
        let a = try BruteForceCount.read(run.labFiles[0]), b = try BruteForceCount.read(run.labFiles[1])
        let offset = try #require(link?.offsetPs)
        for pair in snapshot.pairs {
            let channelB = pair.pair.second
            let timesA = zip(a.times, a.channels).filter { $0.1 == pair.pair.first }.map(\.0)
            let timesB = zip(b.times, b.channels).filter { $0.1 == channelB }.map(\.0)
            #expect(pair.window.lowerPs == -pair.window.upperPs)
            let expected = BruteForceCount.coincidences(a: timesA, b: timesB, offsetPs: offset, windowPs: pair.window.upperPs)
            #expect(pair.rawCoincidences == expected, "pair \(pair.pair.first):\(channelB)")
        }
        for single in snapshot.singles {
            let isB = single.lab == run.labs[1]
            #expect(single.counts == Int64((isB ? b : a).channels.filter { $0 == single.channel }.count), "singles of \(single.channel)")
        }
    }

    /// The live fraction of one of a lab's two detectors at the lab's singles rate (non-paralysable dead time).
    func liveFraction(_ singlesRateHz: Double) -> Double { 1 / (1 + singlesRateHz / 2 * Double(run.deadTimePs) * 1e-12) }
}
