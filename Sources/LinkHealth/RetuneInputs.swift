import LinkModel
import Monitoring

extension RetuneMeasurement {
    /// What the re-tuner reads from one window's observation of a running link, or nil when the window has
    /// not measured it yet.
    ///
    /// - A pair source: the singles rate of the first two labs (arm A, arm B, in configuration order), their
    ///   detectors' configured dark counts as the background, and the coincidence rate with the accidentals
    ///   subtracted.
    /// - A heralded link: the herald rate as the station's click rate (heralds are single station clicks; at a
    ///   low click probability per attempt they are the click rate). One rate cannot tell the arms apart, so
    ///   the re-tuner spreads any change over both.
    public init?(observation: LinkObservation, link: LinkConfiguration, model: LinkDescription, repetitionRateHz: Double, knob: Double?) {
        let windowSeconds = link.monitoring?.windowSeconds ?? 10
        if case .pairSource = model.protocol {
            guard link.labs.count >= 2, let coincidences = observation.coincidenceRateHz else { return nil }
            let labs = Array(link.labs.prefix(2))
            let singles = labs.compactMap { observation.armRatesHz[$0.name] }
            guard singles.count == 2, singles.allSatisfy({ $0 > 0 }) else { return nil }
            let background = labs.map { lab in lab.detectors.reduce(0) { $0 + $1.darkCountRateHz } }
            let accidentals = observation.accidentalRateHz?.value ?? 0
            self.init(repetitionRateHz: repetitionRateHz, knob: knob, windowSeconds: windowSeconds, singlesRateHz: singles,
                      backgroundRateHz: background, coincidenceRateHz: max(0, coincidences.value - accidentals))
        } else {
            guard let clicks = observation.heraldRateHz, clicks.value > 0 else { return nil }
            self.init(repetitionRateHz: repetitionRateHz, knob: knob, windowSeconds: windowSeconds, stationClickRateHz: clicks.value)
        }
    }
}
