import Correlation
import Foundation
import Testing
import TimeTags

/// The real two-detector HBT recording shared with the project (skipped when ../shared is absent).
private let recordingURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("../shared/data/ptu/psd_picoharp_v30_t2.ptu").standardized

/// A minimal PicoHarp 300 T2 decoder, only for this test.
private func decodePicoHarpT2(_ data: Data) throws -> TagBatch {
    let bytes = [UInt8](data)
    func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
    func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) } }
    var offset = 16
    var resolutionPs = 4.0
    var headerEnd = -1
    while offset + 48 <= bytes.count {
        let identBytes = bytes[offset..<offset + 32].prefix { $0 != 0 }
        let ident = String(decoding: identBytes, as: UTF8.self)
        let type = u32(offset + 36)
        let value = u64(offset + 40)
        offset += 48
        if ident == "MeasDesc_GlobalResolution" { resolutionPs = Double(bitPattern: value) * 1e12 }
        if ident == "Header_End" { headerEnd = offset; break }
        // Types carrying extra bytes after the tag: strings, wide strings, binary blobs, float arrays.
        if type == 0x4001_FFFF || type == 0x4002_FFFF || type == 0xFFFF_FFFF || type == 0x2001_FFFF { offset += Int(value) }
    }
    guard headerEnd > 0 else { throw CorrelationError(.invalidParameter, "no Header_End tag") }
    var batch = TagBatch(capacity: (bytes.count - headerEnd) / 4)
    var overflow: Int64 = 0
    var at = headerEnd
    while at + 4 <= bytes.count {
        let record = u32(at)
        at += 4
        let channel = record >> 28
        let time = Int64(record & 0x0FFF_FFFF)
        if channel == 0xF {
            if time & 0xF == 0 { overflow += 210_698_240 }
            continue
        }
        batch.append(timePs: Int64(Double(overflow + time) * resolutionPs), channel: TagChannel(channel))
    }
    return batch
}

@Suite("Real PicoHarp HBT recording")
struct PicoHarpHBTTests {
    @Test("shows a correlation peak near zero lag and g²(0) above one (bunching)",
          .enabled(if: FileManager.default.fileExists(atPath: recordingURL.path), "../shared/data/ptu is absent"))
    func bunching() throws {
        let batch = try decodePicoHarpT2(try Data(contentsOf: recordingURL))
        #expect(batch.channels.filter { $0 == 0 }.count == 531_477)   // the published photon counts
        #expect(batch.channels.filter { $0 == 1 }.count == 388_700)
        #expect(batch.isSorted)
        let empty = try CorrelationHistogram(pair: ChannelPair(0, 1), rangePs: 200_000, binWidthPs: 1000)
        let histogram = try HistogramBuilder.build(batch, histograms: [empty])[0]
        let peak = histogram.counts.indices.max { histogram.counts[$0] < histogram.counts[$1] } ?? 0
        let peakLagPs = histogram.binCenterPs(peak)
        #expect(abs(peakLagPs) < 20_000, "peak at \(peakLagPs) ps")
        let g2 = try Accidentals.g2Zero(histogram: histogram, centerPs: Int64(peakLagPs), halfWidthPs: 2000, sideOffsetPs: 100_000)
        #expect(g2.value > 1 + 3 * g2.standardError, "g²(0) = \(g2)")
        #expect(g2.value < 2.5)
    }
}
