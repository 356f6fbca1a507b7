import Benchmark
import Foundation
import TimeTags

// PTU T2 decode from a memory-mapped file and native-format read, in records (tags) per second,
// plus peak memory of converting a large generated PTU file to the native format.
//
// Environment: QLINK_BENCH_CONVERT_MB sets the size of the generated file for the conversion
// benchmark (default 1024 MB); files are generated once under $TMPDIR/qlink-bench.

let benchmarks: @Sendable () -> Void = {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qlink-bench").path
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let decodeRecords = 32 << 20 // 32 Mi records, 128 MiB
    let ptuPath = directory + "/decode-t2.ptu"
    let nativePath = directory + "/read.qtag"
    let convertMB = Int(ProcessInfo.processInfo.environment["QLINK_BENCH_CONVERT_MB"] ?? "") ?? 1024
    let convertPath = directory + "/convert-\(convertMB)MB.ptu"

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident],
        maxDuration: .seconds(20), maxIterations: 10
    )

    Benchmark("PTU T2 decode (HydraHarp v2, 32 Mi records, Mrecords/s)",
              configuration: .init(metrics: [.wallClock, .custom("Mrecords/s", polarity: .prefersLarger, useScalingFactor: false)],
                                   setup: { try SyntheticPTU.ensure(path: ptuPath, records: decodeRecords) })) { benchmark in
        let reader = try PTUReader(path: ptuPath, options: .init(chunkRecords: 1 << 16))
        var photons = 0
        let start = ContinuousClock.now
        benchmark.startMeasurement()
        while let batch = try reader.next() {
            photons += batch.count
            blackHole(batch)
        }
        benchmark.stopMeasurement()
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        benchmark.measurement(.custom("Mrecords/s", polarity: .prefersLarger, useScalingFactor: false), Int(Double(decodeRecords) / seconds / 1e6))
        blackHole(photons)
    }

    Benchmark("Native read (32 Mi tags, Mtags/s)",
              configuration: .init(metrics: [.wallClock, .custom("Mtags/s", polarity: .prefersLarger, useScalingFactor: false)],
                                   setup: {
                                       try SyntheticPTU.ensure(path: ptuPath, records: decodeRecords)
                                       try SyntheticPTU.ensureNative(path: nativePath, from: ptuPath)
                                   })) { benchmark in
        let reader = try NativeTagReader(path: nativePath)
        var tags = 0
        let start = ContinuousClock.now
        benchmark.startMeasurement()
        while let batch = try reader.next() {
            tags += batch.count
            blackHole(batch)
        }
        benchmark.stopMeasurement()
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        benchmark.measurement(.custom("Mtags/s", polarity: .prefersLarger, useScalingFactor: false), Int(Double(tags) / seconds / 1e6))
    }

    Benchmark("Convert generated PTU to native (peak memory)",
              configuration: .init(metrics: [.wallClock, .peakMemoryResident], maxIterations: 1,
                                   setup: { try SyntheticPTU.ensure(path: convertPath, records: convertMB << 18) })) { benchmark in
        let output = directory + "/convert-out.qtag"
        var reader: any TagReader = try PTUReader(path: convertPath)
        var sink: any TagSink = try NativeTagWriter(path: output, header: reader.header, overwrite: true)
        let statistics = try TagFiles.convert(from: &reader, to: &sink)
        blackHole(statistics)
        try? FileManager.default.removeItem(atPath: output)
    }
}

/// Generates synthetic HydraHarp v2 T2 files: two channels at about 1 Mcps each, 1 ps units.
enum SyntheticPTU {
    static func ensure(path: String, records: Int) throws {
        if let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, size > records * 4 { return }
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else { throw CocoaError(.fileWriteUnknown) }
        defer { try? handle.close() }
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: header(records: records))
        var state: UInt64 = 12345
        var time: UInt64 = 0
        var written = 0
        var block = [UInt32]()
        block.reserveCapacity(1 << 20)
        while written < records {
            block.removeAll(keepingCapacity: true)
            while block.count < (1 << 20) && written + block.count < records {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                time += 1 + (state >> 44) // mean gap ~ 0.5 us in 1 ps units
                if time >= 1 << 25 {
                    time -= 1 << 25
                    block.append(0x8000_0000 | 63 << 25 | 1)
                } else {
                    block.append(UInt32((state >> 63) << 25) | UInt32(time))
                }
            }
            written += block.count
            try block.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
        }
    }

    static func ensureNative(path: String, from ptuPath: String) throws {
        if FileManager.default.fileExists(atPath: path) { return }
        var reader: any TagReader = try PTUReader(path: ptuPath)
        var sink: any TagSink = try NativeTagWriter(path: path, header: reader.header, overwrite: true)
        _ = try TagFiles.convert(from: &reader, to: &sink)
    }

    private static func header(records: Int) -> Data {
        func tag(_ name: String, type: UInt32, raw: UInt64) -> Data {
            var data = Data(name.utf8)
            data.append(Data(count: 32 - data.count))
            withUnsafeBytes(of: Int32(-1).littleEndian) { data.append(contentsOf: $0) }
            withUnsafeBytes(of: type.littleEndian) { data.append(contentsOf: $0) }
            withUnsafeBytes(of: raw.littleEndian) { data.append(contentsOf: $0) }
            return data
        }
        var data = Data("PQTTTR\0\01.0.00\0\0".utf8)
        data.append(tag("TTResultFormat_TTTRRecType", type: 0x1000_0008, raw: 0x0101_0204))
        data.append(tag("TTResult_NumberOfRecords", type: 0x1000_0008, raw: UInt64(records)))
        data.append(tag("MeasDesc_GlobalResolution", type: 0x2000_0008, raw: (1e-12).bitPattern))
        data.append(tag("Header_End", type: 0xFFFF_0008, raw: 0))
        return data
    }
}
