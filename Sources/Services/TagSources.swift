import Synchronization
import Foundation
import Simulation
import TimeTags
#if canImport(Glibc)
import Glibc
#endif

/// Where a node's tags come from.
public enum TagSourceSpec: Sendable {
    /// Replay of a tag file in any readable format, at real-time pace or as fast as possible.
    case file(path: String, realTime: Bool)
    /// A load generator: `batch` (time-sorted) sent `repetitions` times as fast as possible, shifted by
    /// `spanPs` more each time, so the stream stays in time order. For throughput tests and benchmarks.
    case pattern(TagBatch, repetitions: Int, spanPs: Int64)
    /// A pipe (standard input from a hardware bridge) in the native or CSV format: tags go out as they
    /// arrive; a slow coordinator slows the reading, so the writer blocks instead of losing data.
    case stream(fileDescriptor: Int32, format: TagStreamFormat)
    /// The link simulator (`Simulation`) run from a configuration's `model:` and `simulation:` sections:
    /// this lab's stream, plus the midpoint station's stream for the lab whose tagger records it
    /// (`withStation`), merged in time order. Every node runs the same seeded simulation and keeps its part.
    /// It takes part in repetition-rate changes (``TagSourceRunner/holdForRateChange(_:)``,
    /// ``TagSourceRunner/applyRepetitionRate(_:fromPs:)``).
    case simulation(ConfiguredSimulation, role: StreamRole, withStation: Bool, realTime: Bool)
}

extension TagSourceSpec: Equatable {
    public static func == (lhs: TagSourceSpec, rhs: TagSourceSpec) -> Bool {
        switch (lhs, rhs) {
        case let (.file(a, ra), .file(b, rb)): return a == b && ra == rb
        case let (.pattern(a, na, sa), .pattern(b, nb, sb)): return a == b && na == nb && sa == sb
        case let (.stream(a, fa), .stream(b, fb)): return a == b && fa == fb
        case let (.simulation(a, ra, wa, ta), .simulation(b, rb, wb, tb)):
            return a.linkName == b.linkName && a.options == b.options && ra == rb && wa == wb && ta == tb
        default: return false
        }
    }
}

/// Runs a tag source on its own thread, feeding a ``BatchQueue``.
public final class TagSourceRunner: Sendable {
    public let queue: BatchQueue
    private let failure = Mutex<String?>(nil)
    /// The running simulation (`.simulation` sources) and what holds it, shared with the control path that
    /// holds it and changes its rate between two generated windows.
    private let simulation = Mutex<SimulationControl>(SimulationControl())

    /// Why a simulation source is held (it generates nothing more while any hold is in place).
    public enum RateHold: Hashable, Sendable {
        /// Until the node has the coordinator's rate schedule (a node starts this way, so a restarted node
        /// applies every committed change before generating past it).
        case schedule
        /// Until the fate of the proposed change with this id is known.
        case change(UInt64)
    }

    /// A simulation, the configuration that resolves it at other rates, and its holds.
    private struct SimulationControl: Sendable {
        var configured: ConfiguredSimulation?
        var simulator: LinkSimulator?
        var rateHz: Double = 0
        var holds: Set<RateHold> = []
    }

    /// Starts `spec` on a new thread.
    /// - Parameters:
    ///   - resumeAfterTags: tags of the source's stream already taken (a restarted node's spool says how many): a
    ///     simulation, a pattern or a file produces its stream again from the start and skips them, so the node
    ///     carries on where it stopped instead of sending them again; real-time pacing starts at the resume point.
    ///     A pipe cannot be replayed: it carries on with whatever arrives.
    ///   - holdUntilScheduled: a simulation source starts held (``RateHold/schedule``) until ``release(_:)``: the
    ///     node releases it once it has applied the coordinator's rate schedule.
    public init(spec: TagSourceSpec, queueCapacity: Int = 256, resumeAfterTags: Int64 = 0, holdUntilScheduled: Bool = false) {
        let queue = BatchQueue(capacity: queueCapacity)
        self.queue = queue
        if case .simulation(let configured, _, _, _) = spec {
            simulation.withLock { control in
                control.configured = configured
                control.rateHz = configured.repetitionRateHz
                control.simulator = try? configured.makeSimulator()
                if holdUntilScheduled { control.holds.insert(.schedule) }
            }
        }
        let thread = Thread { [self] in
            do {
                try run(spec, skipping: resumeAfterTags)
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            queue.finish()
        }
        thread.name = "qlink.source"
        thread.start()
    }

    /// Why the source stopped early, if it failed.
    public var failureDescription: String? { failure.withLock { $0 } }

    /// Holds a simulation source where it is (between two generated windows) for `reason`. - Returns: the link
    /// time it has generated through, where it now stays until every hold is released (nil: the source has no
    /// repetition rate).
    public func holdForRateChange(_ reason: RateHold) -> Int64? {
        simulation.withLock { control in
            guard let simulator = control.simulator else { return nil }
            control.holds.insert(reason)
            return simulator.generatedThroughPs
        }
    }

    /// Releases the hold for `reason` (the source generates on once no hold remains).
    public func release(_ reason: RateHold) {
        simulation.withLock { _ = $0.holds.remove(reason) }
    }

    /// Whether the link can run at `rateHz` (nil: the source has no repetition rate); the reason when it cannot.
    public func canRun(atRateHz rateHz: Double) -> Result<Void, RateRefusal>? {
        simulation.withLock { control in
            guard let configured = control.configured, control.simulator != nil else { return nil }
            do {
                _ = try configured.scenario(repetitionRateHz: rateHz)
                return .success(())
            } catch {
                return .failure(RateRefusal(reason: "\(error)"))
            }
        }
    }

    /// Why a rate cannot be run or applied.
    public struct RateRefusal: Error, Sendable, Equatable {
        public var reason: String
        public init(reason: String) { self.reason = reason }
    }

    /// Runs a simulation source at `rateHz` from link time `fromPs` on (a heralded link from the first attempt
    /// of the grid in force at or after it). - Returns: the link time the new rate applies from, or why it cannot
    /// (no rate, a rate the link cannot run at, or a time already generated).
    public func applyRepetitionRate(_ rateHz: Double, fromPs: Int64) -> Result<Int64, RateRefusal> {
        simulation.withLock { control -> Result<Int64, RateRefusal> in
            // The simulator is changed in place (never copied: its buffers stay uniquely referenced).
            guard let configured = control.configured, control.simulator != nil else {
                return .failure(RateRefusal(reason: "this tag source has no repetition rate to change"))
            }
            do {
                let scenario = try configured.scenario(repetitionRateHz: rateHz)
                let effective = try control.simulator!.changeScenario(to: scenario, fromPs: fromPs)
                control.rateHz = rateHz
                return .success(effective)
            } catch {
                return .failure(RateRefusal(reason: "\(error)"))
            }
        }
    }

    /// The repetition rate a simulation source runs at after its latest change, Hz (nil for other sources).
    public var repetitionRateHz: Double? { simulation.withLock { $0.simulator == nil ? nil : $0.rateHz } }

    /// The link time a simulation source has generated tags through, in ps (nil for other sources).
    public var generatedThroughPs: Int64? { simulation.withLock { $0.simulator?.generatedThroughPs } }

    private func run(_ spec: TagSourceSpec, skipping: Int64) throws {
        let clock = ContinuousClock()
        var started = clock.now
        var toSkip = max(0, skipping)
        var resumed = toSkip == 0
        /// The part of `batch` past the tags to skip (nil: all skipped). When the skip ends, real-time pacing
        /// starts over from `linkTimePs` (the link time the first kept batch stands for).
        func afterSkip(_ batch: TagBatch, linkTimePs: Int64) -> TagBatch? {
            guard !resumed else { return batch }
            if toSkip >= Int64(batch.count), toSkip > 0 {
                toSkip -= Int64(batch.count)
                return nil
            }
            resumed = true
            started = clock.now - .nanoseconds(linkTimePs / 1000)
            let from = Int(toSkip)
            toSkip = 0
            if from == 0 { return batch }
            let firstPs = batch.timesPs[from]
            return TagBatch(timesPs: Array(batch.timesPs[from...]), channels: Array(batch.channels[from...]),
                            markers: batch.markers.filter { $0.timePs >= firstPs }, gaps: batch.gaps)
        }
        func waitUntil(linkTimePs: Int64) {
            let due = started + .nanoseconds(linkTimePs / 1000)
            while !queue.isCancelled, clock.now < due {
                let remaining = (due - clock.now).components
                let seconds = Double(remaining.seconds) + Double(remaining.attoseconds) * 1e-18
                Thread.sleep(forTimeInterval: min(0.01, max(0, seconds)))
            }
        }
        switch spec {
        case .pattern(let batch, let repetitions, let spanPs):
            for repetition in 0..<max(0, repetitions) where !queue.isCancelled {
                let shift = Int64(repetition) * spanPs
                let shifted = TagBatch(timesPs: batch.timesPs.map { $0 + shift }, channels: batch.channels)
                guard let kept = afterSkip(shifted, linkTimePs: shift) else { continue }
                if !queue.push(kept) { break }
            }
        case .simulation(let configured, let role, let withStation, let realTime):
            if simulation.withLock({ $0.simulator == nil }) {
                // Made in init; if that failed, this says why.
                let simulator = try configured.makeSimulator()
                simulation.withLock { $0.simulator = simulator }
            }
            // Holds and rate changes take the same lock, between steps: a held simulator generates nothing.
            enum Next { case step(SimulationStep), held, finished }
            while !queue.isCancelled {
                let next = simulation.withLock { control -> Next in
                    guard control.holds.isEmpty else { return .held }
                    return control.simulator!.next().map(Next.step) ?? .finished
                }
                guard case .step(let step) = next else {
                    if case .finished = next { break }
                    // Held: link time stands still, so real-time pacing resumes from here instead of catching up.
                    let heldAt = clock.now
                    Thread.sleep(forTimeInterval: 0.001)
                    started += clock.now - heldAt
                    continue
                }
                var batch = step.chunk(role)?.batch ?? TagBatch()
                if withStation, let station = step.chunk(.station)?.batch, !station.isEmpty {
                    batch = Self.merge(batch, station)
                }
                if !resumed {
                    guard let kept = afterSkip(batch, linkTimePs: step.startPs) else { continue }
                    batch = kept
                }
                if realTime { waitUntil(linkTimePs: step.endPs) }
                if !batch.isEmpty || !batch.markers.isEmpty, !queue.push(batch) { break }
            }
        case .stream(let descriptor, let format):
            var decoder = TagStreamDecoder(format: format)
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while !queue.isCancelled {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ServiceFailure(what: "stream source", detail: "reading the pipe failed: \(String(cString: strerror(errno)))")
                }
                let batch = count == 0 ? try decoder.finish() : try decoder.feed(buffer[0..<count])
                if !batch.isEmpty, !queue.push(batch) { break }
                if count == 0 { break }
            }
        case .file(let path, let realTime):
            var reader = try TagFiles.openReader(path: path)
            var firstPs: Int64?
            while !queue.isCancelled, var batch = try reader.next() {
                if batch.isEmpty { continue }
                if firstPs == nil { firstPs = batch.timesPs.first }
                if !resumed {
                    guard let kept = afterSkip(batch, linkTimePs: 0) else { continue }
                    batch = kept
                    // Real-time replay resumes its pace from the first tag kept.
                    firstPs = batch.timesPs.first
                }
                if realTime, let last = batch.timesPs.last {
                    if firstPs == nil { firstPs = batch.timesPs.first }
                    waitUntil(linkTimePs: last - (firstPs ?? last))
                }
                if !queue.push(batch) { break }
            }
        }
    }

    /// Two time-sorted batches merged into one: the tags of both, the markers of `a` (the lab's own, e.g. its
    /// basis announcements; the station's herald markers would collide with their numbers).
    public static func merge(_ a: TagBatch, _ b: TagBatch) -> TagBatch {
        var merged = TagBatch(capacity: a.count + b.count)
        merged.markers = a.markers
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j >= b.count || (i < a.count && a.timesPs[i] <= b.timesPs[j]) {
                merged.append(timePs: a.timesPs[i], channel: a.channels[i])
                i += 1
            } else {
                merged.append(timePs: b.timesPs[j], channel: b.channels[j])
                j += 1
            }
        }
        return merged
    }

    /// Stops the source.
    public func stop() { queue.cancel() }
}
