/// The rules QLink evaluates.
public enum AlertRule: String, Sendable, Codable, CaseIterable {
    /// Fidelity over the window below F_min.
    case fidelityLow = "fidelity_low"
    /// An arm's count rate dropped by more than the configured dB against its baseline.
    case armRateDrop = "arm_rate_drop"
    /// One detector channel's count rate dropped (a dead or failing detector).
    case channelRateDrop = "channel_rate_drop"
    /// Coincidences-to-accidentals ratio low.
    case carLow = "car_low"
    /// Clock-offset residual large (a clock jump or a lost lock).
    case clockResidual = "clock_residual"
    /// A node has not been heard from.
    case nodeSilent = "node_silent"
    /// A certificate expires soon.
    case certificateExpiry = "certificate_expiry"
    /// A measured rate more than k standard errors below the planner's prediction.
    case rateBelowPlan = "rate_below_plan"
    /// The measured fidelity more than k standard errors below the planner's prediction.
    case fidelityBelowPlan = "fidelity_below_plan"

    /// True when low values are bad.
    var badWhenLow: Bool {
        switch self {
        case .fidelityLow, .carLow, .certificateExpiry: true
        case .armRateDrop, .channelRateDrop, .clockResidual, .nodeSilent, .rateBelowPlan, .fidelityBelowPlan: false
        }
    }

    /// The unit of the watched value, for messages.
    var unit: String {
        switch self {
        case .fidelityLow, .carLow: ""
        case .armRateDrop, .channelRateDrop: " dB"
        case .clockResidual: " ps"
        case .nodeSilent: " s"
        case .certificateExpiry: " days"
        case .rateBelowPlan, .fidelityBelowPlan: " σ"
        }
    }

    /// What the watched value is, for messages.
    var quantity: String {
        switch self {
        case .fidelityLow: "fidelity"
        case .armRateDrop: "arm count-rate drop"
        case .channelRateDrop: "channel count-rate drop"
        case .carLow: "coincidences-to-accidentals ratio"
        case .clockResidual: "clock-offset residual"
        case .nodeSilent: "time since last heard"
        case .certificateExpiry: "days to certificate expiry"
        case .rateBelowPlan: "shortfall of the rate below the plan"
        case .fidelityBelowPlan: "shortfall of the fidelity below the plan"
        }
    }
}

/// The current state of one rule for one subject (an arm, a channel, a node, the link).
public struct AlertState: Sendable, Codable, Equatable {
    /// The rule.
    public var rule: AlertRule
    /// What it is about: `link`, an arm or node name, `channel 3`, a certificate name.
    public var subject: String
    /// The severity in force.
    public var severity: Severity
    /// When the severity in force began, in picoseconds.
    public var sincePs: Int64
    /// The latest watched value.
    public var value: Double
    /// A sentence for people.
    public var message: String

    public init(rule: AlertRule, subject: String, severity: Severity, sincePs: Int64, value: Double, message: String) {
        self.rule = rule
        self.subject = subject
        self.severity = severity
        self.sincePs = sincePs
        self.value = value
        self.message = message
    }
}

/// A change of an alert's severity.
public struct AlertTransition: Sendable, Codable, Equatable {
    /// The rule.
    public var rule: AlertRule
    /// What it is about.
    public var subject: String
    /// Severity before.
    public var from: Severity
    /// Severity after.
    public var to: Severity
    /// When the change was decided, in picoseconds.
    public var atPs: Int64
    /// The watched value at that time.
    public var value: Double
    /// The level that was crossed (warning or critical level of the rule), if any.
    public var threshold: Double?
    /// A sentence for people.
    public var message: String

    public init(rule: AlertRule, subject: String, from: Severity, to: Severity, atPs: Int64, value: Double,
                threshold: Double?, message: String) {
        self.rule = rule
        self.subject = subject
        self.from = from
        self.to = to
        self.atPs = atPs
        self.value = value
        self.threshold = threshold
        self.message = message
    }

    /// True when the alert became worse.
    public var isRaise: Bool { to > from }
}
