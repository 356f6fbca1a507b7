import Correlation

/// What the coordinator (or a node) measured over the rolling window ending at `timePs`.
///
/// Every field except the time is optional: a field that is nil was not measured in this window and
/// leaves the rules that read it unchanged. Rates are in Hz, times in picoseconds.
public struct LinkObservation: Sendable, Codable, Equatable {
    /// End of the window, on the coordinator's time axis, in picoseconds.
    public var timePs: Int64
    /// Singles rate of each detector channel (channel number → Hz; a JSON object keyed by the channel number).
    public var channelRatesHz: [Int: Double]
    /// Count rate of each arm (lab name → the sum of its channels, or its herald-detector rate).
    public var armRatesHz: [String: Double]
    /// Coincidence rate (raw) between the labs.
    public var coincidenceRateHz: Estimate?
    /// Accidental coincidence rate.
    public var accidentalRateHz: Estimate?
    /// Coincidences-to-accidentals ratio.
    public var car: Estimate?
    /// Two-photon visibility by basis name (`z`, `x`, …).
    public var visibility: [String: Estimate]
    /// Fidelity to the target Bell state: the full fidelity, or its Z/X lower bound when
    /// ``fidelityIsLowerBound`` (show it with `LinkAnalysisFormat.fidelity(_:isLowerBound:)`).
    public var fidelity: Estimate?
    /// True when ``fidelity`` is the lower bound from Z and X only (no Y measured), not the fidelity itself.
    public var fidelityIsLowerBound: Bool
    /// Heralded pairs per second.
    public var heraldRateHz: Estimate?
    /// Heralds in the window by outcome (`fail`, `psi_plus`, `psi_minus`).
    public var heraldOutcomes: [String: Int64]
    /// Tracked clock offset `t_B − t_A`.
    public var clockOffsetPs: Double?
    /// Clock frequency difference in parts per million.
    public var clockDriftPpm: Double?
    /// Measured offset minus the tracked offset (its absolute value is what the clock rule watches).
    public var clockResidualPs: Double?
    /// When each node was last heard from (node name → time in picoseconds).
    public var nodeLastSeenPs: [String: Int64]
    /// Days until each certificate expires (certificate name → days; negative when expired).
    public var certificateDaysLeft: [String: Double]
    /// QBER by basis (`z`, `x`) from the live analysis, raw counts, over the analysed run (``addKey(from:settings:)``).
    public var qber: [String: Estimate]?
    /// Measured secret key rate in bits per second over the analysed run (``addKey(from:settings:)``).
    public var keyRateBitsPerS: Estimate?
    /// Heralded link: QBER by herald state (`psi_plus`, `psi_minus`) and basis (`z`, `x`), each state's heralds against
    /// its own Bell state (raw counts, over the analysed run); ``qber`` pools them.
    public var heraldedQber: [String: [String: Estimate]]?

    /// An observation at `timePs` with nothing measured yet.
    public init(timePs: Int64, channelRatesHz: [Int: Double] = [:], armRatesHz: [String: Double] = [:],
                coincidenceRateHz: Estimate? = nil, accidentalRateHz: Estimate? = nil, car: Estimate? = nil,
                visibility: [String: Estimate] = [:], fidelity: Estimate? = nil, fidelityIsLowerBound: Bool = false, heraldRateHz: Estimate? = nil,
                heraldOutcomes: [String: Int64] = [:], clockOffsetPs: Double? = nil, clockDriftPpm: Double? = nil,
                clockResidualPs: Double? = nil, nodeLastSeenPs: [String: Int64] = [:],
                certificateDaysLeft: [String: Double] = [:]) {
        self.timePs = timePs
        self.channelRatesHz = channelRatesHz
        self.armRatesHz = armRatesHz
        self.coincidenceRateHz = coincidenceRateHz
        self.accidentalRateHz = accidentalRateHz
        self.car = car
        self.visibility = visibility
        self.fidelity = fidelity
        self.fidelityIsLowerBound = fidelityIsLowerBound
        self.heraldRateHz = heraldRateHz
        self.heraldOutcomes = heraldOutcomes
        self.clockOffsetPs = clockOffsetPs
        self.clockDriftPpm = clockDriftPpm
        self.clockResidualPs = clockResidualPs
        self.nodeLastSeenPs = nodeLastSeenPs
        self.certificateDaysLeft = certificateDaysLeft
    }
}

/// How bad an alert is.
public enum Severity: String, Sendable, Codable, Comparable, CaseIterable {
    case ok, warning, critical

    private var rank: Int {
        switch self {
        case .ok: 0
        case .warning: 1
        case .critical: 2
        }
    }

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// Picoseconds per second.
let picosecondsPerSecond: Double = 1e12
