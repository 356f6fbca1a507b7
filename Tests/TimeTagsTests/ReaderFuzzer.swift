import Foundation
@testable import TimeTags

/// The reader fuzz driver: small valid inputs of every format, mutated deterministically (bit flips,
/// boundary bytes and words, truncation, header field edits with checksums repaired) and read to the
/// end. Run by ``ReaderFuzzTests``; `QLINK_FUZZ_ITERATIONS` and `QLINK_FUZZ_SEED` set the run
/// (`docs/formats.md`).
struct ReaderFuzzer {
    /// One input family: a valid file and the header fields worth editing.
    struct Seed {
        var name: String
        var format: TagFileFormat
        var bytes: [UInt8]
        /// Offsets of 8-byte header values (PTU tag values) that field edits overwrite.
        var fields: [(name: String, offset: Int, isFloat: Bool)] = []
    }

    /// What one iteration did to its seed, for failure messages.
    struct Case {
        var seed: String
        var mutations: [String]
        var bytes: [UInt8]
        var description: String { "\(seed): " + mutations.joined(separator: "; ") }
    }

    static let boundaryDoubles: [Double] = [0, -0.0, -1, 1e308, -1e308, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, 1e-3, 1, 1e-9, 1e-15, 1e-16, 2e-3]
    static let boundaryIntegers: [UInt64] = [0, ~0, UInt64(Int64.max), UInt64(bitPattern: Int64.min), 1 << 40, UInt64(UInt32.max), 1, 0x8000_0000]
    static let csvTokens = ["9223372036854775807", "-9223372036854775808", "9223372036854775808", "M", "G,", "\n", ",", "-",
                            "99999999999999999999", "#", "\r", "M2147483648,", "G,1,0,-5,", ""]

    /// The mutated input number `iteration` of `seed` (a pure function of the run seed and the iteration).
    static func mutate(_ seed: Seed, runSeed: UInt64, iteration: Int) -> Case {
        var generator = SeededGenerator(seed: runSeed &+ UInt64(iteration) &* 0x9E37_79B9_7F4A_7C15)
        var bytes = seed.bytes
        var mutations: [String] = []
        var repairChecksums = seed.format == .native && generator.next() % 2 == 0
        for _ in 0..<(1 + Int(generator.next() % 3)) {
            let choice = generator.next() % 7
            if bytes.isEmpty { break }
            let at = Int(generator.next() % UInt64(bytes.count))
            switch choice {
            case 0:
                let bit = Int(generator.next() % 8)
                bytes[at] ^= 1 << bit
                mutations.append("flip bit \(bit) of byte \(at)")
            case 1:
                let value: UInt8 = [0x00, 0xFF, 0x7F, 0x80][Int(generator.next() % 4)]
                bytes[at] = value
                mutations.append("byte \(at) = 0x\(String(value, radix: 16))")
            case 2:
                let word = generator.next() % 2 == 0
                    ? boundaryIntegers[Int(generator.next() % UInt64(boundaryIntegers.count))]
                    : boundaryDoubles[Int(generator.next() % UInt64(boundaryDoubles.count))].bitPattern
                let width = [2, 4, 8][Int(generator.next() % 3)]
                overwrite(&bytes, at: at, with: word, width: width)
                mutations.append("\(width) bytes at \(at) = 0x\(String(word, radix: 16))")
            case 3:
                let length = Int(generator.next() % UInt64(bytes.count + 1))
                bytes.removeLast(bytes.count - length)
                mutations.append("truncate to \(length) bytes")
            case 4 where !seed.fields.isEmpty:
                let field = seed.fields[Int(generator.next() % UInt64(seed.fields.count))]
                let value = field.isFloat
                    ? boundaryDoubles[Int(generator.next() % UInt64(boundaryDoubles.count))].bitPattern
                    : boundaryIntegers[Int(generator.next() % UInt64(boundaryIntegers.count))]
                overwrite(&bytes, at: field.offset, with: value, width: 8)
                mutations.append("\(field.name) = \(field.isFloat ? String(Double(bitPattern: value)) : String(Int64(bitPattern: value)))")
            case 4 where seed.format == .native:
                let value = ["0", "-1", "1e308", "1e-300", "4.5", "-0", "1e8", "100000001"][Int(generator.next() % 8)]
                let key = generator.next() % 2 == 0 ? "resolutionPs" : "syncPeriodPs"
                bytes = replacingNativeHeaderValue(bytes, key: key, value: value)
                repairChecksums = true
                mutations.append("\(key) = \(value)")
            case 5 where seed.format == .native:
                // A chunk header field: counts, time range, scale or width, with the checksum repaired.
                let chunkOffsets = nativeChunkOffsets(bytes)
                guard !chunkOffsets.isEmpty else { continue }
                let chunk = chunkOffsets[Int(generator.next() % UInt64(chunkOffsets.count))]
                let (field, width) = [(8, 4), (12, 4), (16, 4), (20, 4), (24, 8), (32, 8), (40, 4), (44, 1)][Int(generator.next() % 8)]
                let value = generator.next() % 2 == 0 ? boundaryIntegers[Int(generator.next() % UInt64(boundaryIntegers.count))] : generator.next() % 300
                overwrite(&bytes, at: chunk + field, with: value, width: width)
                repairChecksums = true
                mutations.append("chunk at \(chunk) field +\(field) = \(value)")
            case 6 where seed.format == .csv:
                let token = csvTokens[Int(generator.next() % UInt64(csvTokens.count))]
                bytes.insert(contentsOf: Array(token.utf8), at: at)
                mutations.append("insert '\(token)' at \(at)")
            default:
                let length = min(bytes.count - at, 1 + Int(generator.next() % 16))
                for index in at..<(at + length) { bytes[index] = UInt8(truncatingIfNeeded: generator.next()) }
                mutations.append("\(length) random bytes at \(at)")
            }
        }
        if repairChecksums {
            repairNativeChecksums(&bytes)
            mutations.append("checksums repaired")
        }
        return Case(seed: seed.name, mutations: mutations, bytes: bytes)
    }

    /// Writes the low `width` bytes of `value` at `offset`, as far as the buffer reaches.
    static func overwrite(_ bytes: inout [UInt8], at offset: Int, with value: UInt64, width: Int) {
        for byte in 0..<width where offset + byte < bytes.count {
            bytes[offset + byte] = UInt8(truncatingIfNeeded: value >> UInt64(8 * byte))
        }
    }

    /// Offsets of the complete chunks of a native file, walking the headers as far as they make sense.
    static func nativeChunkOffsets(_ bytes: [UInt8]) -> [Int] {
        guard bytes.count >= 20 else { return [] }
        var offset = 20 + Int(le32(bytes, 12))
        var offsets: [Int] = []
        while offset + NativeTagFormat.chunkHeaderBytes <= bytes.count, Array(bytes[offset..<(offset + 4)]) == NativeTagFormat.chunkMagic {
            offsets.append(offset)
            offset += NativeTagFormat.chunkHeaderBytes + Int(le32(bytes, offset + 4))
        }
        return offsets
    }

    /// Recomputes the header and chunk checksums, so mutations reach the decoders behind them.
    static func repairNativeChecksums(_ bytes: inout [UInt8]) {
        guard bytes.count >= 20 else { return }
        let crcOffset = 16 + Int(le32(bytes, 12))
        if crcOffset + 4 <= bytes.count {
            overwrite(&bytes, at: crcOffset, with: UInt64(CRC32C.checksum(Array(bytes[8..<crcOffset]))), width: 4)
        }
        for chunk in nativeChunkOffsets(bytes) {
            let end = chunk + NativeTagFormat.chunkHeaderBytes + Int(le32(bytes, chunk + 4))
            guard end <= bytes.count else { break }
            var crc = CRC32C()
            crc.update(Array(bytes[(chunk + 4)..<(chunk + 48)]))
            crc.update(Array(bytes[(chunk + NativeTagFormat.chunkHeaderBytes)..<end]))
            overwrite(&bytes, at: chunk + 48, with: UInt64(crc.value), width: 4)
        }
    }

    /// The native file with `"key":value` set in its header JSON (the length field updated).
    static func replacingNativeHeaderValue(_ bytes: [UInt8], key: String, value: String) -> [UInt8] {
        guard bytes.count >= 20, 20 + Int(le32(bytes, 12)) <= bytes.count else { return bytes }
        let jsonEnd = 16 + Int(le32(bytes, 12))
        guard var object = (try? JSONSerialization.jsonObject(with: Data(bytes[16..<jsonEnd]))) as? [String: Any] else { return bytes }
        object[key] = "\u{1}"
        guard let encoded = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let text = String(data: encoded, encoding: .utf8) else { return bytes }
        let json = Array(text.replacingOccurrences(of: "\"\\u0001\"", with: value).utf8)
        var result = Array(bytes[0..<12])
        result.appendLE(UInt32(json.count))
        return result + json + [0, 0, 0, 0] + Array(bytes[(jsonEnd + 4)...])
    }

    static func le32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << UInt32(8 * $1) }
    }

    /// The most events a reader may deliver from `byteCount` bytes of `format`: delivering more
    /// means it read records the file cannot hold (a hang in the making).
    static func eventBound(_ format: TagFileFormat, byteCount: Int) -> Int {
        switch format {
        case .ptu: return byteCount / 4
        case .swabianDump: return byteCount / 16
        case .quTAG: return byteCount / 10
        case .csv: return byteCount / 2 + 1
        case .native: return byteCount / 2
        }
    }
}
