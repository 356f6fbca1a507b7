import Foundation
import Simulation
import TimeTags

/// Everything one stream recorded over a run.
struct CollectedStream {
    var times: [Int64] = []
    var channels: [Int32] = []
    var trueTimes: [Int64] = []
    var markers: [MarkerEvent] = []
    var gaps: [StreamGap] = []
    var chunkCount = 0
    var allChunksSorted = true

    func count(channel: Int32) -> Int { channels.reduce(0) { $0 + ($1 == channel ? 1 : 0) } }

    /// Basis marker in force at recorded time `timePs` (last marker at or before it).
    func marker(at timePs: Int64) -> Int32? {
        var low = 0
        var high = markers.count
        while low < high {
            let mid = (low + high) / 2
            if markers[mid].timePs <= timePs { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : markers[low - 1].marker
    }
}

/// Runs a scenario to the end and collects every stream.
func runSimulation(_ scenario: SimulationScenario, durationPs: Int64, seed: UInt64 = 1,
                   targetTagsPerStep: Int = 8192) throws -> (streams: [StreamRole: CollectedStream], truth: GroundTruth) {
    var simulator = try LinkSimulator(
        scenario: scenario,
        options: SimulationOptions(durationPs: durationPs, seed: seed, targetTagsPerStep: targetTagsPerStep, recordTrueTimes: true))
    var streams: [StreamRole: CollectedStream] = [:]
    while let step = simulator.next() {
        for chunk in step.chunks {
            var stream = streams[chunk.role] ?? CollectedStream()
            stream.times += chunk.batch.timesPs
            stream.channels += chunk.batch.channels
            stream.trueTimes += chunk.trueTimesPs ?? []
            stream.markers += chunk.batch.markers
            stream.gaps += chunk.batch.gaps
            stream.chunkCount += 1
            stream.allChunksSorted = stream.allChunksSorted && chunk.batch.isSorted
            streams[chunk.role] = stream
        }
    }
    return (streams, simulator.groundTruth())
}

/// Whether a sequence is sorted non-decreasingly.
func isNonDecreasing(_ values: [Int64]) -> Bool {
    zip(values, values.dropFirst()).allSatisfy { $0 <= $1 }
}

/// Pairs of indices (a, b) with |timesB[b] − timesA[a] − offsetPs| ≤ windowPs, each tag used
/// at most once (nearest partner first, scanning in time order).
func coincidences(_ timesA: [Int64], _ timesB: [Int64], offsetPs: Int64, windowPs: Int64) -> [(Int, Int)] {
    var pairs: [(Int, Int)] = []
    var j = 0
    for (i, tA) in timesA.enumerated() {
        let target = tA + offsetPs
        while j < timesB.count && timesB[j] < target - windowPs { j += 1 }
        if j < timesB.count && timesB[j] <= target + windowPs {
            pairs.append((i, j))
            j += 1
        }
    }
    return pairs
}

/// |observed − expected| ≤ k·σ.
func within(_ observed: Double, _ expected: Double, sigma: Double, k: Double = 4) -> Bool {
    abs(observed - expected) <= k * sigma
}

let psPerSecond = 1_000_000_000_000.0
