import Foundation

/// Closed-form success probabilities and heralded states of the three protocols.
///
/// Every formula is derived in `docs/planner.md`. Inputs are probabilities per attempt: `arrivalA`
/// and `arrivalB` are the probabilities that a photon emitted by a bright emitter reaches the
/// station's beam splitter; `detectorEfficiency` applies after the beam splitter; `noiseClick` is the
/// probability that a detector clicks in the window without any signal photon (dark counts and noise
/// photons, Poissonian); `visibility` is the two-photon interference visibility V = |⟨ψ_A|ψ_B⟩|².
public enum ClosedForms {
    /// Click and silence probabilities of one threshold detector that receives 0, 1 or 2 photons,
    /// written without cancellation so that tiny efficiencies stay exact.
    struct Detector {
        /// Probability of no click with k photons: (1−η)^k (1−p).
        let silent: (Double, Double, Double)
        /// Probability of a click with k photons: 1 − (1−η)^k (1−p).
        let click: (Double, Double, Double)

        @inline(__always)
        init(eta: Double, noise: Double) {
            let quiet = 1 - noise
            let miss = 1 - eta
            silent = (quiet, miss * quiet, miss * miss * quiet)
            click = (noise, eta + noise * miss, eta * (2 - eta) + noise * miss * miss)
        }

        /// Probability that only D₊ clicks when D₊ receives `plus` photons and D₋ receives `minus`.
        @inline(__always)
        func onlyPlus(_ plus: Int, _ minus: Int) -> Double {
            let c = plus == 0 ? click.0 : (plus == 1 ? click.1 : click.2)
            let s = minus == 0 ? silent.0 : (minus == 1 ? silent.1 : silent.2)
            return c * s
        }
    }

    /// Probability that only D₊ clicks when exactly one emitter is bright and its photon reaches the
    /// beam splitter with probability `arrival`.
    @inline(__always)
    static func onePhotonOnlyPlus(arrival: Double, eta: Double, noise: Double) -> Double {
        let detected = arrival * eta
        return (1 - noise) * (detected / 2 + noise * (1 - detected))
    }

    /// Probability that only D₊ clicks when both emitters are bright. Photons that both arrive bunch
    /// with probability (1+V)/2 and leave by different ports with probability (1−V)/2.
    @inline(__always)
    static func twoPhotonsOnlyPlus(arrivalA: Double, arrivalB: Double, detector: Detector, visibility: Double) -> Double {
        let both = arrivalA * arrivalB
        let one = arrivalA * (1 - arrivalB) + arrivalB * (1 - arrivalA)
        let none = (1 - arrivalA) * (1 - arrivalB)
        let bunched = 0.5 * (detector.onlyPlus(2, 0) + detector.onlyPlus(0, 2))
        let split = detector.onlyPlus(1, 1)
        let single = 0.5 * (detector.onlyPlus(1, 0) + detector.onlyPlus(0, 1))
        return both * ((1 + visibility) / 2 * bunched + (1 - visibility) / 2 * split)
            + one * single + none * detector.onlyPlus(0, 0)
    }

    /// Single-click heralding with bright-state population α (Humphreys et al. 2018, Supplementary
    /// Information eqs. 8–10, kept exact in the detection probability, with unequal arms).
    ///
    /// Each node prepares √(1−α)|0⟩ + √α|1⟩ and emits a photon when in |1⟩; the herald is a click in
    /// exactly one of the two detectors.
    public static func singleClick(alpha: Double, arrivalA: Double, arrivalB: Double, detectorEfficiency eta: Double,
                                   visibility: Double, noiseClick noise: Double) -> HeraldedState {
        let sA = onePhotonOnlyPlus(arrival: arrivalA, eta: eta, noise: noise)
        let sB = onePhotonOnlyPlus(arrival: arrivalB, eta: eta, noise: noise)
        let detector = Detector(eta: eta, noise: noise)
        let dark = detector.onlyPlus(0, 0)
        let bothBright = twoPhotonsOnlyPlus(arrivalA: arrivalA, arrivalB: arrivalB, detector: detector, visibility: visibility)
        let oneBright = alpha * (1 - alpha)
        let herald = 2 * ((1 - alpha) * (1 - alpha) * dark + oneBright * (sA + sB) + alpha * alpha * bothBright)
        guard herald > 0 else { return .never }
        let coherenceAmplitude = (arrivalA * arrivalB * visibility).squareRoot() * eta * (1 - noise)
        return HeraldedState(successProbability: herald,
                             population: oneBright * (sA + sB) / herald,
                             coherence: oneBright * coherenceAmplitude / herald)
    }

    /// Double-click (Barrett–Kok) heralding: each node starts in (|0⟩+|1⟩)/√2, emits, is flipped and
    /// emits again; the herald is exactly one click in each of the two rounds.
    public static func doubleClick(arrivalA: Double, arrivalB: Double, detectorEfficiency eta: Double,
                                   visibility: Double, noiseClick noise: Double) -> HeraldedState {
        let sA = onePhotonOnlyPlus(arrival: arrivalA, eta: eta, noise: noise)
        let sB = onePhotonOnlyPlus(arrival: arrivalB, eta: eta, noise: noise)
        let detector = Detector(eta: eta, noise: noise)
        let dark = detector.onlyPlus(0, 0)
        let bothBright = twoPhotonsOnlyPlus(arrivalA: arrivalA, arrivalB: arrivalB, detector: detector, visibility: visibility)
        let herald = 2 * sA * sB + 2 * dark * bothBright
        guard herald > 0 else { return .never }
        let coherence = arrivalA * arrivalB * eta * eta * visibility * (1 - noise) * (1 - noise) / 4
        return HeraldedState(successProbability: herald, population: sA * sB / herald, coherence: coherence / herald)
    }

    /// A midpoint source emitting a Poisson number of pairs (mean μ) per attempt, each photon stored
    /// by a heralded memory in its lab. `transmissionA/B` include the memory's storage efficiency;
    /// `noiseA/B` are the probabilities of a false storage herald per attempt. Heralds caused by exactly
    /// one pair and no noise carry a Werner state of fidelity `pairFidelity`; all others are taken to
    /// carry a maximally mixed state.
    public static func pairSource(meanPairs mu: Double, transmissionA tA: Double, transmissionB tB: Double,
                                  noiseA dA: Double, noiseB dB: Double, pairFidelity f0: Double) -> HeraldedState {
        let quietA = 1 - dA, quietB = 1 - dB
        let eitherLost = tA + tB - tA * tB
        // P(A and B herald) = 1 − P(A silent) − P(B silent) + P(both silent), rearranged as
        // P(A)P(B) + qA qB e^{−μ(tA+tB)}(e^{μ tA tB} − 1) to avoid cancellation at small μ.
        let heraldA = dA - quietA * expm1(-mu * tA)
        let heraldB = dB - quietB * expm1(-mu * tB)
        let herald = heraldA * heraldB + quietA * quietB * exp(-mu * (tA + tB)) * expm1(mu * tA * tB)
        guard herald > 0 else { return .never }
        let good = min(herald, tA * tB * quietA * quietB * mu * exp(-mu * eitherLost))
        let goodPopulation = f0 / 2 + (1 - f0) / 6
        let goodCoherence = f0 / 2 - (1 - f0) / 6
        return HeraldedState(successProbability: herald,
                             population: (good * goodPopulation + (herald - good) / 4) / herald,
                             coherence: good * goodCoherence / herald)
    }
}
