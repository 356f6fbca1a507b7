import Foundation
@testable import TimeTags

/// A small deterministic random generator (SplitMix64) so tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A fresh temporary directory, removed by the caller with `cleanUp`.
struct TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-tags-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// A typical two-channel stream: two detectors with exponential gaps (mean `meanGapPs` each).
func twoChannelStream(count: Int, meanGapPs: Double = 1_000_000, seed: UInt64 = 7) -> TagBatch {
    var generator = SeededGenerator(seed: seed)
    var next: [Double] = [0, 0]
    var batch = TagBatch(capacity: count)
    for _ in 0..<count {
        let channel = next[0] <= next[1] ? 0 : 1
        batch.append(timePs: Int64(next[channel]), channel: TagChannel(channel))
        let uniform = Double(generator.next() >> 11) / Double(1 << 53)
        next[channel] += -log(1 - uniform) * meanGapPs
    }
    return batch
}

/// Reads every batch until the end, returning the batches and the error that ended the stream.
func drain(_ reader: inout any TagReader, maxCalls: Int = 100_000) -> (TagBatch, Error?) {
    var all = TagBatch()
    for _ in 0..<maxCalls {
        do {
            guard let batch = try reader.next() else { return (all, nil) }
            all.append(contentsOf: batch)
        } catch {
            return (all, error)
        }
    }
    return (all, TagFileError(.invalidArgument, file: "", problem: "reader did not terminate"))
}

extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
