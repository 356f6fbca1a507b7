import Simulation
import TimeTags

/// Everything one simulated stream recorded over a run.
struct RecordedStream {
    var times: [Int64] = []
    var channels: [TagChannel] = []
    var markers: [MarkerEvent] = []

    /// The marker in force at recorded time `timePs` (the last one at or before it).
    func marker(at timePs: Int64) -> Int32? {
        var low = 0, high = markers.count
        while low < high {
            let mid = (low + high) / 2
            if markers[mid].timePs <= timePs { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : markers[low - 1].marker
    }
}

/// Runs a scenario to the end; returns every stream and the ground truth.
func record(_ scenario: SimulationScenario, durationPs: Int64, seed: UInt64) throws -> ([StreamRole: RecordedStream], GroundTruth) {
    var simulator = try LinkSimulator(scenario: scenario, options: SimulationOptions(durationPs: durationPs, seed: seed))
    var streams: [StreamRole: RecordedStream] = [:]
    while let step = simulator.next() {
        for chunk in step.chunks {
            streams[chunk.role, default: RecordedStream()].times += chunk.batch.timesPs
            streams[chunk.role, default: RecordedStream()].channels += chunk.batch.channels
            streams[chunk.role, default: RecordedStream()].markers += chunk.batch.markers
        }
    }
    return (streams, simulator.groundTruth())
}

/// Merges two sorted (time, channel) lists into one sorted batch.
func merge(_ a: [(Int64, TagChannel)], _ b: [(Int64, TagChannel)]) -> TagBatch {
    var batch = TagBatch(capacity: a.count + b.count)
    var i = 0, j = 0
    while i < a.count || j < b.count {
        if j >= b.count || (i < a.count && a[i].0 <= b[j].0) {
            batch.append(timePs: a[i].0, channel: a[i].1); i += 1
        } else {
            batch.append(timePs: b[j].0, channel: b[j].1); j += 1
        }
    }
    return batch
}
