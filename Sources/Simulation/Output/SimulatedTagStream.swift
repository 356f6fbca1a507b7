import TimeTags

/// How a live simulated stream is paced.
public enum SimulationPacing: Sendable, Equatable {
    /// Each chunk is delivered once the wall clock (since the first `next()`) has passed the end of
    /// the chunk's window of simulated time, as a real tagger would deliver it.
    case realTime
    /// Chunks are delivered as fast as they are generated.
    case asFastAsPossible
}

/// The simulation of a link as a live stream of steps (one chunk per stream and window), generated
/// on demand and paced to real time or run as fast as possible.
///
/// ```swift
/// for await step in SimulatedSteps(scenario: scenario, options: options, pacing: .realTime) {
///     publish(step.chunk(.labA)!.batch)
/// }
/// ```
///
/// Generation is pull-driven: nothing is generated ahead of the consumer, so memory stays bounded
/// by one step. Iteration ends after the final step, or early when the consuming task is cancelled.
public struct SimulatedSteps: AsyncSequence, Sendable {
    public typealias Element = SimulationStep
    public typealias Failure = Never

    /// The scenario.
    public let scenario: SimulationScenario
    /// Seed, duration and chunk size.
    public let options: SimulationOptions
    /// Real time or as fast as possible.
    public let pacing: SimulationPacing

    /// A live simulation; throws ``SimulationError`` for an invalid scenario or options.
    public init(scenario: SimulationScenario, options: SimulationOptions, pacing: SimulationPacing) throws {
        _ = try LinkSimulator(scenario: scenario, options: options)
        self.scenario = scenario
        self.options = options
        self.pacing = pacing
    }

    public func makeAsyncIterator() -> Iterator {
        // The scenario and options were validated in `init`.
        Iterator(simulator: try? LinkSimulator(scenario: scenario, options: options), pacing: pacing)
    }

    /// Produces the steps, sleeping for real-time pacing.
    public struct Iterator: AsyncIteratorProtocol {
        private var simulator: LinkSimulator?
        private let pacing: SimulationPacing
        private var start: ContinuousClock.Instant?

        init(simulator: LinkSimulator?, pacing: SimulationPacing) {
            self.simulator = simulator
            self.pacing = pacing
        }

        /// The ground truth of the run so far (complete after the final step).
        public func groundTruth() -> GroundTruth? { simulator?.groundTruth() }

        public mutating func next() async -> SimulationStep? {
            guard !Task.isCancelled, var current = simulator else { return nil }
            simulator = nil  // keep the simulator's buffers uniquely referenced while it runs
            let step = current.next()
            simulator = current
            guard let step else { return nil }
            if pacing == .realTime {
                let origin = start ?? ContinuousClock.now
                start = origin
                let due = origin.advanced(by: .nanoseconds(step.endPs / 1_000))
                do {
                    try await Task.sleep(until: due, clock: .continuous)
                } catch {
                    return nil  // cancelled
                }
            }
            return step
        }
    }

    /// The batches of one stream (lab A, lab B or the station), in order.
    ///
    /// Because a simulation is deterministic for its seed, each lab's node service can run its own
    /// `SimulatedSteps` with the same scenario and options and take only its own stream: the labs'
    /// streams stay consistent with each other without any exchange between the nodes.
    public func batches(of role: StreamRole) -> SimulatedTagStream {
        SimulatedTagStream(steps: self, role: role)
    }
}

/// One stream of a live simulation: the ``TagBatch`` chunks of lab A, lab B or the station, paced
/// as the underlying ``SimulatedSteps``. Empty chunks (windows without tags) are delivered too, so
/// a consumer sees time advance.
public struct SimulatedTagStream: AsyncSequence, Sendable {
    public typealias Element = TagBatch
    public typealias Failure = Never

    /// The underlying live simulation.
    public let steps: SimulatedSteps
    /// The stream delivered.
    public let role: StreamRole

    /// The batches of `role` from `steps`.
    public init(steps: SimulatedSteps, role: StreamRole) {
        self.steps = steps
        self.role = role
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(steps: steps.makeAsyncIterator(), role: role, present: steps.scenario.streams.contains(role))
    }

    /// Produces one stream's batches.
    public struct Iterator: AsyncIteratorProtocol {
        private var steps: SimulatedSteps.Iterator
        private let role: StreamRole
        private let present: Bool

        init(steps: SimulatedSteps.Iterator, role: StreamRole, present: Bool) {
            self.steps = steps
            self.role = role
            self.present = present
        }

        public mutating func next() async -> TagBatch? {
            guard present else { return nil }
            while let step = await steps.next() {
                if let chunk = step.chunk(role) { return chunk.batch }
            }
            return nil
        }
    }
}
