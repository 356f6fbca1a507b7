/// The state of one window's pass through a detector chain, held in locals (registers) while the
/// pass runs and written back to the ``DetectorStream`` afterwards.
///
/// One pass over the window's arrivals in true-time order (signal, free-running dark counts and
/// pending afterpulses merged) applies darkness and dead time per detector, spawns afterpulses, and
/// stamps every arrival with its recorded time (clock and jitter, one rounding) as it goes.
struct DetectorPass {
    var rng: DistributionSampler
    var clock: ClockState
    var heap: EventHeap
    var last0: Int64
    var last1: Int64
    var afterpulseCountdown: Int64
    var tailCountdown: Int64
    let off0: Bool
    let off1: Bool
    let deadTimePs: Int64
    let afterpulseProbability: Double
    let afterpulseMeanPs: Double
    let sigmaPs: Double
    let tailFraction: Double
    let tailMeanPs: Double
    let jitterOn: Bool
    let tailOn: Bool
    /// Latest recorded time among the tags written so far (they are kept sorted as they are written).
    var lastRecordedPs: Int64
    /// Set when an afterpulse was queued (the caller re-checks the merge order and the room left).
    var pushed = false
    /// Next signal and dark-count indices.
    var signalIndex = 0
    var darkIndex = 0

    init(rng: DistributionSampler, clock: ClockState, heap: EventHeap, last0: Int64, last1: Int64,
         afterpulseCountdown: Int64, tailCountdown: Int64, dark: UInt64, model: DetectorModel, lastRecordedPs: Int64) {
        self.lastRecordedPs = lastRecordedPs
        self.rng = rng
        self.clock = clock
        self.heap = heap
        self.last0 = last0
        self.last1 = last1
        off0 = dark & 1 != 0
        off1 = dark & 2 != 0
        deadTimePs = model.deadTimePs
        afterpulseProbability = model.afterpulseProbability
        afterpulseMeanPs = model.afterpulseDelayMeanPs
        sigmaPs = model.jitterSigmaPs
        tailFraction = model.jitterTailFraction
        tailMeanPs = model.jitterTailMeanPs
        jitterOn = model.jitterSigmaPs > 0
        tailOn = model.jitterTailFraction > 0 && model.jitterTailMeanPs > 0
        self.afterpulseCountdown = afterpulseCountdown
        self.tailCountdown = tailCountdown
        if self.afterpulseCountdown < 0 {
            self.afterpulseCountdown = self.rng.geometricFailures(successProbability: afterpulseProbability)
        }
        if self.tailCountdown < 0 { self.tailCountdown = self.rng.geometricFailures(successProbability: tailFraction) }
    }

    /// Runs the merge until every signal and dark count is consumed and no afterpulse before
    /// `endPs` is left (returns `true`), or until `tags` may run out of room (returns `false`; call
    /// again with more room). Registered arrivals are written to `tags[count...]`.
    ///
    /// Room: the caller guarantees `tags.count − count ≥` arrivals left (signal, dark, queued
    /// afterpulses); each arrival writes at most one slot, and only a new afterpulse adds one.
    mutating func run(signal: UnsafeBufferPointer<RawEvent>, dark: UnsafeBufferPointer<RawEvent>, endPs: Int64,
                      tags: UnsafeMutableBufferPointer<PendingTag>, count: inout Int) -> Bool {
        var n = count
        defer { count = n }
        let signalCount = signal.count, darkCount = dark.count
        while true {
            let signalTime = signalIndex < signalCount ? signal[signalIndex].timePs : Int64.max
            let darkTime = darkIndex < darkCount ? dark[darkIndex].timePs : Int64.max
            let candidate = min(signalTime, darkTime)
            let heapTime = heap.minimumTimePs
            if heapTime <= candidate && (heapTime < endPs || candidate != Int64.max) {
                if let event = heap.popMinimum() { registerRare(event.timePs, event.detector, tags, &n) }
            } else if candidate == Int64.max {
                return true
            } else if signalTime <= darkTime {
                // The hot loop: a run of signal arrivals before the next dark count or afterpulse.
                registerSignalRun(signal, limit: min(darkTime, heapTime), tags, &n)
            } else {
                registerRare(darkTime, dark[darkIndex].detector, tags, &n)
                darkIndex += 1
            }
            if pushed {
                pushed = false
                let left = (signalCount - signalIndex) + (darkCount - darkIndex) + heap.count
                if tags.count - n < left { return false }
            }
        }
    }

    /// ``register(_:_:_:_:)`` for the signal arrivals from `signalIndex` on with true time at most
    /// `limit` (at least one), stopping early after an afterpulse is queued.
    ///
    /// Two tight passes with their state in locals (registers): the dead-time filter writes the
    /// registered arrivals to `tags[n...]`, then the stamping pass gives them their recorded times
    /// in place. The rare branches (afterpulse, ziggurat rejection, jitter tail, clock segment
    /// change) go through the stored state and reload it.
    @inline(__always)
    private mutating func registerSignalRun(_ signal: UnsafeBufferPointer<RawEvent>, limit: Int64,
                                            _ tags: UnsafeMutableBufferPointer<PendingTag>, _ n: inout Int) {
        let first = n
        var written = n
        do {
            // Pass 1: dead time per detector (a detector that is off is never live again), without
            // branches on the random detector index or dead-time outcome: selects are masks.
            let deadTimePs = self.deadTimePs
            var liveFrom0 = off0 ? Int64.max : last0 &+ deadTimePs
            var liveFrom1 = off1 ? Int64.max : last1 &+ deadTimePs
            var countdown = self.afterpulseCountdown
            let count = signal.count
            var i = signalIndex
            repeat {
                let event = signal[i]
                let t = event.timePs
                let oneMask = 0 &- (Int64(truncatingIfNeeded: event.detector) & 1)  // detectors are 0 and 1
                let liveFrom = liveFrom0 ^ ((liveFrom0 ^ liveFrom1) & oneMask)
                let deadMask = (t &- liveFrom) >> 63  // all ones when t < liveFrom (not registered)
                let next = t &+ deadTimePs
                liveFrom0 ^= (liveFrom0 ^ next) & ~(deadMask | oneMask)
                liveFrom1 ^= (liveFrom1 ^ next) & (~deadMask & oneMask)
                tags[written].truePs = t
                tags[written].detector = event.detector
                written &+= 1 &+ Int(truncatingIfNeeded: deadMask)
                countdown &-= 1 &+ deadMask
                i &+= 1
            } while countdown >= 0 && i < count && signal[i].timePs <= limit
            if countdown < 0 {
                // The last registered detection's countdown ran out: it afterpulses (and ends the run).
                self.afterpulseCountdown = 0
                queueAfterpulse(signal[i - 1].timePs, signal[i - 1].detector)
            } else {
                self.afterpulseCountdown = countdown
            }
            signalIndex = i
            if !off0 { last0 = liveFrom0 &- deadTimePs }
            if !off1 { last1 = liveFrom1 &- deadTimePs }
        }
        n = written
        guard first < written else { return }
        // Pass 2: one rounding of offset + drift + wander + jitter (see ClockModel), tags kept
        // sorted. Runs of arrivals without a jitter tail go through the tight loop; the arrival
        // that gets a tail goes through the general one.
        var k = first
        while k < written {
            var plainEnd = written
            if tailOn && tailCountdown < Int64(written - k) { plainEnd = k + Int(tailCountdown) }
            if k < plainEnd {
                stampPlain(tags, from: k, to: plainEnd)
                if tailOn { tailCountdown -= Int64(plainEnd - k) }
                k = plainEnd
            }
            if k < written {
                // tailCountdown == 0: this arrival gets a tail.
                stampWithTail(tags, at: k)
                k += 1
            }
        }
    }

    /// Stamps `tags[from..<to]` (true times set) with their recorded times: clock, Gaussian jitter,
    /// one rounding; no jitter tail. Keeps the tags sorted by recorded time.
    @inline(__always)
    private mutating func stampPlain(_ tags: UnsafeMutableBufferPointer<PendingTag>, from: Int, to: Int) {
        guard from >= 0, to <= tags.count else { return }
        var generator = rng.generator
        let normalTable = rng.normalTable
        var lastRecorded = lastRecordedPs
        var piece = clock.affinePiece
        let sigmaPs = self.sigmaPs
        let jitterOn = self.jitterOn
        for k in from..<to {
            let t = tags[k].truePs
            if t >= piece.validUntilPs {
                clock.advance(to: t)
                piece = clock.affinePiece
            }
            var fractional = piece.base + Double(t &- piece.startPs) * piece.slope
            if jitterOn {
                // Ziggurat fast path inline (as DistributionSampler.standardNormal); its samples
                // are within ±x[0] < 4, so only the slow path needs the ±10 clip.
                let word = generator.next()
                let layer = Int(truncatingIfNeeded: word & normalTable.mask)
                let u = Double(Int64(bitPattern: word >> 11)) * 0x1.0p-52 - 1.0
                let z: Double
                if let sample = normalTable.fastSample(layer: layer, u: u, magnitude: abs(u)) {
                    z = sample
                } else {
                    rng.generator = generator
                    z = min(10, max(-10, rng.standardNormalSlow(layer: layer, u: u)))
                    generator = rng.generator
                }
                fractional += z * sigmaPs
            }
            // With Gaussian jitter added the value is never an exact half (bar a chance of about
            // 2⁻⁴⁰), so the tie rule does not matter and the cheaper rounding serves.
            let recorded = t &+ piece.shiftPs &+ (jitterOn ? roundToNearest(fractional) : roundHalfAway(fractional))
            tags[k].recordedPs = recorded
            if recorded < lastRecorded { Self.moveIntoPlace(tags, from: k) }
            lastRecorded = max(lastRecorded, recorded)
        }
        rng.generator = generator
        lastRecordedPs = lastRecorded
    }

    /// Stamps `tags[k]` with a jitter tail added and draws the next tail countdown.
    @inline(never)
    private mutating func stampWithTail(_ tags: UnsafeMutableBufferPointer<PendingTag>, at k: Int) {
        guard k >= 0, k < tags.count else { return }
        let t = tags[k].truePs
        var (whole, fractional) = clock.mapParts(t)
        if jitterOn { fractional += min(10, max(-10, rng.standardNormal())) * sigmaPs }
        fractional += min(40, rng.standardExponential()) * tailMeanPs
        tailCountdown = rng.geometricFailures(successProbability: tailFraction)
        let recorded = whole &+ roundHalfAway(fractional)
        tags[k].recordedPs = recorded
        if recorded < lastRecordedPs { Self.moveIntoPlace(tags, from: k) }
        lastRecordedPs = max(lastRecordedPs, recorded)
    }

    /// ``register(_:_:_:_:)`` out of line, for the rare arrivals (dark counts, afterpulses), so
    /// that the hot loop alone inlines it.
    @inline(never)
    private mutating func registerRare(_ t: Int64, _ detector: Int32, _ tags: UnsafeMutableBufferPointer<PendingTag>,
                                       _ n: inout Int) {
        register(t, detector, tags, &n)
    }

    /// One arrival at true time `t` on `detector`: dead-time filter, afterpulse, recorded time.
    /// The slot `tags[n]` is always written and `n` advances only for a registered arrival (no
    /// branch on the random dead-time outcome).
    @inline(__always)
    private mutating func register(_ t: Int64, _ detector: Int32, _ tags: UnsafeMutableBufferPointer<PendingTag>,
                                   _ n: inout Int) {
        let isZero = detector == 0
        let last = isZero ? last0 : last1
        let off = isZero ? off0 : off1
        let registered = !off && t &- last >= deadTimePs
        last0 = isZero && registered ? t : last0
        last1 = !isZero && registered ? t : last1
        if registered && afterpulseCountdown == 0 {
            queueAfterpulse(t, detector)
        } else {
            afterpulseCountdown &-= registered ? 1 : 0
        }
        // One rounding of offset + drift + wander + jitter (see ClockModel).
        var (whole, fractional) = clock.mapParts(t)
        if jitterOn { fractional += min(10, max(-10, rng.standardNormal())) * sigmaPs }
        if tailOn {
            if tailCountdown == 0 {
                fractional += min(40, rng.standardExponential()) * tailMeanPs
                tailCountdown = rng.geometricFailures(successProbability: tailFraction)
            } else {
                tailCountdown &-= 1
            }
        }
        let recorded = whole &+ roundHalfAway(fractional)
        tags[n] = PendingTag(recordedPs: recorded, truePs: t, detector: detector)
        guard registered else { return }
        if recorded < lastRecordedPs { Self.moveIntoPlace(tags, from: n) }
        lastRecordedPs = max(lastRecordedPs, recorded)
        n &+= 1
    }

    /// Moves the tag at `index` back to its place among the sorted tags before it (insertion
    /// sort, one element; jitter displaces tags only slightly, so this is rare and short).
    @inline(never)
    static func moveIntoPlace(_ tags: UnsafeMutableBufferPointer<PendingTag>, from index: Int) {
        guard index < tags.count else { return }
        let item = tags[index]
        var j = index
        while j > 0 && tags[j - 1].recordedPs > item.recordedPs {
            tags[j] = tags[j - 1]
            j -= 1
        }
        tags[j] = item
    }

    @inline(never)
    private mutating func queueAfterpulse(_ t: Int64, _ detector: Int32) {
        let delay = deadTimePs + Int64(min(40, rng.standardExponential()) * afterpulseMeanPs) + 1
        heap.push(RawEvent(timePs: t + delay, detector: detector))
        afterpulseCountdown = rng.geometricFailures(successProbability: afterpulseProbability)
        pushed = true
    }
}
