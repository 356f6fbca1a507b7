import TimeTags

/// The tags one stream recorded in one step of a simulation.
public struct StreamChunk: Sendable, Equatable {
    /// Which tagger recorded them.
    public var role: StreamRole
    /// The tags, markers and gaps, in recorded time order (continuing the previous chunk).
    public var batch: TagBatch
    /// When requested in ``SimulationOptions``: each tag's true detection time, before jitter
    /// and the clock (parallel to `batch.timesPs`).
    public var trueTimesPs: [Int64]?
}

/// One step of a simulation: a chunk per stream, covering true times up to ``endPs`` (on the
/// generator's axis; see ``GroundTruth``). Chunks of a stream concatenate into one
/// time-ordered stream.
public struct SimulationStep: Sendable, Equatable {
    /// Start of the generator window of this step, in ps.
    public var startPs: Int64
    /// End of the generator window of this step, in ps.
    public var endPs: Int64
    /// One chunk per stream (labA, labB, and station for heralded links).
    public var chunks: [StreamChunk]
    /// Whether this is the last step (all pending tags were flushed).
    public var isFinal: Bool

    /// The chunk of `role`, if this simulation has that stream.
    public func chunk(_ role: StreamRole) -> StreamChunk? { chunks.first { $0.role == role } }

    /// Number of tags in all chunks.
    public var tagCount: Int { chunks.reduce(0) { $0 + $1.batch.count } }
}

/// How a simulation runs.
public struct SimulationOptions: Sendable, Equatable {
    /// Simulated duration (true time), in ps.
    public var durationPs: Int64
    /// Seed of all randomness; equal seeds give equal output.
    public var seed: UInt64
    /// Aim for about this many tags per step over all streams (bounds memory).
    public var targetTagsPerStep: Int
    /// Whether chunks carry each tag's true detection time (for tests of estimators).
    public var recordTrueTimes: Bool
    /// Whether the two labs' detector chains run on two threads (the output is the same either way).
    public var parallelStreams: Bool

    /// Options for a run of `durationPs` with `seed`.
    public init(durationPs: Int64, seed: UInt64, targetTagsPerStep: Int = 1 << 16, recordTrueTimes: Bool = false,
                parallelStreams: Bool = true) {
        self.durationPs = durationPs
        self.seed = seed
        self.targetTagsPerStep = targetTagsPerStep
        self.recordTrueTimes = recordTrueTimes
        self.parallelStreams = parallelStreams
    }

    func validate() throws {
        try Check.positive(durationPs, "durationPs")
        try Check.time(durationPs, "durationPs")
        guard targetTagsPerStep >= 16, targetTagsPerStep <= 1 << 26 else {
            throw SimulationError(.invalidParameter, parameter: "targetTagsPerStep", message: "\(targetTagsPerStep)",
                                  hint: "use 16 to 67108864 tags per step")
        }
    }

    /// Generator window length for a total expected tag rate.
    func windowLengthPs(totalTagRateHz: Double) -> Int64 {
        guard totalTagRateHz > 0 else { return 1_000_000_000_000 }
        let length = Double(targetTagsPerStep) / totalTagRateHz * 1e12
        return Int64(min(1e12, max(1_000_000, length)))
    }
}
