import Foundation
import LinkModel
import Planner

/// Rates measured over a window while the link runs at a known operating point.
public struct RetuneMeasurement: Sendable, Codable, Equatable {
    /// The operating point in force while the rates were measured.
    public var repetitionRateHz: Double
    /// The knob in force (α, mean pairs per attempt), nil for double-click or when it is the model's.
    public var knob: Double?
    /// Length of the window, in seconds.
    public var windowSeconds: Double
    /// Pair source: singles rate of each lab's detectors (arm A, arm B), in Hz.
    public var singlesRateHz: [Double]
    /// Pair source: background singles rate of each lab not caused by pairs (dark counts), in Hz.
    public var backgroundRateHz: [Double]
    /// Pair source: coincidence rate with accidentals subtracted, in Hz.
    public var coincidenceRateHz: Double?
    /// Heralded links: click rate of the station detectors (all detectors together), in Hz.
    public var stationClickRateHz: Double?
    /// Heralded links: station click rate of each arm measured alone (a calibration with one emitter dark), if known.
    public var armClickRateHz: [Double]?
    /// Events counted for the rate the estimate rests on (coincidences of a pair source, heralds of a heralded
    /// link), whose Poisson error bounds the estimate's; nil when the rates are given without counting error.
    public var events: Int64?

    /// The largest relative standard error (1σ) of the counted rate that a re-tune accepts: 5 %.
    public static let maxRelativeError = 0.05
    /// The fewest events that keep a Poisson rate within ``maxRelativeError``: 1/ε² = 400.
    public static let minimumEvents = Int64((1 / (maxRelativeError * maxRelativeError)).rounded(.up))

    public init(repetitionRateHz: Double, knob: Double? = nil, windowSeconds: Double, singlesRateHz: [Double] = [],
                backgroundRateHz: [Double] = [0, 0], coincidenceRateHz: Double? = nil, stationClickRateHz: Double? = nil,
                armClickRateHz: [Double]? = nil, events: Int64? = nil) {
        self.events = events
        self.repetitionRateHz = repetitionRateHz
        self.knob = knob
        self.windowSeconds = windowSeconds
        self.singlesRateHz = singlesRateHz
        self.backgroundRateHz = backgroundRateHz
        self.coincidenceRateHz = coincidenceRateHz
        self.stationClickRateHz = stationClickRateHz
        self.armClickRateHz = armClickRateHz
    }
}

extension RetuneMeasurement {
    /// Why this window is too thin to re-tune from, nil when it is not: it spans less than `minSpanSeconds` of
    /// link time, or it counted fewer than ``minimumEvents`` events (its rate's relative error would exceed
    /// ``maxRelativeError``). An early window — the link just started, a node still catching up — reads rates that
    /// the link does not have; a change made from it would be followed by another.
    public func shortfall(minSpanSeconds: Double) -> String? {
        if !(windowSeconds >= minSpanSeconds * (1 - 1e-9)) {
            return String(format: "the window spans %.3g s of link time, less than %.3g s", windowSeconds, minSpanSeconds)
        }
        if let events, events < Self.minimumEvents {
            return "the window counted \(events) events, fewer than the \(Self.minimumEvents) that bound the rate's error by "
                + String(format: "%.0f %%", Self.maxRelativeError * 100)
        }
        return nil
    }
}

/// One arm's measured state against the model.
public struct ArmEstimate: Sendable, Codable, Equatable {
    /// The arm's name in the model.
    public var arm: String
    /// Transmission the model predicts (emitter to station, or source to memory/detector).
    public var plannedTransmission: Double
    /// Transmission measured now.
    public var measuredTransmission: Double
    /// Noise photons per attempt measured beyond what the model predicts (0 when none is significant).
    public var extraNoisePhotonsPerAttempt: Double

    /// Measured over planned transmission.
    public var transmissionFactor: Double { plannedTransmission > 0 ? measuredTransmission / plannedTransmission : 0 }
    /// The change of the arm's loss in dB (positive: more loss than planned).
    public var extraLossDb: Double { -10 * log10(max(transmissionFactor, 1e-30)) }
}

/// Estimates each arm's current efficiency and noise from measured rates.
///
/// * Pair source: Klyshko's method. With R pairs per second and arm transmissions t_A, t_B (detection
///   included), singles are S_X = R·t_X + background and accidental-subtracted coincidences C = R·t_A·t_B,
///   so t_A = C / (S_B − bg_B) and t_B = C / (S_A − bg_A) without knowing R. The singles left over beyond
///   R_op·t_X (R_op = μ·f, the commanded pair rate) and the background are extra noise, kept when they
///   exceed three standard errors.
/// * Heralded links: the station clicks per attempt are η_det·α·(t_A + t_B) plus noise (single click; the
///   double-click rounds give the same with α = ½ per round). With per-arm calibration rates each arm gets
///   its own factor; otherwise both arms are scaled by one common factor (the station cannot tell them apart).
public enum ArmEstimator {
    /// Estimates both arms of `model` from `measurement`.
    public static func estimate(model: LinkDescription, measurement m: RetuneMeasurement) throws(MonitoringError) -> [ArmEstimate] {
        let profile = LinkProfile(model)
        let planned = [profile.armA.transmission, profile.armB.transmission]
        let f = m.repetitionRateHz
        guard f > 0, f.isFinite, m.windowSeconds > 0 else {
            throw MonitoringError(.insufficientData, "the repetition rate and window must be positive",
                                  hint: "report the rate in force and the window length")
        }
        switch model.protocol {
        case .pairSource(let defaultMean):
            guard m.singlesRateHz.count == 2, m.backgroundRateHz.count == 2, let c = m.coincidenceRateHz, c > 0 else {
                throw MonitoringError(.insufficientData, "a pair-source link needs both labs' singles and the coincidence rate",
                                      hint: "wait until coincidences have been counted")
            }
            let signal = zip(m.singlesRateHz, m.backgroundRateHz).map { max($0 - $1, 0) }
            guard signal[0] > 0, signal[1] > 0 else {
                throw MonitoringError(.insufficientData, "no singles above the background in one of the labs",
                                      hint: "check the detectors and the source")
            }
            let measured = [min(1, c / signal[1]), min(1, c / signal[0])]
            let commandedPairsHz = (m.knob ?? defaultMean) * f
            return (0..<2).map { index in
                let excess = signal[index] - commandedPairsHz * measured[index]
                let error = (m.singlesRateHz[index] / m.windowSeconds).squareRoot()
                let noise = excess > 3 * error ? excess / f : 0
                return ArmEstimate(arm: model.arms[index].name, plannedTransmission: planned[index],
                                   measuredTransmission: measured[index], extraNoisePhotonsPerAttempt: noise)
            }
        case .singleClick, .doubleClick:
            let alpha = model.protocol == .doubleClick ? 0.5 : (m.knob ?? model.protocol.knob ?? 0.5)
            let rounds = model.protocol == .doubleClick ? 2.0 : 1.0
            let eta = profile.detectorEfficiency
            let count = Double(model.midpoint.detectors?.count ?? 2)
            let noisePerAttempt = count * (profile.darkCountsPerWindow
                + eta * (profile.armA.noisePhotons(rateHz: f) + profile.armB.noisePhotons(rateHz: f) + profile.stationNoisePhotons) / 2)
            let perArmScale = rounds * alpha * eta
            guard perArmScale > 0 else {
                throw MonitoringError(.noModel, "the station detectors of the model have zero efficiency", hint: "fix model.midpoint.detectors")
            }
            var measured: [Double]
            if let arms = m.armClickRateHz, arms.count == 2 {
                measured = arms.map { max(0, $0 / f - rounds * noisePerAttempt) / perArmScale }
            } else if let clicks = m.stationClickRateHz {
                let signalPerAttempt = max(0, clicks / f - rounds * noisePerAttempt)
                let plannedSignal = perArmScale * (planned[0] + planned[1])
                guard plannedSignal > 0 else {
                    throw MonitoringError(.noModel, "the model predicts no signal at the station", hint: "check the arm efficiencies")
                }
                let factor = signalPerAttempt / plannedSignal
                measured = planned.map { $0 * factor }
            } else {
                throw MonitoringError(.insufficientData, "a heralded link needs the station click rate",
                                      hint: "wait until station clicks have been counted")
            }
            measured = measured.map { min(1, $0) }
            return (0..<2).map {
                ArmEstimate(arm: model.arms[$0].name, plannedTransmission: planned[$0], measuredTransmission: measured[$0],
                            extraNoisePhotonsPerAttempt: 0)
            }
        }
    }

    /// `model` with each arm corrected to its estimate.
    ///
    /// The change of transmission is placed at the start of the arm's signal path (right after the
    /// emitter, or first for a pair source), so that the noise the stages add keeps its planned level: a
    /// loss that appears upstream of the noise sources, the case that hurts the fidelity most. Extra noise
    /// measured at the detectors is added as a final stage.
    public static func adjustedModel(_ model: LinkDescription, estimates: [ArmEstimate]) -> LinkDescription {
        var adjusted = model
        for (index, estimate) in estimates.enumerated() where index < adjusted.arms.count {
            var stages = adjusted.arms[index].stages
            let factor = estimate.transmissionFactor
            if abs(factor - 1) > 1e-12 {
                let position = stages.first.map { if case .emitter = $0.kind { 1 } else { 0 } } ?? 0
                stages.insert(Stage(name: "measured-transmission", kind: .optics(efficiency: factor)), at: position)
            }
            if estimate.extraNoisePhotonsPerAttempt > 0 {
                stages.append(Stage(name: "measured-noise", kind: .optics(efficiency: 1),
                                    noisePhotonsPerAttempt: estimate.extraNoisePhotonsPerAttempt))
            }
            adjusted.arms[index].stages = stages
        }
        return adjusted
    }
}
