import Synchronization
import Foundation
import Simulation
import TimeTags
#if canImport(Glibc)
import Glibc
#endif

/// Where a node's tags come from.
public enum TagSourceSpec: Sendable {
    /// The built-in synthetic link (one lab's half), `realTime` at wall-clock pace, for `durationPs`
    /// of link time (`nil`: until stopped).
    case synthetic(SyntheticLink, realTime: Bool, durationPs: Int64?)
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
    case simulation(ConfiguredSimulation, role: StreamRole, withStation: Bool, realTime: Bool)
}

extension TagSourceSpec: Equatable {
    public static func == (lhs: TagSourceSpec, rhs: TagSourceSpec) -> Bool {
        switch (lhs, rhs) {
        case let (.synthetic(a, ra, da), .synthetic(b, rb, db)): return a == b && ra == rb && da == db
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
    /// The repetition rate now requested by the coordinator (applied by sources that support it), Hz.
    private let rate = Mutex<Double?>(nil)

    /// Starts `spec` on a new thread.
    public init(spec: TagSourceSpec, queueCapacity: Int = 256) {
        let queue = BatchQueue(capacity: queueCapacity)
        self.queue = queue
        let thread = Thread { [self] in
            do {
                try run(spec)
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

    /// Records a repetition-rate request. - Returns: the rate in force.
    public func setRepetitionRate(_ rateHz: Double) -> Double {
        rate.withLock { $0 = rateHz }
        return rateHz
    }

    /// The requested repetition rate, if any.
    public var repetitionRateHz: Double? { rate.withLock { $0 } }

    private func run(_ spec: TagSourceSpec) throws {
        let clock = ContinuousClock()
        let started = clock.now
        func waitUntil(linkTimePs: Int64) {
            let due = started + .nanoseconds(linkTimePs / 1000)
            while !queue.isCancelled, clock.now < due {
                let remaining = (due - clock.now).components
                let seconds = Double(remaining.seconds) + Double(remaining.attoseconds) * 1e-18
                Thread.sleep(forTimeInterval: min(0.01, max(0, seconds)))
            }
        }
        switch spec {
        case .synthetic(var link, let realTime, let durationPs):
            let slicePs = link.parameters.slicePs
            var index: Int64 = 0
            while !queue.isCancelled {
                if let durationPs, index * slicePs >= durationPs { break }
                if let requested = repetitionRateHz, requested > 0 {
                    link.parameters.repetitionPeriodPs = max(1, Int64((1e12 / requested).rounded()))
                }
                let batch = link.slice(index)
                index += 1
                if realTime {
                    waitUntil(linkTimePs: index * slicePs)
                    queue.offer(batch)
                } else if !queue.push(batch) {
                    break
                }
            }
        case .pattern(let batch, let repetitions, let spanPs):
            for repetition in 0..<max(0, repetitions) where !queue.isCancelled {
                let shift = Int64(repetition) * spanPs
                let shifted = TagBatch(timesPs: batch.timesPs.map { $0 + shift }, channels: batch.channels)
                if !queue.push(shifted) { break }
            }
        case .simulation(let configured, let role, let withStation, let realTime):
            var simulator = try configured.makeSimulator()
            while !queue.isCancelled, let step = simulator.next() {
                var batch = step.chunk(role)?.batch ?? TagBatch()
                if withStation, let station = step.chunk(.station)?.batch, !station.isEmpty {
                    batch = Self.merge(batch, station)
                }
                if realTime { waitUntil(linkTimePs: step.endPs) }
                if !batch.isEmpty, !queue.push(batch) { break }
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
            while !queue.isCancelled, let batch = try reader.next() {
                if batch.isEmpty { continue }
                if realTime, let last = batch.timesPs.last {
                    if firstPs == nil { firstPs = batch.timesPs.first }
                    waitUntil(linkTimePs: last - (firstPs ?? last))
                }
                if !queue.push(batch) { break }
            }
        }
    }

    /// Two time-sorted batches merged into one (tags only).
    static func merge(_ a: TagBatch, _ b: TagBatch) -> TagBatch {
        var merged = TagBatch(capacity: a.count + b.count)
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
