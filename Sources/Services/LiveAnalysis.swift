import Correlation
import LinkModel
import Protocol
import TimeTags

/// Which channels mean what for the live analysis of a two-lab link: each lab's outcome detectors and where
/// its measurement basis comes from (the detectors themselves, a fixed basis, time segments or markers).
/// Channels and markers are each lab's own numbers.
public struct AnalysisLayout: Sendable, Equatable {
    /// The outcome detectors of both labs (side, outcome and, for passive basis choice, basis).
    public var roles: [DetectorRole]
    /// Where lab A's basis comes from.
    public var sourceA: BasisSource
    /// Where lab B's basis comes from.
    public var sourceB: BasisSource
    /// Lab A's outcome channels.
    public var channelsA: [TagChannel] { roles.filter { $0.side == .a }.map(\.channel) }
    /// Lab B's outcome channels.
    public var channelsB: [TagChannel] { roles.filter { $0.side == .b }.map(\.channel) }
    /// Half width of the coincidence window after clock correction, ps.
    public var windowHalfWidthPs: Int64 = 1_000
    /// The clock relation: recovered from the pairs (the default, causal: no smoothing lag) or a shared reference.
    public var clock: LinkClockReference = .independent(.causal)
    /// The Bell state the link aims for.
    public var target: BellState = .psiMinus
    /// Bases of the CHSH combination, when S is wanted.
    public var chsh: CHSHSettings?
    /// A heralded link: each lab's readouts are correlated with the herald they belong to (Correlation's
    /// ``HeraldedAnalysis`` inside the engine), per herald type, instead of with each other.
    public var heralded = false
    /// Heralded link: largest lag between a herald and a readout searched, ps.
    public var heraldMaxLagPs: Int64 = 1_000_000_000

    /// Passive basis choice: lab A's and lab B's detectors H, V, D, A in that order (Z basis: H/V, X basis: D/A).
    public init(channelsA: [TagChannel], channelsB: [TagChannel]) {
        var roles: [DetectorRole] = []
        for (side, channels) in [(LabSide.a, channelsA), (.b, channelsB)] {
            for (channel, name) in zip(channels, ["H", "V", "D", "A"]) {
                if let (outcome, basis) = ResolvedDetector.role(named: name) {
                    roles.append(DetectorRole(channel: channel, side: side, outcome: Outcome(outcome), basis: basis))
                }
            }
        }
        self.init(roles: roles, sourceA: .detectors, sourceB: .detectors)
    }

    /// Outcome detectors `roles` with the labs' basis sources (e.g. `.markers` for a simulator whose labs
    /// announce each basis period with a marker).
    public init(roles: [DetectorRole], sourceA: BasisSource, sourceB: BasisSource) {
        self.roles = roles
        self.sourceA = sourceA
        self.sourceB = sourceB
    }

    /// The engine configuration of this layout: every lab A × lab B outcome detector as a pair, lab B's channels
    /// and markers in the engine's numbering.
    public var engineConfiguration: LinkAnalysisConfiguration {
        var configuration = LinkAnalysisConfiguration(twoLabs: true, pairs: [], windowHalfWidthPs: windowHalfWidthPs)
        let b = { (channel: TagChannel) in configuration.engineChannel(channel, side: .b) }
        configuration.pairs = channelsA.flatMap { a in channelsB.map { ChannelPair(a, b($0)) } }
        configuration.roles = roles.map { role in
            var shifted = role
            shifted.channel = configuration.engineChannel(role.channel, side: role.side)
            return shifted
        }
        configuration.sourceA = sourceA
        if case .markers(let map) = sourceB {
            configuration.sourceB = .markers(Dictionary(uniqueKeysWithValues: map.map { (b($0.key), $0.value) }))
        } else {
            configuration.sourceB = sourceB
        }
        configuration.target = target
        configuration.chsh = chsh
        configuration.clock = clock
        configuration.heraldReadoutMaxLagPs = heralded ? heraldMaxLagPs : nil
        return configuration
    }
}

/// The coordinator's live analysis: a thin adapter over Correlation's ``LinkAnalysis`` (the same engine as
/// `qlink correlate`), fed each lab's batches and the decided heralds as they arrive.
public struct LiveAnalysis: Sendable {
    public let layout: AnalysisLayout
    private var engine: LinkAnalysis?
    /// Latest time fed per lab (batches going back in time are skipped).
    private var lastPs: [Int64] = [.min, .min]
    /// Tags skipped because their batch went back in time or was rejected.
    public private(set) var lateTags: Int64 = 0

    public init(layout: AnalysisLayout) {
        self.layout = layout
        engine = try? LinkAnalysis(configuration: layout.engineConfiguration)
    }

    /// Heralded link: adds the heralds decided from lab A's stream (in order), which covers the station through
    /// `coveredThroughPs`; failed attempts carry no state and are left out.
    public mutating func addHeralds(_ heralds: [Herald], coveredThroughPs: Int64?) {
        engine?.addHeralds(Self.engineHeralds(heralds), coveredThroughPs: coveredThroughPs)
    }

    /// The decided `heralds` as the engine takes them: the successful ones with their type.
    public static func engineHeralds(_ heralds: [Herald]) -> [(timePs: Int64, type: HeraldType)] {
        heralds.compactMap { herald in
            switch herald.outcome {
            case .psiPlus: (herald.timePs, HeraldType.psiPlus)
            case .psiMinus: (herald.timePs, HeraldType.psiMinus)
            case .failure: nil
            }
        }
    }

    /// Adds a batch from lab 0 (A) or 1 (B).
    public mutating func add(lab: Int, batch: TagBatch) {
        guard lab == 0 || lab == 1 else { return }
        guard batch.isSorted, (batch.timesPs.first ?? .max) >= lastPs[lab] else {
            lateTags += Int64(batch.count)
            return
        }
        if let last = batch.timesPs.last { lastPs[lab] = last }
        do {
            try engine?.add(lab: lab, batch: batch)
        } catch {
            lateTags += Int64(batch.count)
        }
    }

    /// End of both labs' streams (the run is over): everything held is analysed.
    public mutating func finish() {
        try? engine?.finish()
    }

    /// Clock events since the last call (acquired, lost, re-acquired), oldest first.
    public mutating func takeClockEvents() -> [ClockEvent] { engine?.takeClockEvents() ?? [] }

    /// The clock relation now (cheap; the full ``snapshot`` recounts everything).
    public var clock: LinkClockStatus? { engine?.clockStatus }

    /// Bootstrap replicates of the live tomography's standard errors: 50, so that a window's reconstruction
    /// stays cheap (one maximum-likelihood fit is about a millisecond, raw and accidental-subtracted each get
    /// their own bootstrap); `qlink correlate --tomography` uses 200. σ from 50 replicates is itself uncertain
    /// by about 10 %.
    public static let tomographyBootstrapReplicates = 50

    /// The results so far; with the two-qubit tomography (``tomography(settings:heralded:layout:)``) of all
    /// coincidences, or of each herald state on a heralded link, once its nine setting pairs have counts.
    public var snapshot: LinkAnalysisSnapshot {
        var snapshot = engine?.snapshot() ?? LinkAnalysisSnapshot(durationPs: 0)
        snapshot.lateEvents = lateTags
        if let engine {
            let tomography = Self.tomography(settings: engine.settingCounts(), heralded: engine.heraldedSettingCounts(), layout: layout)
            snapshot.tomography = tomography.results.isEmpty ? nil : tomography.results
            snapshot.tomographyFailures = tomography.failures.isEmpty ? nil : tomography.failures
        }
        return snapshot
    }

    /// The tomography of each set of counts (all coincidences; each herald state on a heralded link), target the
    /// layout's Bell state or the herald state, bootstrap ``tomographyBootstrapReplicates``, detectors and their
    /// efficiency ratios from the layout's roles (``TomographyDetectors/init(roles:)``, as `qlink correlate
    /// --tomography` resolves them). A set is left out until its settings can determine the state (nine setting
    /// pairs with counts with two detectors per qubit, sixteen with one); after that, a reconstruction that fails
    /// (or detectors that do not resolve) is a ``TomographyFailure`` with the reason, never a silent absence.
    static func tomography(settings: [SettingCounts], heralded: [(state: BellState, settings: [SettingCounts])],
                           layout: AnalysisLayout) -> (results: [LinkTomography], failures: [TomographyFailure]) {
        let sets = LinkTomography.countSets(settings: settings, heralded: heralded, target: layout.target)
        let detectors: TomographyDetectors
        do {
            detectors = try TomographyDetectors(roles: layout.roles)
        } catch {
            return ([], sets.map { TomographyFailure(heraldedState: $0.heraldedState, reason: "\(error)") })
        }
        var results: [LinkTomography] = [], failures: [TomographyFailure] = []
        for set in sets where set.settings.filter({ $0.counts.total > 0 }).count >= (detectors.perQubit == 2 ? 9 : 16) {
            do {
                results.append(try LinkTomography.reconstruct(set, detectors: detectors, bootstrapReplicates: tomographyBootstrapReplicates))
            } catch {
                failures.append(TomographyFailure(heraldedState: set.heraldedState, reason: "\(error)"))
            }
        }
        return (results, failures)
    }
}
