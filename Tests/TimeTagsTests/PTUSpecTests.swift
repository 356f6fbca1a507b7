import Foundation
import Testing
@testable import TimeTags

/// Writes PTU files from the published record layouts, for record types without real fixtures.
enum PTUEncoder {
    static func tag(_ name: String, _ index: Int32 = -1, type: UInt32, raw: UInt64, extra: Data = Data()) -> Data {
        var data = Data(name.utf8.prefix(31))
        data.append(Data(count: 32 - data.count))
        data.appendLE(index)
        data.appendLE(type)
        data.appendLE(raw)
        data.append(extra)
        return data
    }

    static func file(recordType: UInt32, globalResolution: Double, resolution: Double, records: [UInt32], declaredRecords: Int64? = nil) -> Data {
        var data = Data("PQTTTR\0\0".utf8)
        data.append(Data("1.0.00\0\0".utf8))
        data.append(tag("File_GUID", type: 0x4001_FFFF, raw: 16, extra: Data("{spec-test}\0\0\0\0\0".utf8)))
        data.append(tag("File_CreatingTime", type: 0x2100_0008, raw: (25569.0 + 1.5).bitPattern))
        data.append(tag("Measurement_SubMode", type: 0x1000_0008, raw: 0))
        data.append(tag("HW_Markers", type: 0x0000_0008, raw: 1))
        data.append(tag("HW_InpChan_Enabled", 0, type: 0x1100_0008, raw: 0xF))
        data.append(tag("Curve_Color", type: 0x1200_0008, raw: 0xFF00))
        let comment = Data("Prüfung".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } + [0, 0])
        data.append(tag("File_Comment", type: 0x4002_FFFF, raw: UInt64(comment.count), extra: comment))
        var floats = Data()
        floats.appendLE(1.5.bitPattern)
        floats.appendLE(2.5.bitPattern)
        data.append(tag("ChanDelays", type: 0x2001_FFFF, raw: 16, extra: floats))
        data.append(tag("UsrBlob", type: 0xFFFF_FFFF, raw: 3, extra: Data([1, 2, 3])))
        data.append(tag("TTResultFormat_TTTRRecType", type: 0x1000_0008, raw: UInt64(recordType)))
        data.append(tag("TTResult_NumberOfRecords", type: 0x1000_0008, raw: UInt64(bitPattern: declaredRecords ?? Int64(records.count))))
        data.append(tag("MeasDesc_GlobalResolution", type: 0x2000_0008, raw: globalResolution.bitPattern))
        data.append(tag("MeasDesc_Resolution", type: 0x2000_0008, raw: resolution.bitPattern))
        data.append(tag("Header_End", type: 0xFFFF_0008, raw: 0))
        for record in records { data.appendLE(record) }
        return data
    }
}

/// A hand-made stream per layout with the values a correct decoder must produce.
struct SpecCase {
    var records: [UInt32]
    var units: [Int64]        // T2: time units; T3: sync counts
    var fine: [UInt16]        // T3 only
    var channels: [TagChannel]
    var markers: [MarkerEvent] // times in units / syncs

    static func make(_ layout: PTURecordLayout) -> SpecCase {
        switch layout {
        case .picoHarpT2:
            let wrap: Int64 = 210_698_240
            return SpecCase(
                records: [0 << 28 | 100, 0xF000_0000, 1 << 28 | 50, 0xF000_0000 | 0x40 | 3, 4 << 28 | 0x0FFF_FFFF],
                units: [100, wrap + 50, wrap + 0x0FFF_FFFF], fine: [], channels: [0, 1, 4],
                markers: [MarkerEvent(timePs: wrap + 0x40, marker: 3)])
        case .picoHarpT3:
            return SpecCase(
                records: [1 << 28 | 7 << 16 | 10, 0xF000_0000, 4 << 28 | 0xFFF << 16 | 0xFFFF, 0xF000_0000 | 2 << 16 | 5],
                units: [10, 65536 + 0xFFFF], fine: [7, 0xFFF], channels: [0, 3],
                markers: [MarkerEvent(timePs: 65536 + 5, marker: 2)])
        case .hydraHarpV1T2, .genericT2:
            let v1 = layout == .hydraHarpV1T2
            let wrap: Int64 = v1 ? 33_552_000 : 3 * 33_554_432
            return SpecCase(
                records: [2 << 25 | 1000, 0x8000_0000 | 63 << 25 | 3, 0x8000_0000 | 77, 0x8000_0000 | 5 << 25 | 9, 63 << 25 | 0x01FF_FFFF],
                units: [1000, wrap + 77, wrap + 0x01FF_FFFF], fine: [], channels: [2, PTUReader.defaultSyncChannel, 63],
                markers: [MarkerEvent(timePs: wrap + 9, marker: 5)])
        case .hydraHarpV1T3, .genericT3:
            let v1 = layout == .hydraHarpV1T3
            let wrap: Int64 = v1 ? 1024 : 2 * 1024
            return SpecCase(
                records: [1 << 25 | 300 << 10 | 17, 0x8000_0000 | 63 << 25 | 2, 0 << 25 | 0x7FFF << 10 | 0x3FF, 0x8000_0000 | 15 << 25 | 4],
                units: [17, wrap + 0x3FF], fine: [300, 0x7FFF], channels: [1, 0],
                markers: [MarkerEvent(timePs: wrap + 4, marker: 15)])
        }
    }
}

@Suite("PTU record types (spec-built files)")
struct PTUSpecTests {
    @Test("every record type decodes hand-computed values", arguments: PTURecordType.all)
    func recordType(_ type: PTURecordType) throws {
        let layout = try #require(type.layout)
        let spec = SpecCase.make(layout)
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("spec.ptu")
        let unitPs = layout.isT3 ? 50_000.0 : 5.0
        try PTUEncoder.file(recordType: type.rawValue, globalResolution: unitPs * 1e-12, resolution: 10e-12, records: spec.records)
            .write(to: URL(fileURLWithPath: path))
        let reader = try PTUReader(path: path, options: .init(chunkRecords: 2))
        var times: [Int64] = []
        var channels: [TagChannel] = []
        var syncs: [Int64] = []
        var fine: [UInt16] = []
        var markers: [MarkerEvent] = []
        while let (batch, t3) = try reader.nextWithT3() {
            times += batch.timesPs
            channels += batch.channels
            markers += batch.markers
            syncs += t3?.syncCounts ?? []
            fine += t3?.fineTimes ?? []
        }
        #expect(channels == spec.channels)
        if layout.isT3 {
            #expect(syncs == spec.units && fine == spec.fine)
            #expect(times == zip(spec.units, spec.fine).map { $0 * 50_000 + Int64($1) * 10 })
            #expect(markers == spec.markers.map { MarkerEvent(timePs: $0.timePs * 50_000, marker: $0.marker) })
        } else {
            #expect(times == spec.units.map { $0 * 5 })
            #expect(markers == spec.markers.map { MarkerEvent(timePs: $0.timePs * 5, marker: $0.marker) })
        }
        // Header tags of every type survive.
        let header = reader.ptuHeader
        #expect(header.tag("File_Comment") == .wideString("Prüfung"))
        #expect(header.tag("ChanDelays") == .floatArray([1.5, 2.5]))
        #expect(header.tag("UsrBlob") == .blob([1, 2, 3]))
        #expect(header.tag("HW_Markers") == .bool(true))
        #expect(header.tag("HW_InpChan_Enabled", index: 0) == .bitSet(0xF))
        #expect(header.string("File_GUID") == "{spec-test}")
        if case .date(let date)? = header.tag("File_CreatingTime") {
            #expect(date.timeIntervalSince1970 == 1.5 * 86400)
        } else {
            Issue.record("File_CreatingTime is not a date")
        }
    }

    @Test("a record count of 0 or less is derived from the file size")
    func derivedCount() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let spec = SpecCase.make(.genericT2)
        for declared: Int64 in [0, -1] {
            let path = directory.path("n\(declared).ptu")
            try PTUEncoder.file(recordType: 0x0001_0207, globalResolution: 5e-12, resolution: 5e-12, records: spec.records, declaredRecords: declared)
                .write(to: URL(fileURLWithPath: path))
            var reader: any TagReader = try PTUReader(path: path)
            #expect(reader.header.recordCount == Int64(spec.records.count))
            #expect(try reader.readAll().count == 3)
        }
    }

    @Test("a header that claims more records than the file holds: records delivered, then a truncation error")
    func headerLies() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let spec = SpecCase.make(.picoHarpT2)
        let path = directory.path("lie.ptu")
        var data = PTUEncoder.file(recordType: 0x0001_0203, globalResolution: 4e-12, resolution: 4e-12, records: spec.records, declaredRecords: 1000)
        data.append(contentsOf: [1, 2]) // and a stray half record
        try data.write(to: URL(fileURLWithPath: path))
        var reader: any TagReader = try PTUReader(path: path)
        let (read, error) = drain(&reader)
        #expect(read.count == 3)
        let failure = try #require(error as? TagFileError)
        #expect(failure.kind == .truncated)
        #expect(failure.byteOffset == Int64(data.count - 2))
    }

    @Test("an impossible record: earlier photons delivered, then an error naming the byte offset")
    func invalidRecord() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("bad.ptu")
        let records: [UInt32] = [0 << 28 | 1, 1 << 28 | 2, 7 << 28 | 3, 0 << 28 | 4]
        let data = PTUEncoder.file(recordType: 0x0001_0203, globalResolution: 4e-12, resolution: 4e-12, records: records)
        try data.write(to: URL(fileURLWithPath: path))
        var reader: any TagReader = try PTUReader(path: path)
        let (read, error) = drain(&reader)
        #expect(read.timesPs == [4, 8])
        let failure = try #require(error as? TagFileError)
        #expect(failure.kind == .invalidRecord)
        #expect(failure.byteOffset == Int64(data.count - 8))
    }

    @Test("bad magic, unknown record type and a cut header are specific errors")
    func headerErrors() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path("h.ptu")
        try Data("PQRESULT and more bytes".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try PTUReader(path: path) } throws: { ($0 as? TagFileError)?.kind == .badMagic }
        try PTUEncoder.file(recordType: 0x0001_0299, globalResolution: 4e-12, resolution: 4e-12, records: [1])
            .write(to: URL(fileURLWithPath: path))
        #expect { try PTUReader(path: path) } throws: { ($0 as? TagFileError)?.kind == .unsupported }
        let full = PTUEncoder.file(recordType: 0x0001_0203, globalResolution: 4e-12, resolution: 4e-12, records: [1])
        try full.prefix(200).write(to: URL(fileURLWithPath: path))
        #expect { try PTUReader(path: path) } throws: { ($0 as? TagFileError)?.kind == .truncated }
    }
}
