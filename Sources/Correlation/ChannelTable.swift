import TimeTags

/// Maps the channels an analysis uses to dense slots `0..<count`; other channels map to `nil`.
struct ChannelTable: Sendable {
    /// The channels, in slot order.
    let channels: [TagChannel]
    let minChannel: Int64
    /// Slot of channel `minChannel + k` at index k, or -1.
    let lookup: [Int32]

    /// A table over `channels` (duplicates are merged, order of first appearance kept).
    init(_ requested: [TagChannel]) {
        var unique: [TagChannel] = []
        for channel in requested where !unique.contains(channel) { unique.append(channel) }
        channels = unique
        let low = Int64(unique.min() ?? 0)
        let high = Int64(unique.max() ?? 0)
        minChannel = low
        var table = [Int32](repeating: -1, count: Int(high - low + 1))
        for (slot, channel) in unique.enumerated() { table[Int(Int64(channel) - low)] = Int32(slot) }
        lookup = table
    }

    /// Number of slots.
    var count: Int { channels.count }

    /// The slot of `channel`, or -1 when the table does not hold it.
    @inline(__always) func slot(_ channel: TagChannel) -> Int {
        let offset = Int64(channel) &- minChannel
        guard offset >= 0, offset < Int64(lookup.count) else { return -1 }
        return Int(lookup[Int(offset)])
    }
}

extension ChannelTable {
    /// The times of `batch`'s events on the table's channels, in order.
    func times(of batch: TagBatch) -> [Int64] {
        var result: [Int64] = []
        result.reserveCapacity(batch.count)
        let size = UInt64(lookup.count)
        lookup.withUnsafeBufferPointer { map in
            batch.timesPs.withUnsafeBufferPointer { times in
                batch.channels.withUnsafeBufferPointer { channels in
                    for index in 0..<min(times.count, channels.count) {
                        let offset = UInt64(bitPattern: Int64(channels[index]) &- minChannel)
                        if offset < size, map[Int(offset)] >= 0 { result.append(times[index]) }
                    }
                }
            }
        }
        return result
    }
}

/// For each ordered slot pair, the indices of the specifications that use it (stored flat).
struct PairRoutes: Sendable {
    let table: ChannelTable
    /// Specifications of slot pair `k = first * n + second` are `specIndices[starts[k]..<starts[k + 1]]`.
    private let starts: [Int]
    private let specIndices: [Int]

    init(pairs: [ChannelPair]) {
        var channels: [TagChannel] = []
        for pair in pairs { channels.append(pair.first); channels.append(pair.second) }
        let table = ChannelTable(channels)
        let n = table.count
        var lists = [[Int]](repeating: [], count: n * n)
        for (index, pair) in pairs.enumerated() {
            lists[table.slot(pair.first) * n + table.slot(pair.second)].append(index)
        }
        var starts = [0]
        var flat: [Int] = []
        for list in lists { flat.append(contentsOf: list); starts.append(flat.count) }
        self.table = table
        self.starts = starts
        self.specIndices = flat
    }

    /// Positions (for ``spec(at:)``) of the specifications whose pair is (first slot, second slot).
    @inline(__always) func specs(first: Int, second: Int) -> Range<Int> {
        let k = first * table.count + second
        return starts[k]..<starts[k + 1]
    }

    /// The specification index stored at `position`.
    @inline(__always) func spec(at position: Int) -> Int { specIndices[position] }
}
