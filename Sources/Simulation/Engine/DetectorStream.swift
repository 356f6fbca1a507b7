import TimeTags

/// A tag waiting to be emitted: recorded time, true detection time and detector index.
struct PendingTag: Sendable {
    var recordedPs: Int64
    var truePs: Int64
    var detector: Int32
}

/// One tagger's stream: takes the stream's photon arrivals (true time, in order) window by
/// window, adds free-running dark counts, applies dead time, afterpulsing, jitter and the clock,
/// and emits time-ordered tags once no later arrival can precede them.
struct DetectorStream: Sendable {
    let role: StreamRole
    let channels: [TagChannel]
    let model: DetectorModel
    /// Free-running dark-count rate per detector (changes with the operating point of a pair source).
    var freeRunningDarkRateHz: Double
    /// Offset of this stream's arrival axis from the generator's axis.
    let shiftPs: Int64
    private(set) var clock: ClockState
    private var rng: DistributionSampler
    private var lastRegistered0 = Int64.min / 4
    private var lastRegistered1 = Int64.min / 4
    private var afterpulses = EventHeap()
    /// Tags waiting to be emitted: the first `pendingCount` elements, sorted by recorded time
    /// (the storage is kept across windows).
    private var pendingStorage: [PendingTag] = []
    private var pendingCount = 0
    /// This window's free-running dark counts (storage kept across windows).
    private var darkStorage: [RawEvent] = []
    private var pendingMarkers: [MarkerEvent] = []
    /// Registered detections left before the next one that afterpulses (geometric gaps are
    /// equivalent to an independent draw per detection, at a fraction of the cost).
    private var afterpulseCountdown: Int64 = -1
    /// Arrivals left before the next one with a jitter tail (same technique).
    private var tailCountdown: Int64 = -1
    private var lastEmittedPs = Int64.min
    private var lastMarkerPs = Int64.min
    /// Lowest possible jitter, in ps (Gaussian clipped at −10σ).
    let minJitterPs: Int64

    init(role: StreamRole, channels: [TagChannel], model: DetectorModel, freeRunningDarkRateHz: Double,
         shiftPs: Int64, clock: ClockState, rng: DistributionSampler) {
        self.role = role
        self.channels = channels
        self.model = model
        self.freeRunningDarkRateHz = freeRunningDarkRateHz
        self.shiftPs = shiftPs
        self.clock = clock
        self.rng = rng
        minJitterPs = -Int64((10 * model.jitterSigmaPs).rounded(.up)) - 1
    }

    /// Records a marker at true time `truePs` (calls in time order).
    mutating func addMarker(truePs: Int64, marker: Int32) {
        pendingMarkers.append(MarkerEvent(timePs: clock.evaluate(truePs), marker: marker))
    }

    /// Processes the arrivals `signal` (sorted, true time on this stream's axis) of the window
    /// whose arrival span is [`startPs`, `endPs`), with the detectors in bit mask `dark` off.
    mutating func process(signal: [RawEvent], startPs: Int64, endPs: Int64, dark: UInt64) {
        process(signal: signal, count: signal.count, startPs: startPs, endPs: endPs, dark: dark)
    }

    /// As ``process(signal:startPs:endPs:dark:)`` for the first `count` arrivals of `signal`.
    ///
    /// One pass in true-time order (signal, free-running dark counts and pending afterpulses
    /// merged, see ``DetectorPass``): dark detector → dropped; within the dead time of the
    /// detector's last registered event → dropped; otherwise registered (possibly spawning an
    /// afterpulse) and stamped with its recorded time (clock + jitter). The new tags join the
    /// pending tags, each moved into its place by recorded time as it is written.
    mutating func process(signal: [RawEvent], count signalCount: Int, startPs: Int64, endPs: Int64, dark: UInt64) {
        let darkCount = generateDarkCounts(startPs: startPs, endPs: endPs)
        var pass = DetectorPass(rng: rng, clock: clock, heap: afterpulses, last0: lastRegistered0, last1: lastRegistered1,
                                afterpulseCountdown: afterpulseCountdown, tailCountdown: tailCountdown, dark: dark, model: model,
                                lastRecordedPs: pendingCount > 0 ? pendingStorage[pendingCount - 1].recordedPs : Int64.min)
        afterpulses = EventHeap()
        let oldCount = pendingCount
        var tags = pendingStorage
        pendingStorage = []
        let signalUsed = max(0, min(signalCount, signal.count))
        let darkUsed = min(darkCount, darkStorage.count)
        var written = oldCount
        var finished = false
        while !finished {
            // Room for every arrival left (each writes at most one tag), see DetectorPass.run.
            let left = (signalUsed - pass.signalIndex) + (darkUsed - pass.darkIndex) + pass.heap.count
            let needed = written + left + 1
            if tags.count < needed {
                tags.append(contentsOf: repeatElement(PendingTag(recordedPs: 0, truePs: 0, detector: 0),
                                                      count: max(needed, 2 * tags.count) - tags.count))
            }
            finished = signal.withUnsafeBufferPointer { signalAll in
                darkStorage.withUnsafeBufferPointer { darkAll in
                    tags.withUnsafeMutableBufferPointer { buffer in
                        pass.run(signal: UnsafeBufferPointer(rebasing: signalAll[0..<signalUsed]),
                                 dark: UnsafeBufferPointer(rebasing: darkAll[0..<darkUsed]),
                                 endPs: endPs, tags: buffer, count: &written)
                    }
                }
            }
        }
        rng = pass.rng
        clock = pass.clock
        afterpulses = pass.heap
        lastRegistered0 = pass.last0
        lastRegistered1 = pass.last1
        afterpulseCountdown = pass.afterpulseCountdown
        tailCountdown = pass.tailCountdown
        pendingStorage = consume tags
        pendingCount = written
    }

    /// Free-running dark counts in [`startPs`, `endPs`) into `darkStorage`; returns their number.
    private mutating func generateDarkCounts(startPs: Int64, endPs: Int64) -> Int {
        let rateHz = freeRunningDarkRateHz * 2
        guard rateHz > 0 else { return 0 }
        let meanGapPs = 1e12 / rateHz
        let end = Double(endPs)
        var cursor = Double(startPs) + rng.standardExponential() * meanGapPs
        var count = 0
        while cursor < end {
            let event = RawEvent(timePs: Int64(cursor), detector: Int32(truncatingIfNeeded: rng.bits() >> 63))
            if count < darkStorage.count { darkStorage[count] = event } else { darkStorage.append(event) }
            count += 1
            cursor += rng.standardExponential() * meanGapPs
        }
        return count
    }

    /// Emits every pending tag and marker that no later arrival (at or after true time
    /// `arrivalFloorPs`, or none when `nil`) can precede.
    mutating func emit(arrivalFloorPs: Int64?, recordTrueTimes: Bool) -> StreamChunk {
        let threshold = arrivalFloorPs.map { clock.evaluate($0) &+ minJitterPs } ?? Int64.max
        let channel0 = channels[0], channel1 = channels[1]
        let count = pendingCount
        var batch = TagBatch()
        var trueTimes: [Int64] = []
        var lastEmitted = lastEmittedPs
        var split = 0
        pendingStorage.withUnsafeBufferPointer { storage in
            let tags = UnsafeBufferPointer(rebasing: storage[0..<min(count, storage.count)])
            // The pending tags are sorted by recorded time: binary search for the first one at or
            // after the threshold.
            var high = tags.count
            while split < high {
                let middle = split + (high - split) / 2
                if tags[middle].recordedPs < threshold { split = middle + 1 } else { high = middle }
            }
            if split == 0 || tags[0].recordedPs >= lastEmitted {
                // Sorted and not before the last emitted tag: fill the columns in one pass.
                var channelColumn: [TagChannel] = []
                let times = [Int64](unsafeUninitializedCapacity: split) { times, initialized in
                    channelColumn = [TagChannel](unsafeUninitializedCapacity: split) { channelSlots, channelsInitialized in
                        for i in 0..<split {
                            times[i] = tags[i].recordedPs
                            channelSlots[i] = tags[i].detector == 0 ? channel0 : channel1
                        }
                        channelsInitialized = split
                    }
                    initialized = split
                }
                batch.timesPs = times
                batch.channels = channelColumn
                if recordTrueTimes { trueTimes = tags[0..<split].map { $0.truePs } }
                if split > 0 { lastEmitted = tags[split - 1].recordedPs }
            } else {
                batch = TagBatch(capacity: split)
                if recordTrueTimes { trueTimes.reserveCapacity(split) }
                var lostCount: Int64 = 0
                var lostStart = Int64.max
                for tag in tags[0..<split] {
                    if tag.recordedPs < lastEmitted {
                        lostCount += 1
                        lostStart = min(lostStart, tag.recordedPs)
                        continue
                    }
                    lastEmitted = tag.recordedPs
                    batch.append(timePs: tag.recordedPs, channel: tag.detector == 0 ? channel0 : channel1)
                    if recordTrueTimes { trueTimes.append(tag.truePs) }
                }
                if lostCount > 0 {
                    batch.gaps.append(StreamGap(startPs: lostStart, endPs: lastEmitted, lostEvents: lostCount))
                }
            }
        }
        lastEmittedPs = lastEmitted
        dropFirstPending(split)
        pendingMarkers.sort { $0.timePs < $1.timePs }
        var markerSplit = 0
        while markerSplit < pendingMarkers.count && pendingMarkers[markerSplit].timePs < threshold { markerSplit += 1 }
        for marker in pendingMarkers[0..<markerSplit] where marker.timePs >= lastMarkerPs {
            lastMarkerPs = marker.timePs
            batch.markers.append(marker)
        }
        pendingMarkers.removeFirst(markerSplit)
        return StreamChunk(role: role, batch: batch, trueTimesPs: recordTrueTimes ? trueTimes : nil)
    }

    /// Removes the first `k` pending tags, keeping the storage.
    private mutating func dropFirstPending(_ k: Int) {
        let count = pendingCount
        guard k > 0, k <= count else { return }
        pendingStorage.withUnsafeMutableBufferPointer { storage in
            guard count <= storage.count, let base = storage.baseAddress else { return }
            (base).update(from: base + k, count: count - k)
        }
        pendingCount = count - k
    }

    /// Wander knots generated so far.
    var wanderKnotsPs: [Double] { clock.knots }
}
