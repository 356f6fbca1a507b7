import Foundation
import LinkModel

/// Where a link is run: the attempt (repetition) rate and the protocol's brightness knob.
public struct OperatingPoint: Sendable, Hashable, Encodable {
    /// Attempts per second.
    public var repetitionRateHz: Double
    /// α for single-click, mean pairs per attempt for a pair source, nil for double-click.
    public var knob: Double?

    public init(repetitionRateHz: Double, knob: Double? = nil) {
        self.repetitionRateHz = repetitionRateHz
        self.knob = knob
    }
}

/// What a link achieves at one operating point.
public struct Performance: Sendable, Equatable, Encodable {
    /// The operating point.
    public var point: OperatingPoint
    /// Probability that an attempt heralds a pair.
    public var successProbability: Double
    /// Heralded pairs per second.
    public var pairRateHz: Double
    /// Fidelity of the delivered pair after the memories waited for the herald.
    public var fidelity: Double
    /// Fidelity of the heralded state before memory decoherence.
    public var fidelityAtHerald: Double
    /// Distribution of the time between pairs.
    public var timePerPair: TimePerPair
    /// Cost per delivered pair.
    public var costPerPair: Double
    /// Cost per hour of running at this point.
    public var costPerHour: Double
    /// Probability per attempt of a noise click in one station detector (or a false memory herald in arm A).
    public var noiseClickProbability: Double
    /// False when the rate exceeds what the hardware or the herald round trip allows.
    public var withinRateLimit: Bool
    /// The delivered state (after the herald wait), from which distillation and key rates are computed.
    public var deliveredState: HeraldedState
    /// Pairs above the fidelity target, secret bits, and their cost and energy; attached by the plan.
    public var useful: UsefulOutput? = nil
    /// Predicted QBER, secret key rates and the repeaterless bound (``KeyFigures``, `KeyRate.swift`).
    public var key: KeyFigures
}

extension LinkProfile {
    /// Evaluates the link at `point`.
    public func evaluate(_ point: OperatingPoint) -> Performance {
        let f = point.repetitionRateHz
        let noiseA = armA.noisePhotons(rateHz: f)
        let noiseB = armB.noisePhotons(rateHz: f)
        let state: HeraldedState
        let noiseClick: Double
        switch description.protocol {
        case .singleClick, .doubleClick:
            let isSingle = description.protocol != .doubleClick
            let alpha = isSingle ? (point.knob ?? description.protocol.knob ?? 0.5) : 0.5
            let rounds = isSingle ? 1.0 : 2.0
            let meanNoise = darkCountsPerWindow + detectorEfficiency * (noiseA + noiseB + stationNoisePhotons) / 2
            // Non-paralysable dead time: a detector is live a fraction 1/(1 + R τ) of the time, R its click rate.
            var live = 1.0
            if deadTimeS > 0 {
                let signal = rounds * alpha * (armA.transmission + armB.transmission) * detectorEfficiency / 2
                let clicksPerAttempt = -expm1(-(signal + rounds * meanNoise))
                live = 1 / (1 + f * clicksPerAttempt * deadTimeS)
            }
            let eta = detectorEfficiency * live
            noiseClick = -expm1(-meanNoise * live)
            state = isSingle
                ? ClosedForms.singleClick(alpha: alpha, arrivalA: armA.transmission, arrivalB: armB.transmission,
                                          detectorEfficiency: eta, visibility: visibility, noiseClick: noiseClick)
                : ClosedForms.doubleClick(arrivalA: armA.transmission, arrivalB: armB.transmission,
                                          detectorEfficiency: eta, visibility: visibility, noiseClick: noiseClick)
        case .pairSource(let defaultMean):
            let falseA = -expm1(-noiseA)
            let falseB = -expm1(-noiseB)
            noiseClick = falseA
            state = ClosedForms.pairSource(meanPairs: point.knob ?? defaultMean, transmissionA: armA.transmission,
                                           transmissionB: armB.transmission, noiseA: falseA, noiseB: falseB,
                                           pairFidelity: pairFidelity)
        }
        let delivered = state.dephased(by: coherenceFactor(rateHz: f))
        let p = state.successProbability
        let rate = p * f
        let spendPerSecond = fixedCostPerSecond + costPerAttempt * f
        return Performance(
            point: point, successProbability: p, pairRateHz: rate, fidelity: delivered.fidelity,
            fidelityAtHerald: state.fidelity, timePerPair: TimePerPair(successProbability: p, rateHz: f),
            costPerPair: rate > 0 ? spendPerSecond / rate : .infinity, costPerHour: spendPerSecond * 3600,
            noiseClickProbability: noiseClick, withinRateLimit: f <= maxRepetitionRateHz * (1 + 1e-12),
            deliveredState: delivered,
            key: KeyFigures(state: delivered, rateHz: f, transmissivity: armA.transmission * armB.transmission, settings: keySettings))
    }

    /// Factor by which both memories' waiting shrinks the coherence at repetition rate `rateHz`.
    /// With multiplexing, attempts keep running while a qubit waits and each dephases it.
    public func coherenceFactor(rateHz: Double) -> Double {
        func factor(_ arm: ArmProfile) -> Double {
            guard let memory = arm.memory else { return 1 }
            let attempts = multiplexed ? arm.heraldWaitPs * 1e-12 * rateHz : 0
            return memory.coherenceFactor(waitPs: arm.heraldWaitPs, attempts: attempts)
        }
        return factor(armA) * factor(armB)
    }
}
