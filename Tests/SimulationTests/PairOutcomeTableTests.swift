import LinkModel
import Testing
@testable import Simulation

/// The alias table that draws a pair's joint outcome holds exactly the probabilities it was built
/// from: detection pattern times Born rule (joint, or one lab's marginal when only that lab
/// detects), for every basis pair.
@Suite("Pair outcome alias table")
struct PairOutcomeTableTests {
    /// The probability of each four-bit outcome code implied by a row of the table: column k is
    /// picked with probability 1/8, then its own code below the threshold, its alias above.
    static func impliedProbabilities(_ row: ArraySlice<UInt64>) -> [UInt64: Double] {
        var result: [UInt64: Double] = [:]
        let scale = Double(1 << PairOutcomeTable.thresholdBits)
        for entry in row {
            let below = Double(entry & 0xFFFF_FFFF) / scale
            result[(entry >> 32) & 0xFF, default: 0] += below / 8
            result[(entry >> 40) & 0xFF, default: 0] += (1 - below) / 8
        }
        return result
    }

    @Test("every basis pair's row reproduces detection pattern × Born-rule probabilities")
    func rowsMatchTheirProbabilities() {
        let etaA = 0.37, etaB = 0.21
        let both = etaA * etaB, any = etaA + etaB - both
        let rho = ComplexMatrix4.werner(.psiMinus, p: 0.83)
        let basesA: [MeasurementBasis] = [.z, .linear(analyserAngleDeg: 22.5)]
        let basesB: [MeasurementBasis] = [.x, .y, .linear(analyserAngleDeg: 67.5)]
        let table = PairOutcomeTable(born: rho.cumulativeOutcomeTable(basesA: basesA, basesB: basesB),
                                     both: both / any, aOnly: (etaA - both) / any)
        #expect(table.entries.count == basesA.count * basesB.count * PairOutcomeTable.columns)
        for (i, a) in basesA.enumerated() {
            for (j, b) in basesB.enumerated() {
                let p = rho.outcomeProbabilities(basisA: a, basisB: b)  // index 2·outcomeA + outcomeB
                var expected: [UInt64: Double] = [:]
                for outcomeA in 0..<2 {
                    for outcomeB in 0..<2 {
                        // Bits: A's detector, B's detector, A detects, B detects.
                        expected[UInt64(outcomeA | outcomeB << 1 | 0b1100)] = both / any * p[2 * outcomeA + outcomeB]
                    }
                    expected[UInt64(outcomeA | 0b0100)] = (etaA - both) / any * (p[2 * outcomeA] + p[2 * outcomeA + 1])
                    expected[UInt64(outcomeA << 1 | 0b1000)] = (etaB - both) / any * (p[outcomeA] + p[outcomeA + 2])
                }
                let start = (i * basesB.count + j) * PairOutcomeTable.columns
                let implied = Self.impliedProbabilities(table.entries[start..<start + PairOutcomeTable.columns])
                for (code, probability) in expected {
                    #expect(abs((implied[code] ?? 0) - probability) < 1e-8, "basis pair (\(i), \(j)), outcome code \(code)")
                }
                #expect(Set(implied.keys).isSubset(of: Set(expected.keys)))
            }
        }
    }
}
