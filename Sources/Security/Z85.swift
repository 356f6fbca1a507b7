/// Z85, the ZeroMQ base-85 text encoding of binary keys (ZeroMQ RFC 32).
///
/// Every 4 bytes become 5 printable characters; CURVE keys (32 bytes) become 40 characters.
public enum Z85 {
    static let alphabet: [UInt8] = Array(
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)

    static let decodeTable: [Int16] = {
        var table = [Int16](repeating: -1, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = Int16(index) }
        return table
    }()

    /// Encodes `bytes`, whose count must be a multiple of 4.
    public static func encode(_ bytes: [UInt8]) throws -> String {
        guard bytes.count % 4 == 0 else {
            throw SecurityError(.invalidEncoding, "Z85 input must be a multiple of 4 bytes, got \(bytes.count)")
        }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count / 4 * 5)
        var index = 0
        while index < bytes.count {
            var value = UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16
            value |= UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
            var group = [UInt8](repeating: 0, count: 5)
            for position in stride(from: 4, through: 0, by: -1) {
                group[position] = alphabet[Int(value % 85)]
                value /= 85
            }
            output.append(contentsOf: group)
            index += 4
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes Z85 `text`, whose length must be a multiple of 5; rejects foreign characters and overflow.
    public static func decode(_ text: String) throws -> [UInt8] {
        let characters = Array(text.utf8)
        guard characters.count % 5 == 0 else {
            throw SecurityError(.invalidEncoding, "Z85 text must be a multiple of 5 characters, got \(characters.count)")
        }
        var output: [UInt8] = []
        output.reserveCapacity(characters.count / 5 * 4)
        var index = 0
        while index < characters.count {
            var value: UInt64 = 0
            for offset in 0..<5 {
                let digit = decodeTable[Int(characters[index + offset])]
                guard digit >= 0 else {
                    throw SecurityError(.invalidEncoding, "Z85 text has a character outside the alphabet at \(index + offset)")
                }
                value = value * 85 + UInt64(digit)
            }
            guard value <= UInt64(UInt32.max) else {
                throw SecurityError(.invalidEncoding, "Z85 group at \(index) exceeds 32 bits")
            }
            output.append(UInt8(truncatingIfNeeded: value >> 24))
            output.append(UInt8(truncatingIfNeeded: value >> 16))
            output.append(UInt8(truncatingIfNeeded: value >> 8))
            output.append(UInt8(truncatingIfNeeded: value))
            index += 5
        }
        return output
    }
}
