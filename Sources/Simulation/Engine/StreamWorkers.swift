import Dispatch

/// Runs the detector chains of two streams, on two threads when asked.
///
/// Each stream owns its random generators, so the result does not depend on whether or how the two
/// run in parallel.
enum StreamWorkers {
    /// Below this many arrivals in a window the thread hand-off costs more than it saves.
    static let minimumEvents = 4_096

    /// The second stream's job, handed to a worker thread. The caller waits for the worker before
    /// the pointer or the closure go out of scope, and nothing else touches the stream meanwhile.
    private final class Job: @unchecked Sendable {
        let stream: UnsafeMutablePointer<DetectorStream>
        let work: (inout DetectorStream) -> StreamChunk
        var result: StreamChunk?

        init(stream: UnsafeMutablePointer<DetectorStream>, work: @escaping (inout DetectorStream) -> StreamChunk) {
            self.stream = stream
            self.work = work
        }

        func run() { result = work(&stream.pointee) }
    }

    static func run(_ first: inout DetectorStream, _ second: inout DetectorStream, parallel: Bool,
                    _ workFirst: (inout DetectorStream) -> StreamChunk,
                    _ workSecond: (inout DetectorStream) -> StreamChunk) -> (StreamChunk, StreamChunk) {
        guard parallel else { return (workFirst(&first), workSecond(&second)) }
        let chunkFirst: StreamChunk
        var chunkSecond: StreamChunk?
        (chunkFirst, chunkSecond) = withUnsafeMutablePointer(to: &second) { pointer in
            withoutActuallyEscaping(workSecond) { escapable in
                let job = Job(stream: pointer, work: escapable)
                let group = DispatchGroup()
                DispatchQueue.global(qos: .userInitiated).async(group: group) { job.run() }
                let own = workFirst(&first)
                group.wait()
                return (own, job.result)
            }
        }
        return (chunkFirst, chunkSecond ?? workSecond(&second))
    }
}
