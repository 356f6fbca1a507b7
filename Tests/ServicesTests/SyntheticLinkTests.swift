import Correlation
import Services
import Testing
import TimeTags

@Suite("Synthetic link and live analysis")
struct SyntheticLinkTests {
    /// Brute-force correlation of the generated streams with the true offset.
    func bruteForce(_ parameters: SyntheticLink.Parameters, slices: Int64) -> (z: Double, x: Double) {
        var a = TagBatch(), b = TagBatch()
        for index in 0..<slices {
            a.append(contentsOf: SyntheticLink(parameters: parameters, labIndex: 0).slice(index))
            b.append(contentsOf: SyntheticLink(parameters: parameters, labIndex: 1).slice(index))
        }
        var counts = [[Int64]](repeating: [Int64](repeating: 0, count: 4), count: 4)
        var j = 0
        for i in 0..<a.count {
            guard let ia = parameters.channelsA.firstIndex(of: a.channels[i]) else { continue }
            let t = a.timesPs[i] + parameters.clockOffsetBPs
            while j < b.count, b.timesPs[j] < t - 1000 { j += 1 }
            var k = j
            while k < b.count, b.timesPs[k] <= t + 1000 {
                if let ib = parameters.channelsB.firstIndex(of: b.channels[k]) { counts[ia][ib] += 1 }
                k += 1
            }
        }
        func e(_ p: Int, _ q: Int) -> Double {
            let same = Double(counts[p][p] + counts[q][q]), diff = Double(counts[p][q] + counts[q][p])
            return (same - diff) / (same + diff)
        }
        return (e(0, 1), e(2, 3))
    }

    @Test func generatorHasTheStatedVisibility() {
        var parameters = SyntheticLink.Parameters()
        parameters.seed = 7
        let result = bruteForce(parameters, slices: 40)
        #expect(abs(result.z + parameters.visibility) < 0.03, "E_z \(result.z)")
        #expect(abs(result.x + parameters.visibility) < 0.03, "E_x \(result.x)")
    }

    @Test func liveAnalysisRecoversOffsetAndFidelity() throws {
        var parameters = SyntheticLink.Parameters()
        parameters.seed = 11
        var analysis = LiveAnalysis(layout: AnalysisLayout(channelsA: parameters.channelsA, channelsB: parameters.channelsB))
        for index in 0..<Int64(40) {
            analysis.add(lab: 0, batch: SyntheticLink(parameters: parameters, labIndex: 0).slice(index))
            analysis.add(lab: 1, batch: SyntheticLink(parameters: parameters, labIndex: 1).slice(index))
        }
        let snapshot = analysis.snapshot
        let offset = try #require(snapshot.clockOffsetPs)
        #expect(abs(offset - parameters.clockOffsetBPs) < 500, "offset \(offset)")
        let fidelity = try #require(snapshot.fidelity)
        #expect(abs(fidelity.value - parameters.visibility) < 4 * fidelity.standardError + 0.005, "\(fidelity)")
        #expect(snapshot.lateTags == 0)
    }

    @Test func liveAnalysisTracksADriftingClock() throws {
        var parameters = SyntheticLink.Parameters()
        parameters.seed = 12
        parameters.pairRateHz = 50_000
        parameters.clockDriftPpm = 0.0001  // lab B's offset grows 100 ps per second
        var layout = AnalysisLayout(channelsA: parameters.channelsA, channelsB: parameters.channelsB)
        layout.trackingSpanPs = 1_000_000_000_000
        var analysis = LiveAnalysis(layout: layout)
        let a = SyntheticLink(parameters: parameters, labIndex: 0), b = SyntheticLink(parameters: parameters, labIndex: 1)
        for index in 0..<Int64(600) {
            analysis.add(lab: 0, batch: a.slice(index))
            analysis.add(lab: 1, batch: b.slice(index))
        }
        let snapshot = analysis.snapshot
        #expect(snapshot.clockUpdates >= 4, "updates \(snapshot.clockUpdates)")
        let offset = Double(try #require(snapshot.clockOffsetPs))
        let at = try #require(snapshot.clockOffsetTimePs)
        #expect(at > 4_000_000_000_000)
        // The offset followed the drift (400+ ps since the start) to within a few tens of ps.
        #expect(abs(offset - b.trueClockOffsetPs(at: at)) < 40, "offset \(offset) vs \(b.trueClockOffsetPs(at: at)) at \(at)")
        let drift = try #require(snapshot.clockDriftPpm)
        #expect(abs(drift - 0.0001) < 0.00005, "drift \(drift) ppm")
    }
}
