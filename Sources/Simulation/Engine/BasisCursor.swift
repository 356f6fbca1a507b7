/// Follows a ``BasisSchedule`` through non-decreasing times and emits its period markers.
struct BasisCursor: Sendable {
    let schedule: BasisSchedule
    let seed: UInt64
    private(set) var period: Int64 = 0
    private(set) var index: Int
    private var nextBoundaryPs: Int64
    /// Next period start whose marker has not been emitted.
    private var nextMarkerPeriod: Int64 = 0

    init(schedule: BasisSchedule, seed: UInt64) {
        self.schedule = schedule
        self.seed = seed
        index = schedule.basisIndex(period: 0, seed: seed)
        nextBoundaryPs = schedule.periodPs
    }

    /// The current ``index`` holds for times before this (from the last time asked on).
    var validUntilPs: Int64 { nextBoundaryPs }

    /// Basis index at time `timePs` (non-decreasing across calls, not negative).
    @inline(__always)
    mutating func index(at timePs: Int64) -> Int {
        if timePs >= nextBoundaryPs { advance(to: timePs) }
        return index
    }

    private mutating func advance(to timePs: Int64) {
        period = timePs / schedule.periodPs
        index = schedule.basisIndex(period: period, seed: seed)
        nextBoundaryPs = (period + 1) * schedule.periodPs
    }

    /// Emits the markers of period starts in [`startPs`, `endPs`) into `stream`.
    mutating func emitMarkers(startPs: Int64, endPs: Int64, into stream: inout DetectorStream) {
        guard schedule.announceWithMarkers else { return }
        let first = max(nextMarkerPeriod, startPs <= 0 ? 0 : (startPs + schedule.periodPs - 1) / schedule.periodPs)
        var k = first
        while k * schedule.periodPs < endPs {
            stream.addMarker(truePs: k * schedule.periodPs,
                             marker: schedule.markerBase &+ Int32(schedule.basisIndex(period: k, seed: seed)))
            k += 1
        }
        nextMarkerPeriod = max(nextMarkerPeriod, k)
    }
}

/// Splits the generator axis [0, duration) into windows of at most a given length that never
/// straddle a change point (a fault start or end).
struct WindowPlanner: Sendable {
    let durationPs: Int64
    /// Longest window; may change with the operating point (a new repetition rate).
    var lengthPs: Int64 {
        didSet { lengthPs = max(1, lengthPs) }
    }
    private var changePoints: [Int64]
    private var changeIndex = 0
    private(set) var cursorPs: Int64 = 0

    init(durationPs: Int64, lengthPs: Int64, changePoints: [Int64]) {
        self.durationPs = durationPs
        self.lengthPs = max(1, lengthPs)
        self.changePoints = Array(Set(changePoints.filter { $0 > 0 && $0 < durationPs })).sorted()
    }

    /// The next window, or `nil` when the duration is covered.
    mutating func next() -> (startPs: Int64, endPs: Int64)? {
        guard cursorPs < durationPs else { return nil }
        while changeIndex < changePoints.count && changePoints[changeIndex] <= cursorPs { changeIndex += 1 }
        var end = min(durationPs, cursorPs + lengthPs)
        if changeIndex < changePoints.count { end = min(end, changePoints[changeIndex]) }
        defer { cursorPs = end }
        return (cursorPs, end)
    }

    /// All segment boundaries (0, change points, duration).
    var segmentBoundaries: [Int64] { [0] + changePoints + [durationPs] }

    /// Adds a change point at or after the cursor (windows not yet planned split there).
    mutating func insertChangePoint(_ timePs: Int64) {
        guard timePs > cursorPs, timePs < durationPs, !changePoints.contains(timePs) else { return }
        changePoints.append(timePs)
        changePoints.sort()
        changeIndex = 0
    }
}

/// Stream numbers of the independent random sub-streams of a run.
enum RandomStream: UInt64 {
    case emission = 1, detectorA, detectorB, detectorStation, clockA, clockB, clockStation, scheduleA, scheduleB, readout, distillation
}
