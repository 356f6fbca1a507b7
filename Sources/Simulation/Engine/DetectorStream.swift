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
    let freeRunningDarkRateHz: Double
    /// Offset of this stream's arrival axis from the generator's axis.
    let shiftPs: Int64
    private(set) var clock: ClockState
    private var rng: DistributionSampler
    private var lastRegisteredPs: [Int64]
    private var afterpulses = EventHeap()
    private var pending: [PendingTag] = []
    private var pendingMarkers: [MarkerEvent] = []
    private var lastEmittedPs = Int64.min
    private var lastMarkerPs = Int64.min
    /// Lowest possible jitter, in ps (Gaussian clipped at −10σ).
    let minJitterPs: Int64
    private let jitterOn: Bool
    private let tailOn: Bool

    init(role: StreamRole, channels: [TagChannel], model: DetectorModel, freeRunningDarkRateHz: Double,
         shiftPs: Int64, clock: ClockState, rng: DistributionSampler) {
        self.role = role
        self.channels = channels
        self.model = model
        self.freeRunningDarkRateHz = freeRunningDarkRateHz
        self.shiftPs = shiftPs
        self.clock = clock
        self.rng = rng
        lastRegisteredPs = [Int64](repeating: Int64.min / 4, count: channels.count)
        minJitterPs = -Int64((10 * model.jitterSigmaPs).rounded(.up)) - 1
        jitterOn = model.jitterSigmaPs > 0
        tailOn = model.jitterTailFraction > 0 && model.jitterTailMeanPs > 0
    }

    /// Records a marker at true time `truePs` (calls in time order).
    mutating func addMarker(truePs: Int64, marker: Int32) {
        pendingMarkers.append(MarkerEvent(timePs: clock.evaluate(truePs), marker: marker))
    }

    @inline(__always)
    private mutating func jitterPs() -> Int64 {
        var jitter = 0.0
        if jitterOn { jitter = min(10, max(-10, rng.standardNormal())) * model.jitterSigmaPs }
        if tailOn && rng.uniform() < model.jitterTailFraction {
            jitter += min(40, rng.standardExponential()) * model.jitterTailMeanPs
        }
        return roundHalfAway(jitter)
    }

    /// Registers one detector event at true time `t` (events come in time order).
    @inline(__always)
    private mutating func register(_ t: Int64, _ detector: Int32, dark: UInt64) {
        let index = Int(detector)
        if dark & (1 << UInt64(index)) != 0 { return }
        if t &- lastRegisteredPs[index] < model.deadTimePs { return }
        lastRegisteredPs[index] = t
        if model.afterpulseProbability > 0 && rng.uniform() < model.afterpulseProbability {
            let delay = model.deadTimePs + Int64(min(40, rng.standardExponential()) * model.afterpulseDelayMeanPs) + 1
            afterpulses.push(RawEvent(timePs: t + delay, detector: detector))
        }
        let recorded = clock.map(t) &+ (jitterOn || tailOn ? jitterPs() : 0)
        pending.append(PendingTag(recordedPs: recorded, truePs: t, detector: detector))
    }

    /// Processes the arrivals `signal` (sorted, true time on this stream's axis) of the window
    /// whose arrival span is [`startPs`, `endPs`), with the detectors in bit mask `dark` off.
    mutating func process(signal: [RawEvent], startPs: Int64, endPs: Int64, dark: UInt64) {
        let oldCount = pending.count
        let detectorCount = channels.count
        var darkNext = Int64.max
        var darkDetector: Int32 = 0
        var darkCursor = Double(startPs)
        let darkRate = freeRunningDarkRateHz * Double(detectorCount)
        let darkMeanGapPs = darkRate > 0 ? 1e12 / darkRate : 0
        let endDouble = Double(endPs)
        @inline(__always) func nextDark() {
            darkCursor += rng.standardExponential() * darkMeanGapPs
            if darkCursor < endDouble {
                darkNext = Int64(darkCursor)
                darkDetector = Int32(truncatingIfNeeded: Int(rng.bits() >> 33) % detectorCount)
            } else {
                darkNext = Int64.max
            }
        }
        if darkRate > 0 { nextDark() }
        signal.withUnsafeBufferPointer { events in
            var index = 0
            let count = events.count
            while true {
                let signalTime = index < count ? events[index].timePs : Int64.max
                let candidate = min(signalTime, darkNext)
                let heapTime = afterpulses.minimumTimePs
                if heapTime <= candidate && (heapTime < endPs || candidate != Int64.max) {
                    if let event = afterpulses.popMinimum() { register(event.timePs, event.detector, dark: dark) }
                } else if candidate == Int64.max {
                    break
                } else if signalTime <= darkNext {
                    register(signalTime, events[index].detector, dark: dark)
                    index += 1
                } else {
                    register(darkNext, darkDetector, dark: dark)
                    nextDark()
                }
            }
        }
        sortPending(from: oldCount)
    }

    /// Insertion sort of the new tail of `pending` into the sorted head (jitter displaces
    /// tags only slightly, so this is close to linear).
    private mutating func sortPending(from start: Int) {
        pending.withUnsafeMutableBufferPointer { tags in
            guard start < tags.count else { return }
            for i in max(1, start)..<tags.count {
                let item = tags[i]
                var j = i
                while j > 0 && tags[j - 1].recordedPs > item.recordedPs {
                    tags[j] = tags[j - 1]
                    j -= 1
                }
                if j != i { tags[j] = item }
            }
        }
    }

    /// Emits every pending tag and marker that no later arrival (at or after true time
    /// `arrivalFloorPs`, or none when `nil`) can precede.
    mutating func emit(arrivalFloorPs: Int64?, recordTrueTimes: Bool) -> StreamChunk {
        let threshold = arrivalFloorPs.map { clock.evaluate($0) &+ minJitterPs } ?? Int64.max
        var split = 0
        pending.withUnsafeBufferPointer { tags in
            while split < tags.count && tags[split].recordedPs < threshold { split += 1 }
        }
        var batch = TagBatch(capacity: split)
        var trueTimes: [Int64] = []
        if recordTrueTimes { trueTimes.reserveCapacity(split) }
        var lostCount: Int64 = 0
        var lostStart = Int64.max
        for i in 0..<split {
            let tag = pending[i]
            if tag.recordedPs < lastEmittedPs {
                lostCount += 1
                lostStart = min(lostStart, tag.recordedPs)
                continue
            }
            lastEmittedPs = tag.recordedPs
            batch.append(timePs: tag.recordedPs, channel: channels[Int(tag.detector)])
            if recordTrueTimes { trueTimes.append(tag.truePs) }
        }
        pending.removeFirst(split)
        if lostCount > 0 {
            batch.gaps.append(StreamGap(startPs: lostStart, endPs: lastEmittedPs, lostEvents: lostCount))
        }
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

    /// Wander knots generated so far.
    var wanderKnotsPs: [Double] { clock.knots }
}
