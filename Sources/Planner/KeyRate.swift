import Foundation
import LinkModel

/// Secret-key rates of entanglement-based QKD (BBM92) from the quantum bit error rates (QBER) in the two bases.
///
/// Every formula and its source is in `docs/planner.md` ("Secret key"). In short:
///
/// - Each lab measures every pair in Z with probability p_Z and in X with p_X = 1 − p_Z. Pairs measured in the
///   same basis are kept (sifting): a fraction p_Z² + p_X² (½ for symmetric random bases, → 1 for efficient
///   BB84 with biased bases, Lo, Chau & Ardehali 2005).
/// - Asymptotic key per sifted bit of basis Z (Shor & Preskill 2000; for entangled sources Ma, Fung & Lo 2007,
///   PRA 76, 012307): r_Z = 1 − f·h(e_Z) − h(e_X); the bit error of the key basis costs error correction with
///   inefficiency f, the error in the other basis bounds the phase error. Key is drawn from both bases:
///   K = p_Z² max(0, r_Z) + p_X² max(0, r_X) secret bits per detected pair.
/// - Finite key (Tomamichel, Lim, Gisin & Renner 2012, Nat. Commun. 3:634, eq. 2): a block of n key bits from
///   basis Z with k = n p_X²/p_Z² bits of basis X for parameter estimation yields
///   ℓ = n(1 − h(e_X + μ)) − f·n·h(e_Z) − log₂(2/(ε_sec² ε_cor)),
///   μ = √((n+k)/(nk) · (k+1)/k · ln(4/ε_sec)).
public enum KeyRate {
    /// The binary entropy h(p) = −p log₂ p − (1−p) log₂(1−p), with h(0) = h(1) = 0; p outside [0, 1] is clamped.
    @inline(__always)
    public static func binaryEntropy(_ p: Double) -> Double {
        let x = min(max(p, 0), 1)
        guard x > 0, x < 1 else { return 0 }
        return -(x * log2(x) + (1 - x) * log2(1 - x))
    }

    /// The asymptotic secret fraction of a sifted key bit, 1 − f·h(e_bit) − h(e_phase) (may be negative: no key).
    @inline(__always)
    public static func secretFraction(bitError: Double, phaseError: Double, errorCorrectionEfficiency f: Double) -> Double {
        1 - f * binaryEntropy(bitError) - binaryEntropy(phaseError)
    }

    /// The fraction of detected pairs both labs measured in the same basis, p_Z² + (1 − p_Z)².
    @inline(__always)
    public static func siftingRatio(probabilityZ pZ: Double) -> Double {
        pZ * pZ + (1 - pZ) * (1 - pZ)
    }

    /// Asymptotic secret bits per detected pair with key drawn from both bases:
    /// p_Z² max(0, 1 − f h(e_Z) − h(e_X)) + p_X² max(0, 1 − f h(e_X) − h(e_Z)).
    public static func asymptoticBitsPerPair(qberZ: Double, qberX: Double, settings: KeySettings) -> Double {
        let pZ = settings.probabilityZ, pX = 1 - pZ, f = settings.errorCorrectionEfficiency
        let hZ = binaryEntropy(qberZ), hX = binaryEntropy(qberX)
        return pZ * pZ * max(0, 1 - f * hZ - hX) + pX * pX * max(0, 1 - f * hX - hZ)
    }

    /// The statistical deviation μ of Tomamichel et al. (2012) eq. 2 for n key bits, k estimation bits and ε_sec.
    public static func finiteKeyDeviation(keyBits n: Double, estimationBits k: Double, epsilonSecrecy: Double) -> Double {
        guard n > 0, k > 0 else { return .infinity }
        return ((n + k) / (n * k) * (k + 1) / k * log(4 / epsilonSecrecy)).squareRoot()
    }

    /// Secret key length ℓ (bits, ≥ 0) from a block of `settings.blockSize` key bits of basis Z with bit error
    /// `qberZ`, the phase error estimated from k = n p_X²/p_Z² bits of basis X with error `qberX` taken as the
    /// tolerated error Q_tol (Tomamichel et al. 2012, eq. 2 with preparation quality q = 1 and
    /// leak_EC = f·n·h(e_Z)).
    public static func finiteKeyLength(qberZ: Double, qberX: Double, settings: KeySettings) -> Double {
        let n = settings.blockSize
        let pZ = settings.probabilityZ, pX = 1 - pZ
        guard n > 0, pZ > 0, pX > 0 else { return 0 }
        let k = n * pX * pX / (pZ * pZ)
        let mu = finiteKeyDeviation(keyBits: n, estimationBits: k, epsilonSecrecy: settings.epsilonSecrecy)
        let phase = qberX + mu
        guard phase < 0.5 else { return 0 }
        let length = n * (1 - binaryEntropy(phase)) - settings.errorCorrectionEfficiency * n * binaryEntropy(qberZ)
            - log2(2 / (settings.epsilonSecrecy * settings.epsilonSecrecy * settings.epsilonCorrectness))
        return max(0, length)
    }

    /// Finite-key secret bits per detected pair: the key basis's share p_Z² times ℓ/n. With symmetric bases this
    /// is at most half of ``asymptoticBitsPerPair(qberZ:qberX:settings:)``, which draws key from both bases.
    public static func finiteBitsPerPair(qberZ: Double, qberX: Double, settings: KeySettings) -> Double {
        guard settings.blockSize > 0 else { return 0 }
        let pZ = settings.probabilityZ
        return pZ * pZ * finiteKeyLength(qberZ: qberZ, qberX: qberX, settings: settings) / settings.blockSize
    }

    /// The repeaterless (PLOB) bound −log₂(1 − η) in secret bits per channel use of a pure-loss channel of
    /// transmissivity η (Pirandola, Laurenza, Ottaviani & Banchi 2017, Nat. Commun. 8:15043); ≈ 1.44 η for small η.
    @inline(__always)
    public static func plobBound(transmissivity eta: Double) -> Double {
        let x = min(max(eta, 0), 1)
        return x >= 1 ? .infinity : -log1p(-x) / M_LN2
    }
}

/// How the key is made: basis choice, error-correction inefficiency and the finite-key block (the `plan.key:`
/// section of a plan file; every key optional).
///
/// ```yaml
/// plan:
///   key: { probability_z: 0.5, error_correction_efficiency: 1.1, block_size: 1.0e6, epsilon_secrecy: 1.0e-10, epsilon_correctness: 1.0e-15 }
/// ```
public struct KeySettings: Sendable, Equatable, Encodable, Decodable {
    /// Probability p_Z that a lab measures in Z (½: symmetric random bases).
    public var probabilityZ: Double
    /// Error-correction inefficiency f ≥ 1 (leak = f·h(e) bits per key bit); 1.1 after Tomamichel et al. 2012.
    public var errorCorrectionEfficiency: Double
    /// Key bits per finite-key block n.
    public var blockSize: Double
    /// Secrecy parameter ε_sec.
    public var epsilonSecrecy: Double
    /// Correctness parameter ε_cor.
    public var epsilonCorrectness: Double

    public init(probabilityZ: Double = 0.5, errorCorrectionEfficiency: Double = 1.1, blockSize: Double = 1e6,
                epsilonSecrecy: Double = 1e-10, epsilonCorrectness: Double = 1e-15) {
        self.probabilityZ = probabilityZ
        self.errorCorrectionEfficiency = errorCorrectionEfficiency
        self.blockSize = blockSize
        self.epsilonSecrecy = epsilonSecrecy
        self.epsilonCorrectness = epsilonCorrectness
    }

    enum CodingKeys: String, CodingKey {
        case probabilityZ, errorCorrectionEfficiency, blockSize, epsilonSecrecy, epsilonCorrectness
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = KeySettings()
        probabilityZ = try container.decode(Double.self, forKey: .probabilityZ, in: 0...1, default: defaults.probabilityZ,
                                            what: "a probability")
        guard probabilityZ > 0, probabilityZ < 1 else {
            throw container.invalid(.probabilityZ, "\(probabilityZ) leaves one basis unmeasured; expected 0 < probability_z < 1")
        }
        errorCorrectionEfficiency = try container.decode(Double.self, forKey: .errorCorrectionEfficiency, in: 1...10,
                                                         default: defaults.errorCorrectionEfficiency,
                                                         what: "an error-correction inefficiency f ≥ 1")
        blockSize = try container.decode(Double.self, forKey: .blockSize, in: 1...1e15, default: defaults.blockSize,
                                         what: "a block size in key bits")
        epsilonSecrecy = try container.decode(Double.self, forKey: .epsilonSecrecy, in: 1e-300...0.5,
                                              default: defaults.epsilonSecrecy, what: "a secrecy parameter")
        epsilonCorrectness = try container.decode(Double.self, forKey: .epsilonCorrectness, in: 1e-300...0.5,
                                                  default: defaults.epsilonCorrectness, what: "a correctness parameter")
    }
}

/// The key figures of one operating point: predicted QBER, secret key rates and the repeaterless bound.
public struct KeyFigures: Sendable, Equatable, Encodable {
    /// Predicted QBER in Z, 1 − 2·½(ρ₀₁,₀₁ + ρ₁₀,₁₀) = ρ₀₀,₀₀ + ρ₁₁,₁₁ of the delivered state.
    public var qberZ: Double
    /// Predicted QBER in X, ½ − |ρ₀₁,₁₀| of the delivered state.
    public var qberX: Double
    /// Asymptotic secret bits per delivered pair (sifting included).
    public var secretBitsPerPair: Double
    /// Asymptotic secret key rate in bits per second.
    public var keyRateBitsPerS: Double
    /// Finite-key secret key rate in bits per second for the configured block (key from the Z basis only).
    public var finiteKeyRateBitsPerS: Double
    /// Asymptotic secret bits per attempt (channel use).
    public var keyBitsPerAttempt: Double
    /// End-to-end transmissivity η = t_A·t_B of the two arms.
    public var transmissivity: Double
    /// The repeaterless bound −log₂(1 − η) in bits per attempt.
    public var plobBitsPerAttempt: Double
    /// ``keyBitsPerAttempt`` over ``plobBitsPerAttempt``: below 1 for any repeaterless link; above 1 only with
    /// heralding and memories (or single-click's √η scaling).
    public var plobRatio: Double

    public init(qberZ: Double, qberX: Double, secretBitsPerPair: Double, keyRateBitsPerS: Double, finiteKeyRateBitsPerS: Double,
                keyBitsPerAttempt: Double, transmissivity: Double, plobBitsPerAttempt: Double, plobRatio: Double) {
        self.qberZ = qberZ
        self.qberX = qberX
        self.secretBitsPerPair = secretBitsPerPair
        self.keyRateBitsPerS = keyRateBitsPerS
        self.finiteKeyRateBitsPerS = finiteKeyRateBitsPerS
        self.keyBitsPerAttempt = keyBitsPerAttempt
        self.transmissivity = transmissivity
        self.plobBitsPerAttempt = plobBitsPerAttempt
        self.plobRatio = plobRatio
    }

    /// The figures of a delivered `state` heralded with probability `successProbability` per attempt at
    /// `rateHz` attempts per second over a link of end-to-end transmissivity `transmissivity`.
    public init(state: HeraldedState, rateHz: Double, transmissivity: Double, settings: KeySettings) {
        let eZ = min(max(1 - 2 * state.population, 0), 1)
        let eX = min(max(0.5 - state.coherence, 0), 1)
        let perPair = state.successProbability > 0 ? KeyRate.asymptoticBitsPerPair(qberZ: eZ, qberX: eX, settings: settings) : 0
        let finitePerPair = state.successProbability > 0 ? KeyRate.finiteBitsPerPair(qberZ: eZ, qberX: eX, settings: settings) : 0
        let perAttempt = state.successProbability * perPair
        let bound = KeyRate.plobBound(transmissivity: transmissivity)
        self.init(qberZ: eZ, qberX: eX, secretBitsPerPair: perPair, keyRateBitsPerS: perAttempt * rateHz,
                  finiteKeyRateBitsPerS: state.successProbability * finitePerPair * rateHz, keyBitsPerAttempt: perAttempt,
                  transmissivity: transmissivity, plobBitsPerAttempt: bound,
                  plobRatio: bound > 0 ? perAttempt / bound : (perAttempt > 0 ? .infinity : 0))
    }
}
