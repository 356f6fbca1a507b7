import Foundation
import Testing
import QLinkTestSupport
@testable import TimeTags

/// The real PicoQuant recordings in `../shared/data/ptu` and their independently decoded numbers.
enum PTUFixtures {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data/ptu")
    static var present: Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("EXPECTED.json").path)
    }
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    struct Expected: Decodable {
        var record_type: String
        var measurement_mode: Int
        var global_resolution_s: Double
        var number_records: Int
        var photon_counts_by_channel: [String: Int]
        var marker_records: Int
        var first_photon_time_units: Int64
        var last_photon_time_units: Int64
        var photon_time_sum_mod_2_64: UInt64
        var dtime_sum: Int64?
    }

    static func expected() throws -> [String: Expected] {
        let data = try Data(contentsOf: directory.appendingPathComponent("EXPECTED.json"))
        return try JSONDecoder().decode([String: Expected].self, from: data)
    }
}

@Suite("PTU fixtures (real recordings)", .enabled(if: PTUFixtures.present, "../shared/data/ptu is absent: real PTU fixtures not checked"))
struct PTUFixtureTests {
    @Test("every file decodes to exactly the independently decoded numbers",
          arguments: ["psd_picoharp_v30_t2.ptu", "hydraharp_v30_t2.ptu", "psd_hydraharp_v20_t3.ptu", "psd_hydraharp_v10_t3.ptu"])
    func fixture(name: String) throws {
        let expected = try #require(try PTUFixtures.expected()[name])
        // A small chunk size exercises overflow carry across batches.
        let reader = try PTUReader(path: PTUFixtures.path(name), options: .init(chunkRecords: 10_007))
        #expect("0x" + String(reader.recordType.rawValue, radix: 16) == expected.record_type)
        #expect(reader.header.mode == (expected.measurement_mode == 3 ? .t3 : .t2))
        #expect(reader.ptuHeader.double("MeasDesc_GlobalResolution") == expected.global_resolution_s)
        #expect(reader.recordCount == expected.number_records)

        var counts: [String: Int] = [:]
        var first: Int64? = nil
        var last: Int64 = 0
        var sum: UInt64 = 0
        var fineSum: Int64 = 0
        var markers = 0
        let unitPs = Int64((expected.global_resolution_s * 1e12).rounded())
        while let (batch, t3) = try reader.nextWithT3() {
            markers += batch.markers.count
            for index in 0..<batch.count where batch.channels[index] >= 0 {
                let units: Int64
                if let t3 {
                    units = t3.syncCounts[index]
                    fineSum += Int64(t3.fineTimes[index])
                } else {
                    #expect(batch.timesPs[index] % unitPs == 0)
                    units = batch.timesPs[index] / unitPs
                }
                counts[String(batch.channels[index]), default: 0] += 1
                if first == nil { first = units }
                last = units
                sum = sum &+ UInt64(bitPattern: units)
            }
            #expect(batch.isSorted)
        }
        #expect(counts == expected.photon_counts_by_channel)
        #expect(markers == expected.marker_records)
        #expect(first == expected.first_photon_time_units)
        #expect(last == expected.last_photon_time_units)
        #expect(sum == expected.photon_time_sum_mod_2_64)
        if let dtimeSum = expected.dtime_sum { #expect(fineSum == dtimeSum) }
    }

    @Test("T3 times in ps combine sync count and fine time")
    func t3Picoseconds() throws {
        let reader = try PTUReader(path: PTUFixtures.path("psd_hydraharp_v20_t3.ptu"))
        let period = try #require(reader.header.syncPeriodPs)
        let bin = reader.header.resolutionPs
        let (batch, t3) = try #require(try reader.nextWithT3())
        let columns = try #require(t3)
        let expected = Int64((Double(columns.syncCounts[0]) * period + Double(columns.fineTimes[0]) * bin).rounded())
        #expect(batch.timesPs[0] == expected)
        #expect(period > 200_001 && period < 200_002)
    }

    @Test("the header is parsed completely, dates and strings included")
    func header() throws {
        let reader = try PTUReader(path: PTUFixtures.path("psd_picoharp_v30_t2.ptu"))
        #expect(reader.ptuHeader.tags.last?.name == "Header_End")
        #expect(reader.ptuHeader.tags.count > 20)
        #expect(reader.ptuHeader.string("HW_Type")?.contains("PicoHarp") == true)
        if case .date(let date)? = reader.ptuHeader.tag("File_CreatingTime") {
            #expect(date.timeIntervalSince1970 > 946_684_800) // after 2000
        }
        #expect(reader.header.resolutionPs == 4)
    }
}

/// `qlink tags info` on a real recording that was stopped by hand after 7.652 s of a planned 60 s: rates are over the
/// time the instrument ran (`TTResult_StopAfter`), neither the planned time nor the first-to-last photon span.
@Suite("tags info rates over the recording's duration",
       .enabled(if: PTUFixtures.present, "../shared/data/ptu is absent"),
       .enabled(if: QLinkRunner.isBuilt, "the qlink executable is not built"))
struct RecordingDurationTests {
    @Test func ratesUseTheRecordingTime() throws {
        let path = PTUFixtures.path("psd_picoharp_v30_t2.ptu")
        var reader = try PTUReader(path: path)
        #expect(reader.header.recordingDurationPs == 7_652_000_000_000)
        let expected = try #require(try PTUFixtures.expected()["psd_picoharp_v30_t2.ptu"])
        let count = try #require(expected.photon_counts_by_channel["0"])
        _ = try reader.next()
        let info = try QLinkRunner.run(["tags", "info", path], in: FileManager.default.temporaryDirectory)
        #expect(info.status == 0, "\(info.error)")
        #expect(info.output.contains("duration:    7.652 s (recording, from the file header)"), "\(info.output)")
        let rate = Double(count) / 7.652 / 1e3
        #expect(info.output.contains("channel 0: \(count) (\(String(format: "%.3f", rate)) kHz)"), "\(info.output)")
    }
}
