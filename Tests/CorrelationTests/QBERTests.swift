import Correlation
import Testing
import TimeTags

/// QBER per basis in the analysis snapshot (``QBERResult``): against counted truth and against its definition.
@Suite("QBER per basis in the link analysis")
struct QBERTests {
    static let offsetPs: Int64 = 1_234_567, cablePs: Int64 = 1_000

    @Test("accidental-subtracted QBER recovers the streams' 10 % flip probability within 3σ in Z and X", arguments: [UInt64(1), 2, 3])
    func recoversFlipProbability(seed: UInt64) throws {
        // TwoLabStreams: ψ⁻-like pairs (opposite outcomes) with the outcome flipped with probability 0.1 in every
        // basis, plus uncorrelated background; target ψ⁻, so the true QBER is 0.1 in Z and X. 20 ms hold 100 basis
        // segments of 200 µs, so every basis combination is measured.
        let labs = TwoLabStreams.make(seed: seed, pairs: 20_000, background: 4_000, durationPs: 20_000_000_000,
                                      offsetPs: Self.offsetPs, cablePs: Self.cablePs)
        let configuration = TwoLabStreams.configuration(offsetPs: Self.offsetPs, cablePs: Self.cablePs)
        #expect(configuration.target == .psiMinus)
        let snapshot = try TwoLabStreams.analyse(labs, configuration, size: 4096)
        for basis in ["Z", "X"] {
            let subtracted = try #require(snapshot.qber.first { $0.basis == basis && $0.countBasis == .accidentalSubtracted })
            #expect(abs(subtracted.qber.value - 0.1) <= 3 * subtracted.qber.standardError, "\(basis): \(subtracted.qber)")
            #expect(subtracted.qber.standardError < 0.01)
            let raw = try #require(snapshot.qber.first { $0.basis == basis && $0.countBasis == .raw })
            // Accidentals are errors half the time: the raw QBER is not below the subtracted one.
            #expect(raw.qber.value >= subtracted.qber.value - 1e-12)
            #expect(raw.siftedCoincidences >= subtracted.siftedCoincidences)
            #expect(abs(raw.siftedRateHz - raw.siftedCoincidences / (Double(snapshot.durationPs) * 1e-12)) < 1e-6)
        }
    }

    @Test("QBER is (1 − s·E)/2 of the basis's correlation, σ_E/2, with the sifted counts of that cell")
    func definition() throws {
        let cells = JointCounts(plusPlus: 40, plusMinus: 460, minusPlus: 440, minusMinus: 60)
        let z = SettingCounts(basisA: "Z", basisB: "Z", counts: cells, accidentals: Array(repeating: Estimate(5, standardError: 1), count: 4))
        let x = SettingCounts(basisA: "X", basisB: "X", counts: cells)
        // ψ⁻ is anticorrelated in Z and X: errors are the same-outcome cells, 100 of 1000.
        let qz = try #require(SettingEstimates.qber([z, x], basis: "Z", to: .psiMinus, .raw, durationPs: 2_000_000_000_000))
        #expect(abs(qz.qber.value - 0.1) < 1e-12)
        let e = try BellEstimators.correlation(raw: cells)
        #expect(abs(qz.qber.standardError - e.standardError / 2) < 1e-15)
        #expect(qz.siftedCoincidences == 1000)
        #expect(qz.siftedRateHz == 500)
        // Φ+ is correlated in Z: the same counts are 90 % errors.
        let phi = try #require(SettingEstimates.qber([z], basis: "Z", to: .phiPlus, .raw, durationPs: 1_000_000_000_000))
        #expect(abs(phi.qber.value - 0.9) < 1e-12)
        // Accidentals subtracted cell by cell: (40−5 + 60−5) / (1000 − 20).
        let sub = try #require(SettingEstimates.qber([z], basis: "Z", to: .psiMinus, .accidentalSubtracted, durationPs: 1_000_000_000_000))
        #expect(abs(sub.qber.value - 90.0 / 980) < 1e-12)
        #expect(sub.siftedCoincidences == 980)
        // X has no accidental estimates: no accidental-subtracted QBER, and no QBER for a basis never measured.
        #expect(SettingEstimates.qber([x], basis: "X", to: .psiMinus, .accidentalSubtracted, durationPs: 1) == nil)
        #expect(SettingEstimates.qber([z], basis: "X", to: .psiMinus, .raw, durationPs: 1) == nil)
    }

    @Test("heralded: each state's QBER against its own Bell state, pooled by adding errors and sifted heralds")
    func heraldedPooling() throws {
        // ψ⁺ heralds: Z anticorrelated (errors ++, −−: 20 of 400), X correlated (errors +−, −+: 30 of 300).
        let plus = [SettingCounts(basisA: "Z", basisB: "Z", counts: JointCounts(plusPlus: 12, plusMinus: 190, minusPlus: 190, minusMinus: 8)),
                    SettingCounts(basisA: "X", basisB: "X", counts: JointCounts(plusPlus: 140, plusMinus: 14, minusPlus: 16, minusMinus: 130))]
        // ψ⁻ heralds: anticorrelated in both (Z: 10 of 200 errors, X: 50 of 500).
        let minus = [SettingCounts(basisA: "Z", basisB: "Z", counts: JointCounts(plusPlus: 5, plusMinus: 95, minusPlus: 95, minusMinus: 5)),
                     SettingCounts(basisA: "X", basisB: "X", counts: JointCounts(plusPlus: 25, plusMinus: 225, minusPlus: 225, minusMinus: 25))]
        var snapshot = LinkAnalysisSnapshot(durationPs: 10_000_000_000_000)
        snapshot.heralded = [.init(state: .psiPlus, heralds: 800, heraldsWithOutcomes: 700, settings: plus, durationPs: snapshot.durationPs),
                             .init(state: .psiMinus, heralds: 800, heraldsWithOutcomes: 700, settings: minus, durationPs: snapshot.durationPs)]
        let plusZ = try #require(snapshot.heralded[0].qber?.first { $0.basis == "Z" })
        let plusX = try #require(snapshot.heralded[0].qber?.first { $0.basis == "X" })
        #expect(abs(plusZ.qber.value - 20.0 / 400) < 1e-12 && abs(plusX.qber.value - 30.0 / 300) < 1e-12)
        snapshot.poolHeraldedQBER()
        let z = try #require(snapshot.qber.first { $0.basis == "Z" }), x = try #require(snapshot.qber.first { $0.basis == "X" })
        #expect(snapshot.qber.allSatisfy { $0.countBasis == .raw } && snapshot.qber.count == 2)
        #expect(abs(z.qber.value - 30.0 / 600) < 1e-12 && z.siftedCoincidences == 600 && abs(z.siftedRateHz - 60) < 1e-9)
        #expect(abs(x.qber.value - 80.0 / 800) < 1e-12 && x.siftedCoincidences == 800)
        // Binomial σ: what one target's QBER gives for the same counts.
        #expect(abs(x.qber.standardError - (0.1 * 0.9 / 800).squareRoot()) < 1e-15)
        // Against ψ⁻ alone, the ψ⁺ heralds' X outcomes would read as 90 % errors.
        let wrong = try #require(SettingEstimates.qber(plus, basis: "X", to: .psiMinus, .raw, durationPs: 1))
        #expect(abs(wrong.qber.value - 0.9) < 1e-12)
        #expect(QBERResult.pooled([], basis: "Z", durationPs: 1) == nil)
    }
}
