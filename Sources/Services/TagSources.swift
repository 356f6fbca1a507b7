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
    /// It obeys repetition-rate requests (``TagSourceRunner/setRepetitionRate(_:effectiveFromPs:)``).
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
    /// The repetition rate last requested by the coordinator, Hz.
    private let rate = Mutex<Double?>(nil)
    /// The running simulation (`.simulation` sources), shared with the control path that changes its rate.
    private let simulation = Mutex<RunningSimulation?>(nil)

    /// A simulation and the configuration that resolves it at other rates.
    private struct RunningSimulation: Sendable {
        let configured: ConfiguredSimulation
        var simulator: LinkSimulator
        var rateHz: Double
    }

    /// Starts `spec` on a new thread.
    /// - Parameter resumeAfterTags: tags of the source's stream already taken (a restarted node's spool says how
    ///   many): a simulation, a pattern or a file produces its stream again from the start and skips them, so the
    ///   node carries on where it stopped instead of sending them again; real-time pacing starts at the resume
    ///   point. A pipe cannot be replayed: it carries on with whatever arrives.
    public init(spec: TagSourceSpec, queueCapacity: Int = 256, resumeAfterTags: Int64 = 0) {
        let queue = BatchQueue(capacity: queueCapacity)
        self.queue = queue
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

    /// What became of a repetition-rate request.
    public struct RateChangeResult: Sendable, Equatable {
        /// Whether the source will run at the new rate.
        public var applied: Bool
        /// The rate in force once the change takes effect (the old rate when refused; 0 for a source without a rate).
        public var rateHz: Double
        /// Link time from which the new rate applies (applied requests).
        public var effectiveFromPs: Int64?
        /// Why the request was refused.
        public var reason: String?
    }

    /// Asks the source to run at `rateHz` from link time `effectiveFromPs` on (0: as soon as possible, i.e.
    /// from the end of what it has generated). A simulation changes its pulse or attempt rate there; it
    /// refuses a time it has already generated or a rate the link cannot run at. Other sources cannot
    /// change their rate: the request is recorded and refused.
    public func setRepetitionRate(_ rateHz: Double, effectiveFromPs: Int64 = 0) -> RateChangeResult {
        rate.withLock { $0 = rateHz }
        return simulation.withLock { running -> RateChangeResult in
            // The simulator is changed in place (never copied: its buffers stay uniquely referenced).
            guard let configured = running?.configured, let inForce = running?.rateHz,
                  let generatedPs = running?.simulator.generatedThroughPs else {
                return RateChangeResult(applied: false, rateHz: 0, reason: "this tag source has no repetition rate to change")
            }
            let from = effectiveFromPs > 0 ? effectiveFromPs : generatedPs
            do {
                let scenario = try configured.scenario(repetitionRateHz: rateHz)
                let effective = try running?.simulator.changeScenario(to: scenario, fromPs: from) ?? from
                running?.rateHz = rateHz
                return RateChangeResult(applied: true, rateHz: rateHz, effectiveFromPs: effective)
            } catch {
                return RateChangeResult(applied: false, rateHz: inForce, reason: "\(error)")
            }
        }
    }

    /// The requested repetition rate, if any.
    public var repetitionRateHz: Double? { rate.withLock { $0 } }

    /// The link time a simulation source has generated tags through, in ps (nil for other sources): a rate
    /// change can still be honoured from any later time.
    public var generatedThroughPs: Int64? { simulation.withLock { $0?.simulator.generatedThroughPs } }

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
            let simulator = try configured.makeSimulator()
            simulation.withLock { $0 = RunningSimulation(configured: configured, simulator: simulator, rateHz: configured.repetitionRateHz) }
            // Rate changes are scheduled into the simulator under the same lock, between steps.
            while !queue.isCancelled, let step = simulation.withLock({ $0?.simulator.next() }) {
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
