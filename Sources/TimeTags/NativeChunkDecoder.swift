/// The fixed fields of a native chunk header.
struct NativeChunkHeader {
    var payloadBytes: Int
    var tagCount: Int
    var exceptionCount: Int
    var markerCount: Int
    var gapCount: Int
    var minTimePs: Int64
    var maxTimePs: Int64
    var scalePs: Int64
    var timeWidth: Int
    var channelWide: Bool
    var crc: UInt32

    /// Payload size implied by the counts and widths.
    var expectedPayloadBytes: Int {
        tagCount * timeWidth + exceptionCount * 8 + tagCount * (channelWide ? 4 : 1) + markerCount * 12 + gapCount * 32
    }

    /// Reads the header fields at the start of `bytes` (at least 52 bytes, magic already checked).
    init(_ bytes: UnsafeRawBufferPointer) {
        payloadBytes = Int(bytes.le(4, as: UInt32.self))
        tagCount = Int(bytes.le(8, as: UInt32.self))
        exceptionCount = Int(bytes.le(12, as: UInt32.self))
        markerCount = Int(bytes.le(16, as: UInt32.self))
        gapCount = Int(bytes.le(20, as: UInt32.self))
        minTimePs = bytes.le(24, as: Int64.self)
        maxTimePs = bytes.le(32, as: Int64.self)
        scalePs = Int64(bytes.le(40, as: UInt32.self))
        timeWidth = Int(bytes.load(fromByteOffset: 44, as: UInt8.self))
        channelWide = bytes.load(fromByteOffset: 45, as: UInt8.self) != 0
        crc = bytes.le(48, as: UInt32.self)
    }

    /// Why the header cannot describe a valid chunk, or `nil` if it can.
    var inconsistency: String? {
        if timeWidth < 1 || timeWidth > 8 { return "time field width \(timeWidth) is not 1-8" }
        if scalePs < 1 { return "time scale is 0" }
        if minTimePs > maxTimePs { return "time range is reversed" }
        if timeWidth == 8 && exceptionCount != 0 { return "exceptions with 8-byte time fields" }
        if exceptionCount > tagCount { return "more exceptions than tags" }
        if payloadBytes != expectedPayloadBytes {
            return "payload length \(payloadBytes) does not match its counts (\(expectedPayloadBytes))"
        }
        return nil
    }
}

/// Decodes the payload of a native chunk whose header and checksum have been verified.
enum NativeChunkDecoder {
    /// Decodes `payload` (exactly `header.payloadBytes` bytes). Returns `nil` when the time
    /// fields use a different number of exceptions than the header declares.
    static func decode(_ header: NativeChunkHeader, payload: UnsafeRawBufferPointer) -> TagBatch? {
        let count = header.tagCount
        let exceptionsOffset = count * header.timeWidth
        let channelsOffset = exceptionsOffset + header.exceptionCount * 8
        let markersOffset = channelsOffset + count * (header.channelWide ? 4 : 1)
        let gapsOffset = markersOffset + header.markerCount * 12
        var usedExceptions = 0
        let times = [Int64](unsafeUninitializedCapacity: count) { buffer, initialized in
            usedExceptions = decodeTimes(header, payload, exceptionsOffset: exceptionsOffset, into: buffer)
            initialized = count
        }
        guard usedExceptions == header.exceptionCount else { return nil }
        let channels = [TagChannel](unsafeUninitializedCapacity: count) { buffer, initialized in
            if header.channelWide {
                for index in 0..<count { buffer[index] = payload.le(channelsOffset + 4 * index, as: Int32.self) }
            } else {
                let source = payload.baseAddress!.advanced(by: channelsOffset).assumingMemoryBound(to: UInt8.self)
                for index in 0..<count { buffer[index] = TagChannel(source[index]) }
            }
            initialized = count
        }
        var batch = TagBatch(timesPs: times, channels: channels)
        batch.markers.reserveCapacity(header.markerCount)
        for index in 0..<header.markerCount {
            let offset = markersOffset + 12 * index
            batch.markers.append(MarkerEvent(timePs: payload.le(offset, as: Int64.self), marker: payload.le(offset + 8, as: Int32.self)))
        }
        for index in 0..<header.gapCount {
            let offset = gapsOffset + 32 * index
            let lost = payload.le(offset + 16, as: Int64.self)
            let hasChannel = payload.le(offset + 28, as: UInt32.self) & 1 != 0
            batch.gaps.append(StreamGap(
                startPs: payload.le(offset, as: Int64.self), endPs: payload.le(offset + 8, as: Int64.self),
                lostEvents: lost < 0 ? nil : lost, channel: hasChannel ? payload.le(offset + 24, as: Int32.self) : nil))
        }
        return batch
    }

    /// The hot loop: rebuilds absolute times from fixed-width scaled deltas. Returns the number
    /// of exceptions used (which the caller compares with the header). Never reads outside `payload`.
    private static func decodeTimes(
        _ header: NativeChunkHeader, _ payload: UnsafeRawBufferPointer, exceptionsOffset: Int,
        into output: UnsafeMutableBufferPointer<Int64>
    ) -> Int {
        let count = header.tagCount
        let width = header.timeWidth
        let scale = header.scalePs
        let hasEscape = width < 8
        let mask: UInt64 = hasEscape ? (UInt64(1) << UInt64(8 * width)) - 1 : ~0
        guard let base = payload.baseAddress, let out = output.baseAddress, count > 0 else { return 0 }
        var previous = header.minTimePs
        var exception = 0
        let exceptionLimit = header.exceptionCount
        // Indices whose 8-byte load stays inside the payload take the fast path.
        let fastCount = min(count, payload.count >= 8 ? (payload.count - 8) / width + 1 : 0)
        var index = 0
        while index < count {
            var field: UInt64
            if index < fastCount {
                field = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index &* width, as: UInt64.self)) & mask
            } else {
                field = 0
                for byte in 0..<width {
                    field |= UInt64(base.load(fromByteOffset: index * width + byte, as: UInt8.self)) << UInt64(8 * byte)
                }
            }
            var delta = Int64(bitPattern: field)
            if hasEscape && field == mask {
                guard exception < exceptionLimit else { return exception + 1 }
                delta = Int64(littleEndian: base.loadUnaligned(fromByteOffset: exceptionsOffset + 8 * exception, as: Int64.self))
                exception &+= 1
            }
            previous = previous &+ delta &* scale
            out[index] = previous
            index &+= 1
        }
        return exception
    }
}
