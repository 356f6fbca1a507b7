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
    /// Registered detections left before the next one that afterpulses (geometric gaps are
    /// equivalent to an independent draw per detection, at a fraction of the cost).
    private var afterpulseCountdown: Int64 = -1
    /// Tags left before the next one with a jitter tail (same technique).
    private var tailCountdown: Int64 = -1
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

    /// Processes the arrivals `signal` (sorted, true time on this stream's axis) of the window
    /// whose arrival span is [`startPs`, `endPs`), with the detectors in bit mask `dark` off.
    ///
    /// Stage 1, in true-time order (signal, free-running dark counts and pending afterpulses
    /// merged): dark detector → dropped; within the dead time of the detector's last registered
    /// event → dropped; otherwise registered, possibly spawning an afterpulse. Stage 2: the
    /// registered events get their recorded times (clock + jitter) and join the pending tags.
    mutating func process(signal: [RawEvent], startPs: Int64, endPs: Int64, dark: UInt64) {
        var pass = DetectorPass(stream: &self, dark: dark, reserve: signal.count)
        pass.startDarkCounts(startPs: startPs, endPs: endPs, rateHz: freeRunningDarkRateHz * 2)
        var index = 0
        let count = signal.count
        while true {
            let signalTime = index < count ? signal[index].timePs : Int64.max
            let candidate = min(signalTime, pass.darkNextPs)
            let heapTime = pass.heap.minimumTimePs
            if heapTime <= candidate && (heapTime < endPs || candidate != Int64.max) {
                if let event = pass.heap.popMinimum() { pass.register(event.timePs, event.detector) }
            } else if candidate == Int64.max {
                break
            } else if signalTime <= pass.darkNextPs {
                // A run of signal events before the next dark count or afterpulse.
                let limit = min(pass.darkNextPs, heapTime)
                repeat {
                    pass.register(signal[index].timePs, signal[index].detector)
                    index += 1
                } while index < count && signal[index].timePs <= limit && pass.heap.minimumTimePs >= limit
            } else {
                pass.register(pass.darkNextPs, pass.darkDetector)
                pass.nextDark()
            }
        }
        let registered = pass.registered
        pass.finish(stream: &self)
        stampAndQueue(registered)
    }

    /// Stage 2: recorded time = clock(true time) + jitter for each registered event, appended
    /// to the pending tags, which are then sorted again.
    private mutating func stampAndQueue(_ registered: [RawEvent]) {
        let oldCount = pending.count
        guard !registered.isEmpty else { return }
        var out = pending
        pending = []
        out.append(contentsOf: repeatElement(PendingTag(recordedPs: 0, truePs: 0, detector: 0), count: registered.count))
        var rng = self.rng
        var clock = self.clock
        let sigma = model.jitterSigmaPs
        let tailFraction = model.jitterTailFraction
        let tailMean = model.jitterTailMeanPs
        let jitterOn = self.jitterOn, tailOn = self.tailOn
        var tailCountdown = self.tailCountdown
        if tailCountdown < 0 { tailCountdown = rng.geometricFailures(successProbability: tailFraction) }
        registered.withUnsafeBufferPointer { events in
            out.withUnsafeMutableBufferPointer { tags in
                // Bounds: tags.count == oldCount + events.count by construction above.
                guard tags.count == oldCount + events.count else { return }
                for i in 0..<events.count {
                    let t = events[i].timePs
                    // One rounding of drift + wander + jitter (see ClockModel).
                    var (whole, fractional) = clock.mapParts(t)
                    if jitterOn { fractional += min(10, max(-10, rng.standardNormal())) * sigma }
                    if tailOn {
                        if tailCountdown == 0 {
                            fractional += min(40, rng.standardExponential()) * tailMean
                            tailCountdown = rng.geometricFailures(successProbability: tailFraction)
                        } else {
                            tailCountdown &-= 1
                        }
                    }
                    tags[oldCount + i] = PendingTag(recordedPs: whole &+ roundHalfAway(fractional), truePs: t,
                                                    detector: events[i].detector)
                }
            }
        }
        self.rng = rng
        self.clock = clock
        self.tailCountdown = tailCountdown
        pending = out
        sortPending(from: oldCount)
    }

    /// State of stage 1 of ``process``, moved out of the stream and back.
    private struct DetectorPass {
        var registered: [RawEvent] = []
        var rng: DistributionSampler
        var heap: EventHeap
        var last0: Int64
        var last1: Int64
        var afterpulseCountdown: Int64
        let dead0: Bool
        let dead1: Bool
        let deadTime: Int64
        let afterpulseProbability: Double
        let afterpulseMean: Double
        var darkNextPs = Int64.max
        var darkDetector: Int32 = 0
        var darkCursor = 0.0
        var darkMeanGapPs = 0.0
        var darkEnd = 0.0

        init(stream: inout DetectorStream, dark: UInt64, reserve: Int) {
            registered.reserveCapacity(reserve + 16)
            rng = stream.rng
            heap = stream.afterpulses
            stream.afterpulses = EventHeap()
            last0 = stream.lastRegisteredPs[0]
            last1 = stream.lastRegisteredPs[1]
            dead0 = dark & 1 != 0
            dead1 = dark & 2 != 0
            deadTime = stream.model.deadTimePs
            afterpulseProbability = stream.model.afterpulseProbability
            afterpulseMean = stream.model.afterpulseDelayMeanPs
            afterpulseCountdown = stream.afterpulseCountdown
            if afterpulseCountdown < 0 {
                afterpulseCountdown = rng.geometricFailures(successProbability: afterpulseProbability)
            }
        }

        func finish(stream: inout DetectorStream) {
            stream.rng = rng
            stream.afterpulses = heap
            stream.lastRegisteredPs[0] = last0
            stream.lastRegisteredPs[1] = last1
            stream.afterpulseCountdown = afterpulseCountdown
        }

        mutating func startDarkCounts(startPs: Int64, endPs: Int64, rateHz: Double) {
            guard rateHz > 0 else { return }
            darkCursor = Double(startPs)
            darkEnd = Double(endPs)
            darkMeanGapPs = 1e12 / rateHz
            nextDark()
        }

        @inline(__always)
        mutating func nextDark() {
            darkCursor += rng.standardExponential() * darkMeanGapPs
            if darkCursor < darkEnd {
                darkNextPs = Int64(darkCursor)
                darkDetector = Int32(truncatingIfNeeded: rng.bits() >> 63)
            } else {
                darkNextPs = Int64.max
            }
        }

        @inline(__always)
        mutating func register(_ t: Int64, _ detector: Int32) {
            // Selects instead of branches: the detector of an event is random.
            let isZero = detector == 0
            let last = isZero ? last0 : last1
            let dead = isZero ? dead0 : dead1
            if dead || t &- last < deadTime { return }
            last0 = isZero ? t : last0
            last1 = isZero ? last1 : t
            if afterpulseCountdown == 0 {
                let delay = deadTime + Int64(min(40, rng.standardExponential()) * afterpulseMean) + 1
                heap.push(RawEvent(timePs: t + delay, detector: detector))
                afterpulseCountdown = rng.geometricFailures(successProbability: afterpulseProbability)
            } else {
                afterpulseCountdown &-= 1
            }
            registered.append(RawEvent(timePs: t, detector: detector))
        }
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
        var batch = TagBatch()
        var trueTimes: [Int64] = []
        let channel0 = channels[0], channel1 = channels[1]
        let noneLost = split == 0 || pending[0].recordedPs >= lastEmittedPs
        if noneLost {
            // Sorted and not before the last emitted tag: copy the columns in bulk.
            pending.withUnsafeBufferPointer { tags in
                let head = UnsafeBufferPointer(rebasing: tags[0..<split])
                batch.timesPs = head.map { $0.recordedPs }
                batch.channels = head.map { $0.detector == 0 ? channel0 : channel1 }
                if recordTrueTimes { trueTimes = head.map { $0.truePs } }
            }
            if split > 0 { lastEmittedPs = pending[split - 1].recordedPs }
        } else {
            batch = TagBatch(capacity: split)
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
                batch.append(timePs: tag.recordedPs, channel: tag.detector == 0 ? channel0 : channel1)
                if recordTrueTimes { trueTimes.append(tag.truePs) }
            }
            if lostCount > 0 {
                batch.gaps.append(StreamGap(startPs: lostStart, endPs: lastEmittedPs, lostEvents: lostCount))
            }
        }
        pending.removeFirst(split)
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
