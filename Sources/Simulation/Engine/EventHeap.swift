/// A detection before detector effects: true arrival time and detector index within its stream.
struct RawEvent: Sendable, Equatable {
    var timePs: Int64
    var detector: Int32
}

/// A binary min-heap of events by time (pending afterpulses).
struct EventHeap: Sendable {
    private var items: [RawEvent] = []

    var isEmpty: Bool { items.isEmpty }

    /// Number of queued events.
    var count: Int { items.count }

    /// Time of the earliest event, or `Int64.max` when empty.
    var minimumTimePs: Int64 { items.first?.timePs ?? Int64.max }

    mutating func push(_ event: RawEvent) {
        items.append(event)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent].timePs <= items[child].timePs { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func popMinimum() -> RawEvent? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count && items[left].timePs < items[smallest].timePs { smallest = left }
                if right < items.count && items[right].timePs < items[smallest].timePs { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
