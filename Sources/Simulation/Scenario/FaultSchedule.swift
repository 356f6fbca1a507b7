import Foundation

/// One output stream of a simulation: a lab's time tagger or the midpoint station's.
public enum StreamRole: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
    /// Lab A's tagger.
    case labA
    /// Lab B's tagger.
    case labB
    /// The midpoint station's tagger (heralded links only).
    case station
}

/// One of the two fibre arms: from the source (or node A/B) towards lab A/B (or the station).
public enum LinkArm: String, Sendable, Equatable, Hashable, Codable {
    /// The arm of lab / node A.
    case a
    /// The arm of lab / node B.
    case b
}

/// What goes wrong.
public enum FaultKind: Sendable, Equatable, Codable {
    /// The arm's loss rises by `extraLossDb` (transmission × 10^(−dB/10)) from the fault time on.
    /// Steps on the same arm add up.
    case lossStep(arm: LinkArm, extraLossDb: Double)
    /// Detector `detector` of `stream` (0: outcome +1 / station detector 0, 1: outcome −1 /
    /// station detector 1) records nothing for `durationPs` (forever when `nil`).
    case detectorDark(stream: StreamRole, detector: Int, durationPs: Int64?)
    /// The stream's clock jumps by `jumpPs` (may be negative). After a backward jump, events
    /// that would be recorded before the last recorded time are lost and reported as a gap.
    case clockJump(stream: StreamRole, jumpPs: Int64)
    /// The visibility (pair source) or photon indistinguishability (heralded link) becomes
    /// `visibility` from the fault time on.
    case visibilityChange(visibility: Double)
}

/// A fault at a true time.
///
/// Times are on the true (reference) time axis: the source's emission time for a pair source,
/// the station's attempt time for a heralded link. A loss step or visibility change affects
/// pairs emitted (attempts made) at or after `atPs`; a detector fault affects detections at or
/// after `atPs`; a clock jump affects recordings of detections at or after `atPs`.
public struct ScheduledFault: Sendable, Equatable, Codable {
    /// True time of the fault, in ps.
    public var atPs: Int64
    /// What happens.
    public var kind: FaultKind

    /// A fault at `atPs`.
    public init(atPs: Int64, kind: FaultKind) {
        self.atPs = atPs
        self.kind = kind
    }
}

/// The faults of a run (any order; the simulator sorts them by time).
public struct FaultSchedule: Sendable, Equatable, Codable {
    /// The faults.
    public var faults: [ScheduledFault]

    /// A schedule of `faults`.
    public init(_ faults: [ScheduledFault] = []) { self.faults = faults }

    /// No faults.
    public static let none = FaultSchedule()

    func validate(_ path: String, hasStation: Bool) throws {
        for (index, fault) in faults.enumerated() {
            let at = "\(path)[\(index)]"
            try Check.time(fault.atPs, at + ".atPs")
            switch fault.kind {
            case .lossStep(_, let db):
                guard db.isFinite, db >= 0, db <= 200 else {
                    throw SimulationError(.invalidParameter, parameter: at + ".extraLossDb",
                                          message: "\(db) dB", hint: "use a loss step from 0 to 200 dB")
                }
            case .detectorDark(let stream, let detector, let duration):
                guard detector == 0 || detector == 1 else {
                    throw SimulationError(.invalidParameter, parameter: at + ".detector",
                                          message: "detector \(detector)", hint: "use detector 0 or 1")
                }
                if stream == .station && !hasStation {
                    throw SimulationError(.inconsistentParameters, parameter: at + ".stream",
                                          message: "this scenario has no station", hint: "use labA or labB")
                }
                if let duration { try Check.positive(duration, at + ".durationPs"); try Check.time(duration, at + ".durationPs") }
            case .clockJump(let stream, let jump):
                try Check.time(jump, at + ".jumpPs", allowNegative: true)
                if stream == .station && !hasStation {
                    throw SimulationError(.inconsistentParameters, parameter: at + ".stream",
                                          message: "this scenario has no station", hint: "use labA or labB")
                }
            case .visibilityChange(let v):
                try Check.probability(v, at + ".visibility")
            }
        }
    }

    /// Transmission factor of `arm` for emissions at `timePs` from loss steps.
    func lossFactor(arm: LinkArm, atTimePs timePs: Int64) -> Double {
        var db = 0.0
        for fault in faults where fault.atPs <= timePs {
            if case .lossStep(let faultArm, let extra) = fault.kind, faultArm == arm { db += extra }
        }
        return pow10(-db / 10)
    }

    /// Visibility at `timePs`, starting from `initial`.
    func visibility(initial: Double, atTimePs timePs: Int64) -> Double {
        var value = initial
        for fault in faults.sorted(by: { $0.atPs < $1.atPs }) where fault.atPs <= timePs {
            if case .visibilityChange(let v) = fault.kind { value = v }
        }
        return value
    }

    /// Bit `d` set when detector `d` (0 or 1) of `stream` is dark at true detection time `timePs`.
    func darkMask(stream: StreamRole, atTimePs timePs: Int64) -> UInt64 {
        var mask: UInt64 = 0
        for detector in 0..<2 where isDark(stream: stream, detector: detector, atTimePs: timePs) {
            mask |= 1 << UInt64(detector)
        }
        return mask
    }

    /// Whether detector `detector` of `stream` is dark at true detection time `timePs`.
    func isDark(stream: StreamRole, detector: Int, atTimePs timePs: Int64) -> Bool {
        for fault in faults {
            if case .detectorDark(let s, let d, let duration) = fault.kind, s == stream, d == detector,
               fault.atPs <= timePs, duration.map({ timePs - fault.atPs < $0 }) ?? true {
                return true
            }
        }
        return false
    }

    /// Clock jumps of `stream`, sorted by time.
    func clockJumps(stream: StreamRole) -> [ClockJump] {
        faults.compactMap { fault -> ClockJump? in
            if case .clockJump(let s, let jump) = fault.kind, s == stream { return ClockJump(atPs: fault.atPs, jumpPs: jump) }
            return nil
        }.sorted { $0.atPs < $1.atPs }
    }

    /// True times at which a fault starts or ends for `stream` detectors (detector faults) or
    /// for the emission/attempt process (loss and visibility).
    func changeTimes(stream: StreamRole?) -> [Int64] {
        var times: [Int64] = []
        for fault in faults {
            switch fault.kind {
            case .lossStep, .visibilityChange:
                if stream == nil { times.append(fault.atPs) }
            case .detectorDark(let s, _, let duration):
                if s == stream {
                    times.append(fault.atPs)
                    if let duration { times.append(fault.atPs + duration) }
                }
            case .clockJump:
                break
            }
        }
        return times
    }
}

/// A step of a stream's clock.
public struct ClockJump: Sendable, Equatable, Codable {
    /// True time of the jump, in ps.
    public var atPs: Int64
    /// Size of the jump, in ps.
    public var jumpPs: Int64
}

@inline(__always) func pow10(_ x: Double) -> Double { exp(x * 2.302585092994046) }
