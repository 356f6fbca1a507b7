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

/// Why a chunk whose checksum matched still cannot be decoded.
struct NativeChunkProblem: Error {
    var reason: String
}

/// Decodes the payload of a native chunk whose header and checksum have been verified.
enum NativeChunkDecoder {
    /// Decodes `payload` (exactly `header.payloadBytes` bytes). Throws when the time fields use a
    /// different number of exceptions than the header declares, when a delta times the scale
    /// overflows 64 bits, or when the events do not span exactly the header's time range.
    static func decode(_ header: NativeChunkHeader, payload: UnsafeRawBufferPointer) throws(NativeChunkProblem) -> TagBatch {
        let count = header.tagCount
        let exceptionsOffset = count * header.timeWidth
        let channelsOffset = exceptionsOffset + header.exceptionCount * 8
        let markersOffset = channelsOffset + count * (header.channelWide ? 4 : 1)
        let gapsOffset = markersOffset + header.markerCount * 12
        var summary = TimeSummary()
        let times = [Int64](unsafeUninitializedCapacity: count) { buffer, initialized in
            summary = decodeTimes(header, payload, exceptionsOffset: exceptionsOffset, into: buffer)
            initialized = count
        }
        guard summary.exceptionsUsed == header.exceptionCount else {
            throw NativeChunkProblem(reason: "uses more or fewer time exceptions than it declares (\(header.exceptionCount))")
        }
        guard !summary.overflowed else {
            throw NativeChunkProblem(reason: "a time delta times the scale \(header.scalePs) ps overflows 64 bits")
        }
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
            let marker = MarkerEvent(timePs: payload.le(offset, as: Int64.self), marker: payload.le(offset + 8, as: Int32.self))
            summary.include(marker.timePs)
            batch.markers.append(marker)
        }
        for index in 0..<header.gapCount {
            let offset = gapsOffset + 32 * index
            let lost = payload.le(offset + 16, as: Int64.self)
            let hasChannel = payload.le(offset + 28, as: UInt32.self) & 1 != 0
            let gap = StreamGap(
                startPs: payload.le(offset, as: Int64.self), endPs: payload.le(offset + 8, as: Int64.self),
                lostEvents: lost < 0 ? nil : lost, channel: hasChannel ? payload.le(offset + 24, as: Int32.self) : nil)
            summary.include(gap.startPs)
            summary.include(gap.endPs)
            batch.gaps.append(gap)
        }
        if summary.lowest <= summary.highest, summary.lowest != header.minTimePs || summary.highest != header.maxTimePs {
            throw NativeChunkProblem(reason: "header states the time range \(header.minTimePs) to \(header.maxTimePs) ps"
                                     + " but its events span \(summary.lowest) to \(summary.highest) ps")
        }
        return batch
    }

    /// What decoding the times found: exceptions used, whether a scaled delta overflowed, and the
    /// earliest and latest event time (markers and gaps are added by the caller).
    struct TimeSummary {
        var exceptionsUsed = 0
        var overflowed = false
        var lowest = Int64.max
        var highest = Int64.min

        mutating func include(_ timePs: Int64) {
            lowest = min(lowest, timePs)
            highest = max(highest, timePs)
        }
    }

    /// The hot loop: rebuilds absolute times from fixed-width scaled deltas (added with 64-bit
    /// wrap-around, as the format defines; the caller checks the result against the header's range).
    /// Never reads outside `payload`.
    private static func decodeTimes(
        _ header: NativeChunkHeader, _ payload: UnsafeRawBufferPointer, exceptionsOffset: Int,
        into output: UnsafeMutableBufferPointer<Int64>
    ) -> TimeSummary {
        var summary = TimeSummary()
        let count = header.tagCount
        let width = header.timeWidth
        let scale = header.scalePs
        let hasEscape = width < 8
        let mask: UInt64 = hasEscape ? (UInt64(1) << UInt64(8 * width)) - 1 : ~0
        guard let base = payload.baseAddress, let out = output.baseAddress, count > 0 else { return summary }
        var previous = header.minTimePs
        var exception = 0
        let exceptionLimit = header.exceptionCount
        var lowest = Int64.max
        var highest = Int64.min
        var overflowed = false
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
                guard exception < exceptionLimit else {
                    summary.exceptionsUsed = exception + 1
                    return summary
                }
                delta = Int64(littleEndian: base.loadUnaligned(fromByteOffset: exceptionsOffset + 8 * exception, as: Int64.self))
                exception &+= 1
            }
            if scale != 1 {
                let (product, wrapped) = delta.multipliedReportingOverflow(by: scale)
                overflowed = overflowed || wrapped
                delta = product
            }
            previous = previous &+ delta
            out[index] = previous
            lowest = min(lowest, previous)
            highest = max(highest, previous)
            index &+= 1
        }
        summary.exceptionsUsed = exception
        summary.overflowed = overflowed
        summary.lowest = lowest
        summary.highest = highest
        return summary
    }
}
