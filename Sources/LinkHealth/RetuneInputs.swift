import LinkModel
import Monitoring

/// What a running link counted over the monitoring window, on link time (``StatusObserver/retuneWindow``).
public struct RetuneWindow: Sendable, Equatable {
    /// Link time where the window starts, ps.
    public var startPs: Int64
    /// Link time the live analysis advanced over the window, ps.
    public var linkSpanPs: Int64
    /// Coincidences counted (a pair source; heralds with outcomes on a heralded link).
    public var coincidences: Int64?
    /// Accidental coincidences expected among them.
    public var accidentals: Int64?
    /// Heralded successes (station clicks) decided.
    public var heralds: Int64?
    /// Tags received from each lab.
    public var tagsByLab: [String: Int64]

    public init(startPs: Int64 = 0, linkSpanPs: Int64, coincidences: Int64? = nil, accidentals: Int64? = nil, heralds: Int64? = nil,
                tagsByLab: [String: Int64] = [:]) {
        self.startPs = startPs
        self.linkSpanPs = linkSpanPs
        self.coincidences = coincidences
        self.accidentals = accidentals
        self.heralds = heralds
        self.tagsByLab = tagsByLab
    }
}

extension RetuneMeasurement {
    /// What the re-tuner reads from a running link's window: every count over the link time it spans, so a link
    /// that ran slower than the wall clock (a loaded machine) or only for part of the window reads the rates it
    /// really has; nil when the window has not counted it yet. ``events`` carries the count the estimate rests on,
    /// and ``windowSeconds`` the link time, for ``shortfall(minSpanSeconds:)``.
    ///
    /// - A pair source: the singles rate of the first two labs (arm A, arm B, in configuration order), their
    ///   detectors' configured dark counts as the background, and the coincidence rate with the accidentals
    ///   subtracted; events: the coincidences.
    /// - A heralded link: the herald rate as the station's click rate (heralds are single station clicks; at a
    ///   low click probability per attempt they are the click rate). One rate cannot tell the arms apart, so
    ///   the re-tuner spreads any change over both. Events: the heralds.
    public init?(window: RetuneWindow, link: LinkConfiguration, model: LinkDescription, repetitionRateHz: Double, knob: Double?) {
        guard window.linkSpanPs > 0 else { return nil }
        let seconds = Double(window.linkSpanPs) / 1e12
        if case .pairSource = model.protocol {
            guard link.labs.count >= 2, let coincidences = window.coincidences, coincidences > 0 else { return nil }
            let labs = Array(link.labs.prefix(2))
            let singles = labs.compactMap { window.tagsByLab[$0.name] }.map { Double($0) / seconds }
            guard singles.count == 2, singles.allSatisfy({ $0 > 0 }) else { return nil }
            let background = labs.map { lab in lab.detectors.reduce(0) { $0 + $1.darkCountRateHz } }
            let accidentals = Double(window.accidentals ?? 0)
            self.init(repetitionRateHz: repetitionRateHz, knob: knob, windowSeconds: seconds, singlesRateHz: singles,
                      backgroundRateHz: background, coincidenceRateHz: max(0, Double(coincidences) - accidentals) / seconds,
                      events: coincidences)
        } else {
            guard let heralds = window.heralds, heralds > 0 else { return nil }
            self.init(repetitionRateHz: repetitionRateHz, knob: knob, windowSeconds: seconds, stationClickRateHz: Double(heralds) / seconds,
                      events: heralds)
        }
    }
}
