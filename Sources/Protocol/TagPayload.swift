import TimeTags

/// The bulk frame of a tag batch: packed little-endian records of 12 bytes,
/// `time_ps` (Int64) then `channel` (Int32), with no padding.
///
/// numpy reads it without copying: `np.frombuffer(frame, dtype=[("time_ps", "<i8"), ("channel", "<i4")])`.
public enum TagPayload {
    /// Bytes per tag record.
    public static let recordSize = 12

    /// Encodes the tags of `batch` (markers and gaps are not carried on the wire).
    public static func encode(_ batch: TagBatch) -> [UInt8] {
        let count = batch.count
        var bytes = [UInt8](repeating: 0, count: count * recordSize)
        bytes.withUnsafeMutableBytes { out in
            batch.timesPs.withUnsafeBufferPointer { times in
                batch.channels.withUnsafeBufferPointer { channels in
                    guard times.count == count, channels.count == count else { return }
                    for index in 0..<count {
                        out.storeBytes(of: times[index].littleEndian, toByteOffset: index * recordSize, as: Int64.self)
                        out.storeBytes(of: channels[index].littleEndian, toByteOffset: index * recordSize + 8, as: Int32.self)
                    }
                }
            }
        }
        return bytes
    }

    /// Decodes a packed tag frame (any alignment).
    /// - Throws: ``ProtocolError`` when the length is not a whole number of records or differs from `expectedCount`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, expectedCount: Int? = nil) throws(ProtocolError) -> TagBatch {
        guard bytes.count % recordSize == 0 else {
            throw ProtocolError(.badLength, "tag frame of \(bytes.count) bytes is not a multiple of \(recordSize)")
        }
        let count = bytes.count / recordSize
        if let expectedCount, expectedCount != count {
            throw ProtocolError(.badLength, "header announces \(expectedCount) tags, frame holds \(count)")
        }
        var times = [Int64](repeating: 0, count: count)
        var channels = [TagChannel](repeating: 0, count: count)
        times.withUnsafeMutableBufferPointer { timesOut in
            channels.withUnsafeMutableBufferPointer { channelsOut in
                for index in 0..<count {
                    timesOut[index] = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: index * recordSize, as: Int64.self))
                    channelsOut[index] = Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: index * recordSize + 8, as: Int32.self))
                }
            }
        }
        return TagBatch(timesPs: times, channels: channels)
    }
}
