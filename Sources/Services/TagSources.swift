import Synchronization
import Foundation
import TimeTags
#if canImport(Glibc)
import Glibc
#endif

/// Where a node's tags come from.
public enum TagSourceSpec: Sendable, Equatable {
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

    /// Stops the source.
    public func stop() { queue.cancel() }
}
