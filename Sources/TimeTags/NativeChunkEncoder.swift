/// Encodes one chunk of the native format: fixed header, then fixed-width scaled time deltas
/// with an exception list, channels, markers and gaps (layout in `docs/formats.md`).
enum NativeChunkEncoder {
    /// Encodes the events; `scaleHintPs` is the expected time resolution (deltas are divided by
    /// it when every time allows). Returns the chunk bytes (header and payload).
    static func encode(
        times: ArraySlice<Int64>, channels: ArraySlice<TagChannel>, markers: [MarkerEvent], gaps: [StreamGap],
        scaleHintPs: Int64
    ) -> [UInt8] {
        let count = times.count
        var minTime = Int64.max
        var maxTime = Int64.min
        for time in times { minTime = min(minTime, time); maxTime = max(maxTime, time) }
        for marker in markers { minTime = min(minTime, marker.timePs); maxTime = max(maxTime, marker.timePs) }
        for gap in gaps {
            minTime = min(minTime, gap.startPs, gap.endPs)
            maxTime = max(maxTime, gap.startPs, gap.endPs)
        }
        if minTime > maxTime { minTime = 0; maxTime = 0 }

        let scale = chooseScale(times, base: minTime, hint: scaleHintPs)
        var deltas = [Int64](repeating: 0, count: count)
        var widthHistogram = [Int](repeating: 0, count: 10)
        var previous = minTime
        var slot = 0
        for time in times {
            let delta = (time &- previous) / scale
            previous = time
            deltas[slot] = delta
            slot += 1
            widthHistogram[byteWidth(delta)] += 1
        }
        // Bytes for width w: count*w plus 8 per exception (deltas needing more than w bytes).
        var width = 8
        var best = count * 8
        var wider = count - widthHistogram[0]
        for candidate in 1...7 {
            wider -= widthHistogram[candidate]
            let size = count * candidate + 8 * wider
            if size < best { best = size; width = candidate }
        }
        let channelWide = channels.contains { $0 < 0 || $0 > 255 }

        var exceptions: [Int64] = []
        let escape: UInt64 = width == 8 ? 0 : (UInt64(1) << UInt64(8 * width)) - 1
        let timeBytes = count * width
        let exceptionCount = width == 8 ? 0 : count - deltas.reduce(0) { $0 + (byteWidth($1) <= width ? 1 : 0) }
        let channelBytes = count * (channelWide ? 4 : 1)
        let payloadSize = timeBytes + exceptionCount * 8 + channelBytes + markers.count * 12 + gaps.count * 32
        var payload = [UInt8](unsafeUninitializedCapacity: payloadSize + 8) { buffer, initialized in
            let out = UnsafeMutableRawPointer(buffer.baseAddress!)
            var position = 0
            for delta in deltas {
                var field = UInt64(bitPattern: delta)
                if width < 8 && byteWidth(delta) > width {
                    exceptions.append(delta)
                    field = escape
                }
                // Writes 8 bytes, of which the next field overwrites the unused high ones.
                out.storeBytes(of: field.littleEndian, toByteOffset: position, as: UInt64.self)
                position += width
            }
            initialized = position
        }
        payload.removeLast(payload.count - timeBytes)
        for exception in exceptions { payload.appendLE(exception) }
        if channelWide {
            for channel in channels { payload.appendLE(channel) }
        } else {
            payload.append(contentsOf: channels.lazy.map { UInt8(truncatingIfNeeded: $0) })
        }
        for marker in markers {
            payload.appendLE(marker.timePs)
            payload.appendLE(marker.marker)
        }
        for gap in gaps {
            payload.appendLE(gap.startPs)
            payload.appendLE(gap.endPs)
            payload.appendLE(gap.lostEvents ?? -1)
            payload.appendLE(gap.channel ?? 0)
            payload.appendLE(UInt32(gap.channel == nil ? 0 : 1))
        }

        var chunk = NativeTagFormat.chunkMagic
        chunk.reserveCapacity(NativeTagFormat.chunkHeaderBytes + payload.count)
        chunk.appendLE(UInt32(payload.count))
        chunk.appendLE(UInt32(count))
        chunk.appendLE(UInt32(exceptions.count))
        chunk.appendLE(UInt32(markers.count))
        chunk.appendLE(UInt32(gaps.count))
        chunk.appendLE(minTime)
        chunk.appendLE(maxTime)
        chunk.appendLE(UInt32(scale))
        chunk.append(UInt8(width))
        chunk.append(channelWide ? 1 : 0)
        chunk.appendLE(UInt16(0))
        var crc = CRC32C()
        chunk.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[4...])) }
        crc.update(payload)
        chunk.appendLE(crc.value)
        chunk += payload
        return chunk
    }

    /// Bytes needed to store `delta` below the escape value of that width; 9 when negative
    /// (only storable raw in width 8).
    @inline(__always)
    static func byteWidth(_ delta: Int64) -> Int {
        guard delta >= 0, delta < Int64.max else { return 9 }
        let bits = 64 - UInt64(delta + 1).leadingZeroBitCount
        return max(1, (bits + 7) / 8)
    }

    /// `hint` if every time minus `base` is a multiple of it and it fits 32 bits, else 1.
    private static func chooseScale(_ times: ArraySlice<Int64>, base: Int64, hint: Int64) -> Int64 {
        guard hint > 1, hint <= Int64(UInt32.max) else { return 1 }
        for time in times {
            let (offset, overflow) = time.subtractingReportingOverflow(base)
            if overflow || offset % hint != 0 { return 1 }
        }
        return hint
    }
}
