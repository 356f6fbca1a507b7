import TimeTags

/// The streaming analysis of a two-lab link, for files and live links alike.
///
/// Fed each lab's raw tags in chunks of any size (``add(lab:batch:)``, markers interleaved in time order), the
/// engine renumbers lab B's channels (``LinkAnalysisConfiguration/labBChannelOffset``), labels outcomes with
/// their bases (``BasisLabeler``), applies the channels' delays (``DelayCompensator``), maps lab B's times onto
/// lab A's axis through the clock relation and counts (``LinkCounters``): coincidences with side windows and
/// histograms by scanning lab A against lab B (``CrossLabScan``), joint outcomes per basis pair
/// (``BasisCorrelationCounter``, lab A against lab B too) and heralded outcomes (``HeraldedCounter``) on the labs
/// merged in time order.
/// Each lab's events are held until the clock mapping for their time is final, so the counts do not depend on
/// how the input was cut. ``snapshot()`` reports the results at the link time analysed so far; ``finish()``
/// ends both streams (end of files).
public struct LinkAnalysis: Sendable {
    /// The link being analysed.
    public let configuration: LinkAnalysisConfiguration
    private var chains: [LabChain]
    var clock: LinkClock
    /// Processed events of each lab not yet counted (lab B on its own clock), chunk by chunk.
    private var pending = [HeldChunks(), HeldChunks()]
    var counters: LinkCounters
    /// First time counted and the link time through which both labs are counted (lab A's axis).
    var firstPs: Int64? { counters.firstPs }
    var lastPs: Int64? { counters.lastPs }
    /// Events left out because no clock mapping covered them.
    private(set) var unmappedEvents: Int64 = 0
    private(set) var finished = false
    /// Heralded link: readouts correlated with the decided heralds.
    private(set) var heraldReadouts: HeraldedAnalysis?

    /// An engine for `configuration`. Throws when the pairs, windows, bases or heralds are unusable.
    public init(configuration: LinkAnalysisConfiguration) throws(CorrelationError) {
        self.configuration = configuration
        var labeler = try Self.makeLabeler(configuration)
        labeler?.keepsOriginalEvents = true
        var delays = configuration.delaysPs
        if let labeler {
            for (channel, delay) in configuration.delaysPs {
                for labelled in labeler.labelledChannels(of: channel) { delays[labelled] = delay }
            }
        }
        let shift = configuration.twoLabs ? LinkAnalysisConfiguration.labBChannelOffset : 0
        chains = [LabChain(shift: 0, labeler: labeler, delays: DelayCompensator(delays: ChannelDelays(delays))),
                  LabChain(shift: shift, labeler: labeler, delays: DelayCompensator(delays: ChannelDelays(delays)))]
        clock = try LinkClock(configuration)
        counters = try LinkCounters(configuration, outcomeChannels: labeler?.outcomeChannels)
        if let maxLagPs = configuration.heraldReadoutMaxLagPs, let labeler {
            heraldReadouts = HeraldedAnalysis(outcomeChannels: labeler.outcomeChannels, windowHalfWidthPs: configuration.windowHalfWidthPs,
                                              maxLagPs: maxLagPs)
        }
    }

    /// Heralded link: adds the successful heralds decided from lab A's stream (attempt times in order), which
    /// covers the station through `coveredThroughPs`.
    public mutating func addHeralds(_ heralds: [(timePs: Int64, type: HeraldType)], coveredThroughPs: Int64?) {
        heraldReadouts?.addHeralds(heralds.map { ($0.timePs, $0.type) }, coveredThroughPs: coveredThroughPs)
    }

    static func makeLabeler(_ configuration: LinkAnalysisConfiguration) throws(CorrelationError) -> BasisLabeler? {
        guard configuration.labelsBases else { return nil }
        return try BasisLabeler(roles: configuration.roles, sourceA: configuration.sourceA, sourceB: configuration.sourceB)
    }

    /// The labelled outcome channels (bases), when bases are known.
    public var outcomeChannels: OutcomeChannels? { counters.outcomeChannels }

    /// Events held in memory awaiting the clock mapping or the other lab (the engine's buffers and the clock
    /// recovery's); bounded by the acquisition horizon while there is no lock.
    public var heldEvents: Int { pending[0].count + pending[1].count + counters.heldEvents + clock.bufferedEvents }

    /// Lab A time through which both labs have been analysed (nil before the first merged event), ps.
    public var linkTimePs: Int64? { lastPs }

    /// Where lab `lab`'s time `timePs` lies on lab A's axis (lab B through the clock relation as known now, its
    /// own time before lock): feeding the lab that is behind first keeps the engine's buffers small.
    public func labTimeOnA(lab: Int, _ timePs: Int64) -> Int64 {
        lab == 0 || !configuration.twoLabs ? timePs : clock.approximateA(timePs)
    }

    /// Adds a chunk of lab 0 (A) or 1 (B): its own channel and marker numbers, sorted by time, continuing the
    /// lab's previous chunks. With one stream (``LinkAnalysisConfiguration/twoLabs`` false) only lab 0 is fed.
    public mutating func add(lab: Int, batch: TagBatch) throws(CorrelationError) {
        guard lab == 0 || (lab == 1 && configuration.twoLabs) else {
            throw CorrelationError(.invalidParameter, "lab \(lab) is not fed in this analysis", context: "link analysis",
                                   hint: configuration.twoLabs ? "use lab 0 (A) or 1 (B)" : "one stream holds both labs: feed lab 0")
        }
        guard !finished else {
            throw CorrelationError(.invalidParameter, "chunk after finish()", context: "link analysis lab \(lab)",
                                   hint: "start a new analysis for a new run")
        }
        let processed = try chains[lab].process(batch)
        try clock.add(lab: lab, processed)
        hold(processed, lab: lab)
        try release(throughPs: clock.finalThroughPs)
    }

    /// Holds a lab's processed events until the clock mapping for their time is final.
    private mutating func hold(_ processed: TagBatch, lab: Int) { pending[lab].append(processed) }

    /// Feeds both labs from `next` (the next chunk of a lab, nil at its end), always the lab that is behind on
    /// lab A's axis, until both have ended; then ``finish()``. `fed` sees the engine after each chunk (to take
    /// its clock events or report progress).
    public mutating func addInTimeOrder(next: (Int) throws -> TagBatch?, fed: (inout LinkAnalysis) -> Void = { _ in }) throws {
        let labs = configuration.twoLabs ? 2 : 1
        var done = [Bool](repeating: false, count: labs)
        var reached = [Int64](repeating: .min, count: labs)
        while let lab = (0..<labs).filter({ !done[$0] }).min(by: { reached[$0] < reached[$1] }) {
            guard let batch = try next(lab) else { done[lab] = true; continue }
            if let last = batch.timesPs.last { reached[lab] = labTimeOnA(lab: lab, last) }
            try add(lab: lab, batch: batch)
            fed(&self)
        }
        try finish()
    }

    /// Clock events (acquired, lost, re-acquired) since the last call, oldest first, for the caller to log.
    public mutating func takeClockEvents() -> [ClockEvent] { clock.takeEvents() }

    /// Ends both labs' streams (end of files): flushes the delays, finishes the clock recovery and counts the
    /// rest. Throws `noPeakFound` when lab B's clock never locked (nothing could be mapped), saying what was tried.
    public mutating func finish() throws(CorrelationError) {
        guard !finished else { return }
        for lab in 0..<(configuration.twoLabs ? 2 : 1) {
            let rest = chains[lab].finish()
            try clock.add(lab: lab, rest)
            hold(rest, lab: lab)
        }
        try clock.finish()
        if configuration.twoLabs, clock.finalThroughPs == nil {
            finished = true
            let tried = clock.lastAttempt.map { "last search: \($0.summary)" } ?? "too few events for a search"
            throw CorrelationError(.noPeakFound, "lab B's clock never locked to lab A's (searched \(clock.searchedRange); \(tried))", context: "clock recovery",
                                   hint: "check that the pairs' channels see coincidences, the offset range (max_offset_ps) and the drift range, or declare a shared reference")
        }
        try release(throughPs: .max)
        finished = true
        for lab in 0..<(configuration.twoLabs ? 2 : 1) { try counters.end(lab: lab) }
        counters.finish()
    }

    /// Hands each lab's events whose mapped time is at most `throughPs` to the counters.
    private mutating func release(throughPs: Int64?) throws(CorrelationError) {
        guard let throughPs else {
            try dropUnmappable()
            return
        }
        defer { if clock.isReacquiring { try? dropUnmappable() } }
        // Each lab's chunks were checked to be sorted by its delays (lab B's stay sorted through the mapping).
        for chunk in pending[0].take(through: throughPs) { try count(lab: 0, chunk) }
        guard configuration.twoLabs, !pending[1].isEmpty else { return }
        let (mapped, unmapped) = clock.takeMapped(&pending[1], throughPs: throughPs)
        unmappedEvents += unmapped
        for chunk in mapped { try count(lab: 1, chunk) }
    }

    /// Counts lab `lab`'s events on lab A's axis; on a heralded link its readouts also go to the herald analysis
    /// (lab B's through the recovered clock, so each lab's lag after its herald is a fixed delay), the lab covered
    /// through its last event.
    private mutating func count(lab: Int, _ events: TagBatch) throws(CorrelationError) {
        try counters.add(lab: lab, events)
        if heraldReadouts != nil, let last = events.timesPs.last { heraldReadouts?.addReadouts(lab: lab, events, coveredThroughPs: last) }
    }

    /// Before the clock locks and while it re-acquires after a loss, keeps each lab's events of the acquisition
    /// horizon only (bounded memory); older ones count as ``LinkAnalysisSnapshot/unmappedEvents``.
    private mutating func dropUnmappable() throws(CorrelationError) {
        let horizon = clock.holdHorizonPs
        for lab in 0..<2 {
            guard let last = pending[lab].lastTimePs else { continue }
            unmappedEvents += Int64(pending[lab].drop(through: last &- horizon))
        }
    }

    /// Outcome events dropped so far because their lab had no basis yet.
    var unlabelledEvents: Int64 { chains.reduce(0) { $0 + ($1.labeler?.unlabelledEvents ?? 0) } }
}

/// One lab's chain before the merge: channel renumbering (lab B), basis labelling and per-channel delays.
struct LabChain: Sendable {
    let shift: TagChannel
    var labeler: BasisLabeler?
    var delays: DelayCompensator

    mutating func process(_ raw: TagBatch) throws(CorrelationError) -> TagBatch {
        var batch = raw
        if shift != 0 {
            let channels = raw.channels
            batch.channels = [TagChannel](unsafeUninitializedCapacity: channels.count) { shifted, count in
                channels.withUnsafeBufferPointer { input in
                    for index in input.indices { shifted[index] = input[index] &+ shift }
                }
                count = channels.count
            }
            batch.markers = batch.markers.map { MarkerEvent(timePs: $0.timePs, marker: $0.marker &+ shift) }
        }
        if var active = labeler {
            batch = active.process(batch)
            labeler = active
        }
        // Markers have done their work (bases); the counters need photons only.
        batch.markers = []
        batch.gaps = []
        return try delays.process(batch)
    }

    mutating func finish() -> TagBatch { delays.finish() }
}

/// One lab's processed events awaiting the clock mapping: its chunks as they came, held by reference (neither
/// copied nor joined), oldest first; only the chunk at a cut is split.
struct HeldChunks: Sendable {
    private(set) var chunks: [TagBatch] = []
    /// Events held.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    /// Time of the latest event held.
    var lastTimePs: Int64? { chunks.last?.timesPs.last }

    /// Holds a sorted chunk continuing the previous ones.
    mutating func append(_ chunk: TagBatch) {
        guard !chunk.isEmpty else { return }
        chunks.append(chunk)
        count += chunk.count
    }

    /// Takes the events at or before `throughPs`, in chunks (whole ones without copying).
    mutating func take(through throughPs: Int64) -> [TagBatch] {
        var taken: [TagBatch] = []
        while !chunks.isEmpty {
            let cut = firstIndex(in: chunks[0].timesPs, above: throughPs)
            guard cut > 0 else { break }
            taken.append(chunks[0].takeFirstPhotons(cut))
            count -= cut
            guard chunks[0].isEmpty else { break }
            chunks.removeFirst()
        }
        return taken
    }

    /// Drops the events at or before `throughPs`; returns how many.
    mutating func drop(through throughPs: Int64) -> Int {
        take(through: throughPs).reduce(0) { $0 + $1.count }
    }

    /// Drops the first `whole` chunks, then the first `photons` events of the next one.
    mutating func drop(chunks whole: Int, thenEvents photons: Int) {
        for chunk in chunks.prefix(whole) { count -= chunk.count }
        chunks.removeFirst(whole)
        guard photons > 0, !chunks.isEmpty else { return }
        chunks[0].dropFirstPhotons(photons)
        count -= photons
        if chunks[0].isEmpty { chunks.removeFirst() }
    }
}
