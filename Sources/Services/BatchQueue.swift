import Foundation
import TimeTags

/// A bounded hand-over of tag batches from a source thread to the node's socket thread.
///
/// A source that can wait (a file, a pipe) blocks in ``push(_:)`` while the queue is full — the slow
/// consumer slows it down. A source that cannot wait (a live simulator at real-time pace) uses
/// ``offer(_:)`` and the batch is counted as dropped when the queue is full.
public final class BatchQueue: @unchecked Sendable {
    // @unchecked: every field is guarded by `condition`.
    private let condition = NSCondition()
    private var batches: [TagBatch] = []
    private var finished = false
    private var cancelled = false
    private var droppedBatches: Int64 = 0
    private var droppedTags: Int64 = 0
    /// The most batches held.
    public let capacity: Int

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Adds a batch, waiting while the queue is full. - Returns: `false` if the queue was cancelled.
    @discardableResult
    public func push(_ batch: TagBatch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= capacity && !cancelled { condition.wait(until: Date().addingTimeInterval(0.05)) }
        if cancelled { return false }
        batches.append(batch)
        return true
    }

    /// Adds a batch if there is room; otherwise counts it as dropped. - Returns: whether it was queued.
    @discardableResult
    public func offer(_ batch: TagBatch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard batches.count < capacity, !cancelled else {
            droppedBatches += 1
            droppedTags += Int64(batch.count)
            return false
        }
        batches.append(batch)
        return true
    }

    /// Takes the oldest batch, or `nil` if none is waiting.
    public func pop() -> TagBatch? {
        condition.lock()
        defer { condition.unlock() }
        guard !batches.isEmpty else { return nil }
        let batch = batches.removeFirst()
        condition.broadcast()
        return batch
    }

    /// The source has no more batches.
    public func finish() {
        condition.lock()
        finished = true
        condition.unlock()
    }

    /// Stops the source: pending and future pushes return `false`.
    public func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// Whether the source finished and every batch was taken.
    public var isDrained: Bool {
        condition.lock()
        defer { condition.unlock() }
        return finished && batches.isEmpty
    }

    /// Whether ``cancel()`` was called.
    public var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    /// Batches and tags dropped because the queue was full.
    public var dropped: (batches: Int64, tags: Int64) {
        condition.lock()
        defer { condition.unlock() }
        return (droppedBatches, droppedTags)
    }
}
