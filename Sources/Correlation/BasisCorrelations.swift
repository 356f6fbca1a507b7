import TimeTags
import LinkModel

/// Joint outcome counts of lab A in basis `basisA` and lab B in basis `basisB`.
public struct SettingCounts: Sendable, Codable, Equatable {
    public var basisA: String
    public var basisB: String
    /// Raw coincidences per outcome cell (++, +−, −+, −−).
    public var counts: JointCounts
    /// Accidentals per cell from the cells' singles (nil when not computed, e.g. for heralded counts).
    public var accidentals: [Estimate]?

    public init(basisA: String, basisB: String, counts: JointCounts, accidentals: [Estimate]? = nil) {
        self.basisA = basisA; self.basisB = basisB; self.counts = counts; self.accidentals = accidentals
    }

    /// The correlation E, raw or with the accidentals subtracted cell by cell.
    public func correlation(_ basis: CountBasis) throws(CorrelationError) -> Estimate {
        switch basis {
        case .raw: return try BellEstimators.correlation(raw: counts)
        case .accidentalSubtracted:
            guard let accidentals else {
                throw CorrelationError(.insufficientData, "no accidental estimates for \(basisA)\(basisB)", context: "correlation")
            }
            return try BellEstimators.correlation(raw: counts, accidentals: accidentals)
        }
    }
}

/// Counts two-lab coincidences per basis combination from a labelled stream (see ``BasisLabeler``): for
/// every pair of bases, the four outcome cells in one coincidence window on the lag `t_B − t_A`.
///
/// Fed either one stream holding both labs in time order (``process(_:)``), or, inside ``LinkAnalysis`` with two
/// labs, each lab's labelled events separately (`add(lab:_:)`): then lab A is scanned against lab B
/// (``CrossLabScan``) and no merged stream is built. Both count the same pairs.
public struct BasisCorrelationCounter: Sendable {
    public let outcomeChannels: OutcomeChannels
    public let window: CoincidenceWindow
    /// Per basis combination, its four outcome cells (++, +−, −+, −−).
    private let specs: [CoincidenceSpec]
    private let combinations: [(Int, Int)]
    /// One merged stream.
    private var merged: CoincidenceCounter?
    /// Two labs fed separately: the cells counted lab A against lab B, and the outcome singles.
    private var crossLab: CrossLabScan?
    private var crossLabSingles: SinglesCounter?

    /// A counter fed one stream holding both labs (``process(_:)``).
    public init(outcomeChannels: OutcomeChannels, window: CoincidenceWindow) throws(CorrelationError) {
        try self.init(outcomeChannels: outcomeChannels, window: window, crossLab: false)
    }

    /// A counter fed one merged stream, or (`crossLab`) each lab's stream separately (`add(lab:_:)`).
    init(outcomeChannels: OutcomeChannels, window: CoincidenceWindow, crossLab: Bool) throws(CorrelationError) {
        guard !outcomeChannels.bases.isEmpty else {
            throw CorrelationError(.invalidParameter, "no measurement bases are known",
                                   context: "basis correlations", hint: "name detectors H/V/D/A/R/L or configure the bases")
        }
        self.outcomeChannels = outcomeChannels
        self.window = window
        var specs: [CoincidenceSpec] = []
        var combinations: [(Int, Int)] = []
        let n = outcomeChannels.bases.count
        for i in 0..<n {
            for j in 0..<n {
                combinations.append((i, j))
                for (oa, ob) in [(Outcome.plus, Outcome.plus), (.plus, .minus), (.minus, .plus), (.minus, .minus)] {
                    let pair = ChannelPair(outcomeChannels.channel(side: .a, basisIndex: i, outcome: oa),
                                           outcomeChannels.channel(side: .b, basisIndex: j, outcome: ob))
                    specs.append(CoincidenceSpec(pair, window: window))
                }
            }
        }
        self.combinations = combinations
        self.specs = specs
        if crossLab {
            var channels: [TagChannel] = []
            for spec in specs { channels.append(spec.pair.first); channels.append(spec.pair.second) }
            self.crossLabSingles = SinglesCounter(channels: channels)
            self.crossLab = CrossLabScan(spanPs: window.reachPs,
                                    visitor: PairScanVisitor(pairs: specs.map(\.pair), specs: specs, histograms: []))
        } else {
            merged = try CoincidenceCounter(specs: specs)
        }
    }

    /// Adds one labelled chunk of the merged stream.
    public mutating func process(_ batch: TagBatch) throws(CorrelationError) {
        guard merged != nil else {
            throw CorrelationError(.invalidParameter, "a merged chunk for a counter fed each lab separately", context: "basis correlations")
        }
        try merged?.process(batch)
    }

    /// Two labs fed separately: adds lab `lab`'s (0 = A, 1 = B) labelled chunk, on lab A's axis, continuing the lab's
    /// previous chunks.
    mutating func add(lab: Int, _ batch: TagBatch) throws(CorrelationError) {
        try crossLab?.add(lab: lab, batch)
        crossLabSingles?.add(batch)
    }

    /// Two labs fed separately: lab `lab`'s stream has ended.
    mutating func end(lab: Int) { crossLab?.end(lab: lab) }

    /// Ends the stream.
    public mutating func finish() { merged?.finish() }
    /// Events carried between chunks.
    public var carriedEvents: Int { merged?.carriedEvents ?? crossLab?.heldEvents ?? 0 }

    /// Counts for every basis combination with at least one coincidence, with accidentals from singles
    /// over `durationPs` (complete after ``finish()``).
    public func results(durationPs: Int64) -> [SettingCounts] {
        let counts = merged?.counts ?? crossLab?.visitor.counts ?? []
        let singles = merged?.singles ?? crossLabSingles?.counts ?? [:]
        let bases = outcomeChannels.bases
        var results: [SettingCounts] = []
        for (k, (i, j)) in combinations.enumerated() {
            let cells = (0..<4).map { Double(counts[4 * k + $0]) }
            guard cells.reduce(0, +) > 0 else { continue }
            var accidentals: [Estimate]? = []
            for cell in 0..<4 {
                let pair = specs[4 * k + cell].pair
                let estimate = try? Accidentals.fromSingles(singlesA: singles[pair.first] ?? 0, singlesB: singles[pair.second] ?? 0,
                                                            windowPs: window.widthPs, durationPs: durationPs)
                if let estimate { accidentals?.append(estimate) } else { accidentals = nil; break }
            }
            results.append(SettingCounts(basisA: bases[i], basisB: bases[j], counts: JointCounts(cells: cells),
                                         accidentals: accidentals))
        }
        return results
    }
}

/// Settings of a CHSH test: lab A's settings `a`, `a′`, lab B's `b`, `b′` (basis labels).
public struct CHSHSettings: Sendable, Codable, Equatable {
    public var a: String, aPrime: String, b: String, bPrime: String
    /// Signs of E(a,b), E(a,b′), E(a′,b), E(a′,b′).
    public var signs: [Double]
    public init(a: String, aPrime: String, b: String, bPrime: String, signs: [Double] = [1, -1, 1, 1]) {
        self.a = a; self.aPrime = aPrime; self.b = b; self.bPrime = bPrime; self.signs = signs
    }
}

/// Turns per-setting counts into E per basis, fidelity and CHSH S.
public enum SettingEstimates {
    /// E of the combination (basisA, basisB), when counted.
    public static func correlation(_ settings: [SettingCounts], _ basisA: String, _ basisB: String,
                                   _ basis: CountBasis) -> Estimate? {
        guard let cell = settings.first(where: { $0.basisA == basisA && $0.basisB == basisB }) else { return nil }
        return try? cell.correlation(basis)
    }

    /// Fidelity to `state` from ZZ, XX and YY (nil unless all three were measured).
    public static func fidelity(_ settings: [SettingCounts], to state: BellState, _ basis: CountBasis) -> Estimate? {
        guard let z = correlation(settings, "Z", "Z", basis), let x = correlation(settings, "X", "X", basis),
              let y = correlation(settings, "Y", "Y", basis) else { return nil }
        return BellEstimators.fidelity(to: state, z: z, x: x, y: y)
    }

    /// The Z/X lower bound on the fidelity (nil unless ZZ and XX were measured).
    public static func fidelityLowerBound(_ settings: [SettingCounts], to state: BellState, _ basis: CountBasis) -> Estimate? {
        guard let z = correlation(settings, "Z", "Z", basis), let x = correlation(settings, "X", "X", basis) else { return nil }
        return BellEstimators.fidelityLowerBound(to: state, z: z, x: x)
    }

    /// CHSH S from the four combinations of `chsh` (nil unless all four were measured).
    public static func chsh(_ settings: [SettingCounts], _ chsh: CHSHSettings, _ basis: CountBasis) -> Estimate? {
        guard let ab = correlation(settings, chsh.a, chsh.b, basis),
              let abPrime = correlation(settings, chsh.a, chsh.bPrime, basis),
              let aPrimeB = correlation(settings, chsh.aPrime, chsh.b, basis),
              let aPrimeBPrime = correlation(settings, chsh.aPrime, chsh.bPrime, basis) else { return nil }
        return BellEstimators.chsh(ab: ab, abPrime: abPrime, aPrimeB: aPrimeB, aPrimeBPrime: aPrimeBPrime, signs: chsh.signs)
    }
}
