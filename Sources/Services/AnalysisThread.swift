import Correlation
import Dispatch
import Foundation
import Logging
import Protocol
import Synchronization
import TimeTags

/// The coordinator's live analysis on a thread of its own, fed through a bounded queue, so that the socket
/// thread (acknowledgements, heralds, heartbeats) never waits for the analysis — clock acquisition can take a
/// long burst of CPU.
///
/// **Falling behind.** The queue holds at most ``capacity`` batches. A batch offered to a full queue is dropped
/// whole, with the heralds decided from it: it is counted (``Progress/droppedBatches``, ``Progress/droppedTags``,
/// `analysis_dropped_batches` in the status) and a warning is logged at the first drop of each run of drops.
/// To the analysis a dropped batch looks like a span without events of that lab. Herald decisions,
/// acknowledgements and the journal never depend on the analysis: they happen on the socket thread before the
/// batch is offered.
///
/// **Snapshots.** ``requestSnapshot()`` asks for a snapshot; the thread takes it between two batches and
/// publishes it (``latestSnapshot``); its `linkTimePs` is the link time it covers. The status tick asks and
/// reads the latest complete one, never waiting. Clock events are logged on this thread; new clock
/// measurements wait for the socket thread to journal them (``takeClockMeasurements()``).
///
/// **Lifecycle.** ``Phase``: batches queue from ``init``; ``start()`` starts the thread; ``finish()`` stops
/// accepting batches, lets the thread analyse everything queued, ends both labs' streams and publishes the final
/// snapshot.
public final class AnalysisThread: Sendable {
    /// Where the analysis is in its life.
    public enum Phase: Sendable, Equatable {
        /// Accepting batches; the thread is not started yet.
        case ready
        /// Accepting batches and analysing them.
        case running
        /// ``finish()`` was called: no more batches; the thread works through the queue, then ends the streams.
        case draining
        /// The final snapshot is published; the thread has ended.
        case finished
    }

    /// Counters of the analysis' progress.
    public struct Progress: Sendable, Equatable {
        /// Batches (and their tags) dropped because the queue was full.
        public var droppedBatches: Int64 = 0
        public var droppedTags: Int64 = 0
        /// Batches analysed.
        public var analysedBatches: Int64 = 0
        public var analysedTags: Int64 = 0
    }

    /// A clock measurement to journal: the offset at the link time it refers to.
    public struct ClockMeasurement: Sendable, Equatable {
        public var timePs: Int64
        public var offsetPs: Double
    }

    /// One lab's batch and, for the station's lab, the heralds decided from it (added before it, covering it).
    private struct Work: Sendable {
        var lab: Int
        var batch: TagBatch
        var heralds: [Herald]?
    }

    private struct State: Sendable {
        var phase = Phase.ready
        var queue: [Work] = []
        var head = 0
        var progress = Progress()
        /// Whether the latest offer was dropped (one warning per run of drops).
        var dropping = false
        var snapshotRequested = false
        var latest: LinkAnalysisSnapshot?
        var clockMeasurements: [ClockMeasurement] = []

        var queued: Int { queue.count - head }

        mutating func pop() -> Work? {
            guard head < queue.count else { return nil }
            let work = queue[head]
            head += 1
            if head >= 1024 && head * 2 >= queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return work
        }
    }

    /// The most batches waiting.
    public let capacity: Int
    private let state = Mutex(State())
    /// Signalled once per offered batch, snapshot request and ``finish()``.
    private let wake = DispatchSemaphore(value: 0)
    /// Signalled when the thread has ended.
    private let ended = DispatchSemaphore(value: 0)
    private let logger: Logger
    private let layout: AnalysisLayout

    /// An analysis of `layout` queueing at most `capacity` batches; it analyses them once started.
    public init(layout: AnalysisLayout, capacity: Int, logger: Logger) {
        self.capacity = max(1, capacity)
        self.logger = logger
        self.layout = layout
    }

    /// Starts the thread (once; later calls do nothing).
    public func start() {
        let starting = state.withLock { state -> Bool in
            guard state.phase == .ready else { return false }
            state.phase = .running
            return true
        }
        guard starting else { return }
        let thread = Thread { [self] in run(LiveAnalysis(layout: layout)) }
        thread.name = "qlink.analysis"
        thread.start()
    }

    /// Queues lab `lab`'s batch after `heralds`, the heralds decided from it when it carries the station's
    /// detectors (nil otherwise; empty when none was decided: the batch still covers the station's time), unless
    /// the queue is full: then both are dropped and counted. - Returns: whether it was queued.
    @discardableResult
    public func offer(lab: Int, batch: TagBatch, heralds: [Herald]? = nil) -> Bool {
        let (queued, firstDrop, progress) = state.withLock { state -> (Bool, Bool, Progress) in
            guard state.phase == .ready || state.phase == .running else { return (false, false, state.progress) }
            guard state.queued < capacity else {
                state.progress.droppedBatches += 1
                state.progress.droppedTags += Int64(batch.count)
                defer { state.dropping = true }
                return (false, !state.dropping, state.progress)
            }
            state.dropping = false
            state.queue.append(Work(lab: lab, batch: batch, heralds: heralds))
            return (true, false, state.progress)
        }
        if queued { wake.signal() }
        if firstDrop {
            logger.warning("coordinator.analysis.behind", metadata: [
                "qlink.queue_batches": "\(capacity)", "qlink.dropped_batches": "\(progress.droppedBatches)",
                "qlink.dropped_tags": "\(progress.droppedTags)", "qlink.lab": "\(lab)",
                "qlink.action": "batches are dropped from the analysis (not from the journal) until it catches up"])
        }
        return queued
    }

    /// Asks for a snapshot; the thread publishes it after the batch it is analysing.
    public func requestSnapshot() {
        let ask = state.withLock { state -> Bool in
            guard state.phase != .finished, !state.snapshotRequested else { return false }
            state.snapshotRequested = true
            return true
        }
        if ask { wake.signal() }
    }

    /// The latest complete snapshot (nil before the first).
    public var latestSnapshot: LinkAnalysisSnapshot? { state.withLock { $0.latest } }

    /// Dropped and analysed batches so far.
    public var progress: Progress { state.withLock { $0.progress } }

    /// Where the analysis is in its life.
    public var phase: Phase { state.withLock { $0.phase } }

    /// Clock measurements made since the last call, oldest first.
    public func takeClockMeasurements() -> [ClockMeasurement] {
        state.withLock { state in defer { state.clockMeasurements.removeAll() }; return state.clockMeasurements }
    }

    /// Stops accepting batches, waits until everything queued is analysed and both labs' streams are ended
    /// (starting the thread if it was not). - Returns: the final snapshot.
    @discardableResult
    public func finish() -> LinkAnalysisSnapshot {
        start()
        let first = state.withLock { state -> Bool in
            guard state.phase == .running else { return false }
            state.phase = .draining
            return true
        }
        if first { wake.signal() }
        ended.wait()
        ended.signal()
        return state.withLock { $0.latest } ?? LinkAnalysisSnapshot(durationPs: 0)
    }

    /// The thread's loop: batches in order, snapshots when asked, the final snapshot when drained.
    private func run(_ initial: LiveAnalysis) {
        var analysis = initial
        var measurements = -1
        while true {
            wake.wait()
            while true {
                let (work, snapshotWanted, drained) = state.withLock { state -> (Work?, Bool, Bool) in
                    if state.snapshotRequested { state.snapshotRequested = false; return (nil, true, false) }
                    if let work = state.pop() { return (work, false, false) }
                    return (nil, false, state.phase == .draining)
                }
                if snapshotWanted {
                    let snapshot = analysis.snapshot
                    state.withLock { $0.latest = snapshot }
                    continue
                }
                if drained {
                    analysis.finish()
                    record(&analysis, measurements: &measurements, fallbackPs: nil)
                    let snapshot = analysis.snapshot
                    state.withLock {
                        $0.latest = snapshot
                        $0.phase = .finished
                    }
                    ended.signal()
                    return
                }
                guard let work else { break }
                if let heralds = work.heralds { analysis.addHeralds(heralds, coveredThroughPs: work.batch.timesPs.last) }
                analysis.add(lab: work.lab, batch: work.batch)
                record(&analysis, measurements: &measurements, fallbackPs: work.batch.timesPs.first)
                state.withLock {
                    $0.progress.analysedBatches += 1
                    $0.progress.analysedTags += Int64(work.batch.count)
                }
            }
        }
    }

    /// Logs the clock events of the latest batch and keeps a new clock measurement for the journal (at its own
    /// link time, else at `fallbackPs`, the batch's first tag).
    private func record(_ analysis: inout LiveAnalysis, measurements: inout Int, fallbackPs: Int64?) {
        for event in analysis.takeClockEvents() {
            logger.log(level: event.isWarning ? .warning : .info, "coordinator.clock", metadata: ["qlink.event": "\(event.text)"])
        }
        guard let clock = analysis.clock, let offset = clock.offsetPs, clock.measurements != measurements else { return }
        if measurements < 0 { logger.info("coordinator.clock.recovered", metadata: ["qlink.offset_ps": "\(offset.value)"]) }
        measurements = clock.measurements
        let measurement = ClockMeasurement(timePs: clock.atPs ?? fallbackPs ?? 0, offsetPs: offset.value)
        state.withLock { $0.clockMeasurements.append(measurement) }
    }
}
