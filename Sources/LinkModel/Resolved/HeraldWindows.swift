/// The midpoint station of a heralded link as the labs' taggers see it, independent of the attempt rate:
/// which tagger channels carry its two detectors, which lab records them, its detection window and, for
/// Barrett–Kok, the configured round separation.
public struct HeraldStation: Sendable, Equatable {
    /// How the station heralds.
    public enum Heralding: Sendable, Equatable {
        /// One click per attempt: the first station detector heralds ψ⁺, the second ψ⁻.
        case singleClick
        /// Barrett–Kok: two rounds per attempt; `roundSeparationPs` is the configured separation, nil for
        /// the default of half the attempt period.
        case barrettKok(roundSeparationPs: Int64?)
    }

    /// Single click or Barrett–Kok.
    public var heralding: Heralding
    /// Tagger channels of station detectors 0 (ψ⁺) and 1 (ψ⁻): `simulation.station.channels`, else the two
    /// channels after the highest lab detector channel.
    public var channels: [Int32]
    /// Index in `labs:` of the lab whose tagger records the station's detectors (the simulator's lab A:
    /// `simulation.labs[0]`, else `labs[0]`).
    public var labIndex: Int
    /// The station detectors' acceptance window (`model.midpoint.detectors.window_ps`), in ps.
    public var detectionWindowPs: Int64

    public init(heralding: Heralding, channels: [Int32], labIndex: Int = 0, detectionWindowPs: Int64) {
        self.heralding = heralding
        self.channels = channels
        self.labIndex = labIndex
        self.detectionWindowPs = detectionWindowPs
    }

    /// Barrett–Kok: the time between an attempt's two rounds at attempt period `periodPs` — the configured
    /// separation, else half the period (at least 1 ps).
    public static func roundSeparationPs(configured: Int64?, attemptPeriodPs periodPs: Int64) -> Int64 {
        configured ?? max(1, periodPs / 2)
    }

    /// The herald windows at attempt rate `rateHz`: attempts every period from the attempt grid's origin,
    /// clicks accepted from the attempt start for the detection window (capped at the period); Barrett–Kok
    /// rounds one round separation apart, each window capped at the separation.
    public func windows(attemptRateHz rateHz: Double) -> HeraldWindows {
        let periodPs = AttemptClock.periodPs(rateHz: rateHz)
        let windowPs = max(1, min(detectionWindowPs, periodPs))
        switch heralding {
        case .singleClick:
            return HeraldWindows(attemptPeriodPs: periodPs, stationChannels: channels, stationLab: labIndex,
                                 first: HeraldWindow(startPs: 0, endPs: windowPs), second: nil)
        case .barrettKok(let configured):
            let separationPs = Self.roundSeparationPs(configured: configured, attemptPeriodPs: periodPs)
            let endPs = max(1, min(windowPs, separationPs))
            return HeraldWindows(attemptPeriodPs: periodPs, stationChannels: channels, stationLab: labIndex,
                                 first: HeraldWindow(startPs: 0, endPs: endPs),
                                 second: HeraldWindow(startPs: separationPs, endPs: min(periodPs, separationPs + endPs)))
        }
    }
}

/// An acceptance window `[startPs, endPs)` measured from an attempt's start, in ps.
public struct HeraldWindow: Sendable, Equatable {
    public var startPs: Int64
    public var endPs: Int64

    public init(startPs: Int64, endPs: Int64) {
        self.startPs = startPs
        self.endPs = endPs
    }
}

/// How heralds are decided at one attempt rate: the attempt period, the station's channels and the lab that
/// records them, and the acceptance window of each round (one for single click, two for Barrett–Kok).
public struct HeraldWindows: Sendable, Equatable {
    /// The attempt period, in ps.
    public var attemptPeriodPs: Int64
    /// Station detectors ψ⁺ and ψ⁻ (single click); detectors 0 and 1 (Barrett–Kok).
    public var stationChannels: [Int32]
    /// Index in `labs:` of the lab whose tag stream carries the station detectors.
    public var stationLab: Int
    /// The (first round's) acceptance window.
    public var first: HeraldWindow
    /// Barrett–Kok: the second round's acceptance window; nil for single click.
    public var second: HeraldWindow?

    public init(attemptPeriodPs: Int64, stationChannels: [Int32], stationLab: Int, first: HeraldWindow, second: HeraldWindow?) {
        self.attemptPeriodPs = attemptPeriodPs
        self.stationChannels = stationChannels
        self.stationLab = stationLab
        self.first = first
        self.second = second
    }
}
