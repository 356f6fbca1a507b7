/// The record-decoding loop for PTU files: turns raw 32-bit records into photon times (in
/// instrument units: time units in T2, sync counts in T3), channels, fine times and markers.
///
/// This is the one place with raw pointers; ``PTUReader`` checks every bound before calling it.
struct PTUDecoder {
    /// Running overflow correction: time units (T2) or syncs (T3).
    var overflowUnits: Int64 = 0
    /// Counters of non-photon records seen so far.
    var overflowRecords: Int64 = 0
    var syncRecords: Int64 = 0
    var markerRecords: Int64 = 0

    let layout: PTURecordLayout
    /// Channel given to T2 sync-input events, or `nil` to drop them.
    let syncChannel: TagChannel?
    /// Largest overflow correction allowed: a record field added to it stays within the time units
    /// (T2) or syncs (T3) whose time in ps fits (see ``PTUReader``).
    let maxOverflowUnits: Int64

    /// A decoder for `layout` whose times (units or syncs) never exceed `maxTimeUnits`.
    init(layout: PTURecordLayout, syncChannel: TagChannel?, maxTimeUnits: Int64) {
        self.layout = layout
        self.syncChannel = syncChannel
        let fieldUnits: Int64
        switch layout {
        case .picoHarpT2: fieldUnits = 1 << 28
        case .picoHarpT3: fieldUnits = 1 << 16
        case .hydraHarpV1T2, .genericT2: fieldUnits = 1 << 25
        case .hydraHarpV1T3, .genericT3: fieldUnits = 1 << 10
        }
        maxOverflowUnits = maxTimeUnits - fieldUnits
    }

    /// `overflow + units`, or `nil` when times would pass the limit (the caller stops with an invalid record).
    @inline(__always)
    private func advanced(_ overflow: Int64, by units: Int64) -> Int64? {
        let (sum, wrapped) = overflow.addingReportingOverflow(units)
        return wrapped || sum > maxOverflowUnits ? nil : sum
    }

    private var beyondRange: String {
        "the overflow count passes \(maxOverflowUnits) \(layout.isT3 ? "syncs" : "time units"), beyond the 64-bit picosecond range at this resolution"
    }

    /// What one call decoded.
    struct Outcome {
        /// Records consumed (up to the invalid record, if any).
        var consumed: Int
        /// Photon events written to the outputs.
        var produced: Int
        /// Index (within this call) and reason of an invalid record, if one stopped decoding.
        var invalid: (index: Int, reason: String)?
    }

    /// Decodes `count` records at `records` into the outputs, which must each have room for
    /// `count` entries. Markers are appended with their time in instrument units.
    mutating func decode(
        records: UnsafeRawPointer, count: Int,
        times: UnsafeMutablePointer<Int64>, channels: UnsafeMutablePointer<TagChannel>,
        fineTimes: UnsafeMutablePointer<UInt16>?, markers: inout [MarkerEvent]
    ) -> Outcome {
        switch layout {
        case .picoHarpT2: return decodePicoHarpT2(records, count, times, channels, &markers)
        case .picoHarpT3: return decodePicoHarpT3(records, count, times, channels, fineTimes, &markers)
        case .hydraHarpV1T2: return decodeHarpT2(records, count, times, channels, &markers, version1: true)
        case .genericT2: return decodeHarpT2(records, count, times, channels, &markers, version1: false)
        case .hydraHarpV1T3: return decodeHarpT3(records, count, times, channels, fineTimes, &markers, version1: true)
        case .genericT3: return decodeHarpT3(records, count, times, channels, fineTimes, &markers, version1: false)
        }
    }

    @inline(__always)
    private func record(_ records: UnsafeRawPointer, _ index: Int) -> UInt32 {
        UInt32(littleEndian: records.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))
    }

    private mutating func decodePicoHarpT2(
        _ records: UnsafeRawPointer, _ count: Int, _ times: UnsafeMutablePointer<Int64>,
        _ channels: UnsafeMutablePointer<TagChannel>, _ markers: inout [MarkerEvent]
    ) -> Outcome {
        var overflow = overflowUnits
        var produced = 0
        var index = 0
        defer { overflowUnits = overflow }
        while index < count {
            let word = record(records, index)
            let channel = word >> 28
            if channel < 5 {
                times[produced] = overflow &+ Int64(word & 0x0FFF_FFFF)
                channels[produced] = TagChannel(channel)
                produced &+= 1
            } else if channel == 15 {
                let bits = word & 0xF
                if bits == 0 {
                    guard let next = advanced(overflow, by: 210_698_240) else {
                        return Outcome(consumed: index, produced: produced, invalid: (index, beyondRange))
                    }
                    overflow = next
                    overflowRecords += 1
                } else {
                    markers.append(MarkerEvent(timePs: overflow &+ Int64(word & 0x0FFF_FFF0), marker: Int32(bits)))
                    markerRecords += 1
                }
            } else {
                return Outcome(consumed: index, produced: produced, invalid: (index, "PicoHarp T2 record with channel \(channel) (allowed 0-4 and 15)"))
            }
            index &+= 1
        }
        return Outcome(consumed: index, produced: produced, invalid: nil)
    }

    private mutating func decodePicoHarpT3(
        _ records: UnsafeRawPointer, _ count: Int, _ times: UnsafeMutablePointer<Int64>,
        _ channels: UnsafeMutablePointer<TagChannel>, _ fineTimes: UnsafeMutablePointer<UInt16>?,
        _ markers: inout [MarkerEvent]
    ) -> Outcome {
        var overflow = overflowUnits
        var produced = 0
        var index = 0
        defer { overflowUnits = overflow }
        while index < count {
            let word = record(records, index)
            let channel = word >> 28
            let sync = Int64(word & 0xFFFF)
            if channel >= 1 && channel <= 4 {
                times[produced] = overflow &+ sync
                channels[produced] = TagChannel(channel - 1)
                fineTimes?[produced] = UInt16((word >> 16) & 0x0FFF)
                produced &+= 1
            } else if channel == 15 {
                let bits = (word >> 16) & 0xF
                if bits == 0 {
                    guard let next = advanced(overflow, by: 65536) else {
                        return Outcome(consumed: index, produced: produced, invalid: (index, beyondRange))
                    }
                    overflow = next
                    overflowRecords += 1
                } else {
                    markers.append(MarkerEvent(timePs: overflow &+ sync, marker: Int32(bits)))
                    markerRecords += 1
                }
            } else {
                return Outcome(consumed: index, produced: produced, invalid: (index, "PicoHarp T3 record with channel \(channel) (allowed 1-4 and 15)"))
            }
            index &+= 1
        }
        return Outcome(consumed: index, produced: produced, invalid: nil)
    }

    private mutating func decodeHarpT2(
        _ records: UnsafeRawPointer, _ count: Int, _ times: UnsafeMutablePointer<Int64>,
        _ channels: UnsafeMutablePointer<TagChannel>, _ markers: inout [MarkerEvent], version1: Bool
    ) -> Outcome {
        var overflow = overflowUnits
        var produced = 0
        var index = 0
        defer { overflowUnits = overflow }
        while index < count {
            let word = record(records, index)
            let time = Int64(word & 0x01FF_FFFF)
            if word & 0x8000_0000 == 0 {
                times[produced] = overflow &+ time
                channels[produced] = TagChannel((word >> 25) & 0x3F)
                produced &+= 1
            } else {
                let channel = (word >> 25) & 0x3F
                if channel == 0x3F {
                    guard let next = advanced(overflow, by: version1 ? 33_552_000 : 33_554_432 * (time == 0 ? 1 : time)) else {
                        return Outcome(consumed: index, produced: produced, invalid: (index, beyondRange))
                    }
                    overflow = next
                    overflowRecords += 1
                } else if channel == 0 {
                    syncRecords += 1
                    if let syncChannel {
                        times[produced] = overflow &+ time
                        channels[produced] = syncChannel
                        produced &+= 1
                    }
                } else if channel <= 15 {
                    markers.append(MarkerEvent(timePs: overflow &+ time, marker: Int32(channel)))
                    markerRecords += 1
                } else {
                    return Outcome(consumed: index, produced: produced, invalid: (index, "T2 special record with marker channel \(channel) (allowed 0-15 and 63)"))
                }
            }
            index &+= 1
        }
        return Outcome(consumed: index, produced: produced, invalid: nil)
    }

    private mutating func decodeHarpT3(
        _ records: UnsafeRawPointer, _ count: Int, _ times: UnsafeMutablePointer<Int64>,
        _ channels: UnsafeMutablePointer<TagChannel>, _ fineTimes: UnsafeMutablePointer<UInt16>?,
        _ markers: inout [MarkerEvent], version1: Bool
    ) -> Outcome {
        var overflow = overflowUnits
        var produced = 0
        var index = 0
        defer { overflowUnits = overflow }
        while index < count {
            let word = record(records, index)
            let sync = Int64(word & 0x3FF)
            let channel = (word >> 25) & 0x3F
            if word & 0x8000_0000 == 0 {
                times[produced] = overflow &+ sync
                channels[produced] = TagChannel(channel)
                fineTimes?[produced] = UInt16((word >> 10) & 0x7FFF)
                produced &+= 1
            } else if channel == 0x3F {
                guard let next = advanced(overflow, by: version1 ? 1024 : 1024 * (sync == 0 ? 1 : sync)) else {
                    return Outcome(consumed: index, produced: produced, invalid: (index, beyondRange))
                }
                overflow = next
                overflowRecords += 1
            } else if channel >= 1 && channel <= 15 {
                markers.append(MarkerEvent(timePs: overflow &+ sync, marker: Int32(channel)))
                markerRecords += 1
            } else {
                return Outcome(consumed: index, produced: produced, invalid: (index, "T3 special record with marker channel \(channel) (allowed 1-15 and 63)"))
            }
            index &+= 1
        }
        return Outcome(consumed: index, produced: produced, invalid: nil)
    }
}
