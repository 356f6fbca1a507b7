import Correlation
import Foundation
import Testing
import TimeTags
import LinkModel

/// A heralded two-lab experiment with known truth: Barrett–Kok heralds on station detectors 10 and 11
/// (ψ⁺: the same detector twice, ψ⁻: different detectors, one time bin apart), the labs' outcomes on
/// channels 1/2 (A) and 3/4 (B) in Werner states of visibility V, bases announced by markers.
enum HeraldedExperiment {
    static let timeBinPs: Int64 = 100_000
    static let segmentPs: Int64 = 1_000_000_000     // 1 ms per basis setting
    static let bases = ["Z", "X", "Y"]
    /// Marker numbers announcing each basis: lab A uses 1, 2, 3; lab B uses 4, 5, 6.
    static let markersA: [Int32: String] = [1: "Z", 2: "X", 3: "Y"]
    static let markersB: [Int32: String] = [4: "Z", 5: "X", 6: "Y"]

    struct Truth { var heralds: [BellState: Int64] = [:]; var visibility: Double }

    static func patterns() throws -> [HeraldPattern] {
        let window = try CoincidenceWindow(halfWidthPs: 1000, centerPs: timeBinPs)
        func pattern(_ state: BellState, _ first: TagChannel, _ second: TagChannel) -> HeraldPattern {
            HeraldPattern(state: state, reference: first, requirements: [.init(channel: second, window: window)])
        }
        return [pattern(.psiPlus, 10, 10), pattern(.psiPlus, 11, 11), pattern(.psiMinus, 10, 11), pattern(.psiMinus, 11, 10)]
    }

    static func roles() -> [DetectorRole] {
        [DetectorRole(channel: 1, side: .a, outcome: .plus), DetectorRole(channel: 2, side: .a, outcome: .minus),
         DetectorRole(channel: 3, side: .b, outcome: .plus), DetectorRole(channel: 4, side: .b, outcome: .minus)]
    }

    static func generate(seed: UInt64, attempts: Int, visibility: Double) -> (batch: TagBatch, truth: Truth) {
        var rng = SeededGenerator(seed: seed)
        var events: [(Int64, TagChannel)] = []
        var markers: [MarkerEvent] = []
        var truth = Truth(visibility: visibility)
        let spacing: Int64 = 2_000_000   // one attempt every 2 µs
        var segment: Int64 = -1
        for k in 0..<attempts {
            let t = Int64(k) * spacing + 10_000
            let currentSegment = t / segmentPs
            if currentSegment != segment {
                segment = currentSegment
                let basis = Int(segment % 3)
                markers.append(MarkerEvent(timePs: segment * segmentPs, marker: Int32(1 + basis)))
                markers.append(MarkerEvent(timePs: segment * segmentPs + 5, marker: Int32(4 + basis)))
            }
            let basis = bases[Int(segment % 3)]
            let roll = rng.nextUnit()
            if roll < 0.3 {
                // Failed attempt: one station click, one stray lab click.
                events.append((t, rng.nextUnit() < 0.5 ? 10 : 11))
                events.append((t + 2000 + Int64(rng.nextGaussian() * 50), rng.nextUnit() < 0.5 ? 1 : 2))
                continue
            }
            let state: BellState = rng.nextUnit() < 0.5 ? .psiPlus : .psiMinus
            truth.heralds[state, default: 0] += 1
            let first: TagChannel = rng.nextUnit() < 0.5 ? 10 : 11
            let second: TagChannel = state == .psiPlus ? first : (first == 10 ? 11 : 10)
            events.append((t, first))
            events.append((t + timeBinPs + Int64(rng.nextGaussian() * 40), second))
            // Werner state: E = V·s_basis; P(same outcome) = (1 + E)/2.
            let signs = state.signs
            let sign = basis == "Z" ? signs.z : basis == "X" ? signs.x : signs.y
            let same = rng.nextUnit() < (1 + visibility * sign) / 2
            let aPlus = rng.nextUnit() < 0.5
            let bPlus = same ? aPlus : !aPlus
            events.append((t + 2000 + Int64(rng.nextGaussian() * 50), aPlus ? 1 : 2))
            events.append((t + 3000 + Int64(rng.nextGaussian() * 50), bPlus ? 3 : 4))
        }
        events.sort { $0.0 < $1.0 }
        return (TagBatch(timesPs: events.map(\.0), channels: events.map(\.1), markers: markers), truth)
    }

    /// Splits a batch into chunks of the given sizes, each marker going with the chunk whose time span holds it.
    static func chunks(_ batch: TagBatch, sizes: [Int]) -> [TagBatch] {
        var pieces = SyntheticStreams.chunks(TagBatch(timesPs: batch.timesPs, channels: batch.channels), sizes: sizes)
        var m = 0
        for index in pieces.indices {
            let end = index + 1 < pieces.count ? pieces[index + 1].timesPs[0] : Int64.max
            while m < batch.markers.count, batch.markers[m].timePs < end { pieces[index].markers.append(batch.markers[m]); m += 1 }
        }
        return pieces
    }

    static func run(_ chunks: [TagBatch], sourceA: BasisSource, sourceB: BasisSource) throws -> [HeraldedCounts] {
        var labeler = try BasisLabeler(roles: roles(), sourceA: sourceA, sourceB: sourceB)
        var counter = try HeraldedCounter(patterns: try patterns(), windowA: try CoincidenceWindow(lowerPs: 1500, upperPs: 2500),
                                          windowB: try CoincidenceWindow(lowerPs: 2500, upperPs: 3500),
                                          outcomeChannels: labeler.outcomeChannels)
        for chunk in chunks { try counter.process(labeler.process(chunk)) }
        counter.finish()
        return counter.results
    }
}

@Suite("Heralded mode and basis settings")
struct HeraldedModeTests {
    @Test("heralded ψ⁺ and ψ⁻ fidelities match the simulated truth within 3 standard errors", arguments: [21, 22, 23] as [UInt64])
    func heraldedFidelity(seed: UInt64) throws {
        let visibility = 0.85
        let (batch, truth) = HeraldedExperiment.generate(seed: seed, attempts: 30_000, visibility: visibility)
        let results = try HeraldedExperiment.run(HeraldedExperiment.chunks(batch, sizes: [4096, 777, 10_000]),
                                                 sourceA: .markers(HeraldedExperiment.markersA),
                                                 sourceB: .markers(HeraldedExperiment.markersB))
        #expect(results.count == 2)
        let expected = (1 + 3 * visibility) / 4
        for result in results {
            // Exact herald counts: failed attempts (one click) never herald.
            #expect(result.heralds == truth.heralds[result.state])
            #expect(result.heraldsWithOutcomes == result.heralds)
            // Only matching bases were set (both labs follow their own markers, switched together).
            #expect(Set(result.settings.map { "\($0.basisA)\($0.basisB)" }) == ["ZZ", "XX", "YY"])
            let fidelity = try #require(SettingEstimates.fidelity(result.settings, to: result.state, .raw))
            #expect(abs(fidelity.value - expected) < 3 * fidelity.standardError, "\(result.state): F = \(fidelity), truth \(expected)")
            // Against the other ψ state the fidelity is far lower: the herald type is told apart.
            let other: BellState = result.state == .psiPlus ? .psiMinus : .psiPlus
            let wrong = try #require(SettingEstimates.fidelity(result.settings, to: other, .raw))
            #expect(wrong.value < expected - 10 * wrong.standardError)
        }
    }

    @Test("heralded QBER: each state against its own Bell state and pooled, (1 − V)/2 in Z and X within 3 standard errors")
    func heraldedQBER() throws {
        let visibility = 0.85
        let (batch, _) = HeraldedExperiment.generate(seed: 31, attempts: 30_000, visibility: visibility)
        let results = try HeraldedExperiment.run([batch], sourceA: .markers(HeraldedExperiment.markersA),
                                                 sourceB: .markers(HeraldedExperiment.markersB))
        var snapshot = LinkAnalysisSnapshot(durationPs: 60_000_000_000)
        snapshot.heralded = results.map {
            .init(state: $0.state, heralds: $0.heralds, heraldsWithOutcomes: $0.heraldsWithOutcomes, settings: $0.settings,
                  durationPs: snapshot.durationPs)
        }
        snapshot.poolHeraldedQBER()
        let truth = (1 - visibility) / 2
        let all = snapshot.heralded.flatMap { $0.qber ?? [] } + snapshot.qber
        #expect(all.count == 6 && snapshot.qber.count == 2)
        for q in all {
            #expect(abs(q.qber.value - truth) <= 3 * q.qber.standardError, "QBER \(q.basis): \(q.qber), truth \(truth)")
        }
        let z = try #require(snapshot.qber.first { $0.basis == "Z" })
        #expect(z.siftedCoincidences == snapshot.heralded.compactMap { $0.qber?.first { $0.basis == "Z" }?.siftedCoincidences }.reduce(0, +))
    }

    @Test("the result does not depend on chunking, and configured time segments give the same as markers")
    func chunkingAndSegments() throws {
        let (batch, _) = HeraldedExperiment.generate(seed: 5, attempts: 5_000, visibility: 0.9)
        let markersA = BasisSource.markers(HeraldedExperiment.markersA)
        let markersB = BasisSource.markers(HeraldedExperiment.markersB)
        let whole = try HeraldedExperiment.run([batch], sourceA: markersA, sourceB: markersB)
        let small = try HeraldedExperiment.run(HeraldedExperiment.chunks(batch, sizes: [1, 3, 50]), sourceA: markersA, sourceB: markersB)
        #expect(whole == small)
        let segments = (0..<20).map { BasisSegment(startPs: Int64($0) * HeraldedExperiment.segmentPs, basis: HeraldedExperiment.bases[$0 % 3]) }
        let stripped = TagBatch(timesPs: batch.timesPs, channels: batch.channels)
        let fromSegments = try HeraldedExperiment.run([stripped], sourceA: .segments(segments), sourceB: .segments(segments))
        #expect(fromSegments == whole)
        #expect(whole.map(\.heralds).reduce(0, +) > 3000)
    }

    @Test("basis settings from segments feed CHSH: S = 2√2·V within 3 standard errors; passive detectors give E per basis")
    func chshFromSegments() throws {
        var rng = SeededGenerator(seed: 9)
        let visibility = 0.9
        // Four setting combinations, 2 ms each, cycled: A in a (0) or a′ (π/2), B in b (π/4) or b′ (3π/4).
        let anglesA: [String: Double] = ["a": 0, "a'": .pi / 2], anglesB: [String: Double] = ["b": .pi / 4, "b'": 3 * .pi / 4]
        let combos = [("a", "b"), ("a", "b'"), ("a'", "b"), ("a'", "b'")]
        let segmentPs: Int64 = 2_000_000_000
        var events: [(Int64, TagChannel)] = []
        var segmentsA: [BasisSegment] = [], segmentsB: [BasisSegment] = []
        for s in 0..<40 {
            let (sa, sb) = combos[s % 4]
            segmentsA.append(BasisSegment(startPs: Int64(s) * segmentPs, basis: sa))
            segmentsB.append(BasisSegment(startPs: Int64(s) * segmentPs, basis: sb))
            for _ in 0..<1000 {
                let t = Int64(s) * segmentPs + Int64(rng.nextUnit() * Double(segmentPs - 10_000))
                let e = visibility * cos(anglesA[sa]! - anglesB[sb]!)
                let same = rng.nextUnit() < (1 + e) / 2
                let aPlus = rng.nextUnit() < 0.5
                events.append((t, aPlus ? 1 : 2))
                events.append((t + 700 + Int64(rng.nextGaussian() * 40), (same == aPlus) ? 3 : 4))
            }
        }
        events.sort { $0.0 < $1.0 }
        let batch = TagBatch(timesPs: events.map(\.0), channels: events.map(\.1))
        var labeler = try BasisLabeler(roles: HeraldedExperiment.roles(), sourceA: .segments(segmentsA), sourceB: .segments(segmentsB))
        var counter = try BasisCorrelationCounter(outcomeChannels: labeler.outcomeChannels,
                                                  window: try CoincidenceWindow(lowerPs: 200, upperPs: 1200))
        for chunk in SyntheticStreams.chunks(batch, sizes: [5000, 123]) { try counter.process(labeler.process(chunk)) }
        counter.finish()
        let settings = counter.results(durationPs: batch.timesPs.last! - batch.timesPs.first!)
        // Every pair counted once, plus ~20 accidental coincidences between different pairs (500 kHz × 1 ns).
        let total = settings.map(\.counts.total).reduce(0, +)
        #expect(total >= 40_000 && total <= 40_080, "\(total) coincidences")
        let s = try #require(SettingEstimates.chsh(settings, CHSHSettings(a: "a", aPrime: "a'", b: "b", bPrime: "b'"), .raw))
        let truth = 2 * 2.squareRoot() * visibility
        // With these angles E(a,b′) = −V/√2, so the default signs (+, −, +, +) give S = 2√2·V.
        #expect(abs(s.value - truth) < 3 * s.standardError, "S = \(s), truth \(truth)")
    }
}
