/// Little-endian writes into a growing byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func put<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func put(_ value: Double) { put(value.bitPattern) }

    mutating func put(bytes more: [UInt8]) { bytes.append(contentsOf: more) }
}

/// Little-endian reads with unaligned loads and bounds checks: frames have no alignment guarantee.
struct ByteReader {
    let buffer: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    var remaining: Int { buffer.count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(ProtocolError) -> T {
        let size = MemoryLayout<T>.size
        guard offset >= 0, remaining >= size else {
            throw ProtocolError(.badLength, "needed \(size) more bytes at offset \(offset), only \(remaining) left")
        }
        let value = buffer.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    mutating func readDouble() throws(ProtocolError) -> Double {
        Double(bitPattern: try read(UInt64.self))
    }

    mutating func readBytes(_ count: Int) throws(ProtocolError) -> [UInt8] {
        guard count >= 0, remaining >= count else {
            throw ProtocolError(.badLength, "needed \(count) more bytes at offset \(offset), only \(remaining) left")
        }
        let slice = Array(UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)]))
        offset += count
        return slice
    }
}
