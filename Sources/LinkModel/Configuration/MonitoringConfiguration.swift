/// How a link is watched: where the coordinator serves status and metrics, which alert rules apply,
/// where alerts go, and whether the planner may re-tune the link while it runs.
///
/// YAML: the optional `monitoring:` section of a link configuration (see `docs/configuration.md`).
/// Every part has defaults, so `monitoring: {}` switches monitoring on with the default rules.
public struct MonitoringConfiguration: Decodable, Sendable, Equatable {
    /// Endpoint (`tcp://HOST:PORT`) of the coordinator's HTTP status, metrics and dashboard server.
    public var statusEndpoint: Endpoint?
    /// Length of the rolling window the live estimates are taken over, in seconds.
    public var windowSeconds: Double
    /// The alert rules.
    public var alerts: AlertRulesConfiguration
    /// Measured-versus-planned checks.
    public var planned: PlannedComparisonConfiguration
    /// Where alerts are posted besides the log and the journal.
    public var webhook: WebhookConfiguration?
    /// Live re-tuning by the planner.
    public var retune: RetuneConfiguration

    /// Monitoring with every default.
    public init(statusEndpoint: Endpoint? = nil, windowSeconds: Double = 10, alerts: AlertRulesConfiguration = .init(),
                planned: PlannedComparisonConfiguration = .init(), webhook: WebhookConfiguration? = nil,
                retune: RetuneConfiguration = .init()) {
        self.statusEndpoint = statusEndpoint
        self.windowSeconds = windowSeconds
        self.alerts = alerts
        self.planned = planned
        self.webhook = webhook
        self.retune = retune
    }

    enum CodingKeys: String, CodingKey {
        case statusEndpoint, windowSeconds = "windowS", alerts, planned, webhook, retune
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        statusEndpoint = try container.decodeIfPresent(Endpoint.self, forKey: .statusEndpoint)
        if let endpoint = statusEndpoint, endpoint.transport != .tcp {
            throw container.invalid(.statusEndpoint, "the status server listens on TCP; write tcp://HOST:PORT")
        }
        windowSeconds = try container.decode(Double.self, forKey: .windowSeconds, in: 1...3600, default: 10,
                                             what: "a rolling window in seconds")
        alerts = try container.decodeIfPresent(AlertRulesConfiguration.self, forKey: .alerts) ?? .init()
        planned = try container.decodeIfPresent(PlannedComparisonConfiguration.self, forKey: .planned) ?? .init()
        webhook = try container.decodeIfPresent(WebhookConfiguration.self, forKey: .webhook)
        retune = try container.decodeIfPresent(RetuneConfiguration.self, forKey: .retune) ?? .init()
    }
}

/// One threshold rule: a warning and a critical level, how long a value must stay beyond a level before
/// the alert is raised, and how far and how long it must come back before it clears (hysteresis).
///
/// YAML: `{ warning: 0.9, critical: 0.8, for_s: 60, clear_for_s: 10, hysteresis: 0.01, enabled: true }`.
/// Whether "beyond" means below or above depends on the rule (fidelity is bad when low, clock residual
/// when high).
public struct ThresholdRule: Decodable, Sendable, Equatable {
    /// Level that raises a warning; nil for no warning level.
    public var warning: Double?
    /// Level that raises a critical alert; nil for no critical level.
    public var critical: Double?
    /// How long the value must stay beyond a level before the alert is raised, in seconds.
    public var forSeconds: Double
    /// How long the value must stay back on the good side (by `hysteresis`) before the alert clears, in seconds.
    public var clearForSeconds: Double
    /// How far past a level, on the good side, the value must come back to clear the alert (same unit as the levels).
    public var hysteresis: Double
    /// False switches the rule off.
    public var enabled: Bool

    /// A rule with the given levels.
    public init(warning: Double?, critical: Double?, forSeconds: Double, clearForSeconds: Double = 10,
                hysteresis: Double = 0, enabled: Bool = true) {
        self.warning = warning
        self.critical = critical
        self.forSeconds = forSeconds
        self.clearForSeconds = clearForSeconds
        self.hysteresis = hysteresis
        self.enabled = enabled
    }

    enum CodingKeys: String, CodingKey {
        case warning, critical, forSeconds = "forS", clearForSeconds = "clearForS", hysteresis, enabled
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        warning = try container.decodeIfPresent(Double.self, forKey: .warning)
        critical = try container.decodeIfPresent(Double.self, forKey: .critical)
        for (key, value) in [(CodingKeys.warning, warning), (.critical, critical)] {
            if let value, !value.isFinite || abs(value) > 1e15 {
                throw container.invalid(key, "\(value) is not a usable level; expected a finite number")
            }
        }
        guard warning != nil || critical != nil else {
            throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath,
                debugDescription: "a rule needs a warning level, a critical level or both"))
        }
        forSeconds = try container.decode(Double.self, forKey: .forSeconds, in: 0...86_400, default: 0,
                                          what: "a duration in seconds")
        clearForSeconds = try container.decode(Double.self, forKey: .clearForSeconds, in: 0...86_400, default: 10,
                                               what: "a duration in seconds")
        hysteresis = try container.decode(Double.self, forKey: .hysteresis, in: 0...1e15, default: 0,
                                          what: "a non-negative hysteresis")
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
    }

    /// `forSeconds` in picoseconds.
    public var forPs: Int64 { Int64((forSeconds * 1e12).rounded()) }
    /// `clearForSeconds` in picoseconds.
    public var clearForPs: Int64 { Int64((clearForSeconds * 1e12).rounded()) }
}

/// The alert rules of a link. Each has defaults; a rule given in YAML replaces its default whole.
public struct AlertRulesConfiguration: Decodable, Sendable, Equatable {
    /// Fidelity (rolling window) below a level (F_min).
    public var fidelityBelow: ThresholdRule
    /// An arm's count rate below its baseline by more than a number of dB.
    public var armRateDropDb: ThresholdRule
    /// One detector channel's count rate below its baseline by more than a number of dB (a dead detector).
    public var channelRateDropDb: ThresholdRule
    /// Coincidences-to-accidentals ratio below a level.
    public var carBelow: ThresholdRule
    /// Clock-offset residual (measured offset minus tracked offset) above a number of picoseconds.
    public var clockResidualAbovePs: ThresholdRule
    /// A node silent (no batch, no heartbeat) for more than a number of seconds.
    public var nodeSilentS: ThresholdRule
    /// A certificate expiring within a number of days.
    public var certificateExpiryDays: ThresholdRule
    /// Seconds at the start of a run over which each arm's and channel's baseline rate is learned
    /// (unless the planner predicts it).
    public var baselineSeconds: Double

    /// The default rules.
    public init(
        fidelityBelow: ThresholdRule = .init(warning: 0.85, critical: 0.8, forSeconds: 60, hysteresis: 0.01),
        armRateDropDb: ThresholdRule = .init(warning: 1.5, critical: 6, forSeconds: 20, hysteresis: 0.5),
        channelRateDropDb: ThresholdRule = .init(warning: 3, critical: 10, forSeconds: 20, hysteresis: 1),
        carBelow: ThresholdRule = .init(warning: 10, critical: 3, forSeconds: 30, hysteresis: 1),
        clockResidualAbovePs: ThresholdRule = .init(warning: 500, critical: 2000, forSeconds: 5, hysteresis: 100),
        nodeSilentS: ThresholdRule = .init(warning: 5, critical: 30, forSeconds: 0, clearForSeconds: 0),
        certificateExpiryDays: ThresholdRule = .init(warning: 30, critical: 7, forSeconds: 0, clearForSeconds: 0),
        baselineSeconds: Double = 30
    ) {
        self.fidelityBelow = fidelityBelow
        self.armRateDropDb = armRateDropDb
        self.channelRateDropDb = channelRateDropDb
        self.carBelow = carBelow
        self.clockResidualAbovePs = clockResidualAbovePs
        self.nodeSilentS = nodeSilentS
        self.certificateExpiryDays = certificateExpiryDays
        self.baselineSeconds = baselineSeconds
    }

    enum CodingKeys: String, CodingKey {
        case fidelityBelow, armRateDropDb, channelRateDropDb, carBelow, clockResidualAbovePs, nodeSilentS,
             certificateExpiryDays, baselineSeconds = "baselineS"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = AlertRulesConfiguration()
        func rule(_ key: CodingKeys, _ fallback: ThresholdRule, below: Bool, range: ClosedRange<Double>,
                  what: String) throws -> ThresholdRule {
            guard let rule = try container.decodeIfPresent(ThresholdRule.self, forKey: key) else { return fallback }
            for level in [rule.warning, rule.critical].compactMap({ $0 }) where !range.contains(level) {
                throw container.invalid(key, "level \(level) is out of range; expected \(what) between \(range.lowerBound) and \(range.upperBound)")
            }
            if let warning = rule.warning, let critical = rule.critical, below ? critical > warning : critical < warning {
                throw container.invalid(key, "the critical level \(critical) must be \(below ? "at or below" : "at or above") the warning level \(warning)")
            }
            return rule
        }
        fidelityBelow = try rule(.fidelityBelow, defaults.fidelityBelow, below: true, range: 0...1, what: "a fidelity")
        armRateDropDb = try rule(.armRateDropDb, defaults.armRateDropDb, below: false, range: 0...100, what: "a drop in dB")
        channelRateDropDb = try rule(.channelRateDropDb, defaults.channelRateDropDb, below: false, range: 0...100,
                                     what: "a drop in dB")
        carBelow = try rule(.carBelow, defaults.carBelow, below: true, range: 0...1e9, what: "a coincidences-to-accidentals ratio")
        clockResidualAbovePs = try rule(.clockResidualAbovePs, defaults.clockResidualAbovePs, below: false,
                                        range: 0...1e15, what: "a residual in picoseconds")
        nodeSilentS = try rule(.nodeSilentS, defaults.nodeSilentS, below: false, range: 0...86_400, what: "a silence in seconds")
        certificateExpiryDays = try rule(.certificateExpiryDays, defaults.certificateExpiryDays, below: true,
                                         range: 0...3650, what: "a number of days")
        baselineSeconds = try container.decode(Double.self, forKey: .baselineSeconds, in: 1...86_400,
                                               default: defaults.baselineSeconds, what: "a baseline duration in seconds")
    }
}

/// Flags measured rates and fidelity that fall more than `kSigma` standard errors below the planner's
/// prediction for the configured link.
public struct PlannedComparisonConfiguration: Decodable, Sendable, Equatable {
    /// False switches the comparison off.
    public var enabled: Bool
    /// How many standard errors below the prediction count as a shortfall.
    public var kSigma: Double
    /// How long a shortfall must last before it is raised, in seconds.
    public var forSeconds: Double
    /// How long the measurement must be back within `kSigma` before the alert clears, in seconds.
    public var clearForSeconds: Double

    public init(enabled: Bool = true, kSigma: Double = 5, forSeconds: Double = 60, clearForSeconds: Double = 10) {
        self.enabled = enabled
        self.kSigma = kSigma
        self.forSeconds = forSeconds
        self.clearForSeconds = clearForSeconds
    }

    enum CodingKeys: String, CodingKey {
        case enabled, kSigma, forSeconds = "forS", clearForSeconds = "clearForS"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        kSigma = try container.decode(Double.self, forKey: .kSigma, in: 0.5...100, default: 5, what: "a number of standard errors")
        forSeconds = try container.decode(Double.self, forKey: .forSeconds, in: 0...86_400, default: 60, what: "a duration in seconds")
        clearForSeconds = try container.decode(Double.self, forKey: .clearForSeconds, in: 0...86_400, default: 10,
                                               what: "a duration in seconds")
    }
}

/// An HTTP endpoint that receives every alert transition as a JSON POST.
public struct WebhookConfiguration: Decodable, Sendable, Equatable {
    /// `http://` or `https://` URL.
    public var url: String
    /// Seconds to wait for the receiver before giving up on one post.
    public var timeoutSeconds: Double

    public init(url: String, timeoutSeconds: Double = 5) {
        self.url = url
        self.timeoutSeconds = timeoutSeconds
    }

    enum CodingKeys: String, CodingKey {
        case url, timeoutSeconds = "timeoutS"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        url = try container.decode(String.self, forKey: .url)
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8, !url.contains(" ") else {
            throw container.invalid(.url, "'\(url)' is not an http:// or https:// URL")
        }
        timeoutSeconds = try container.decode(Double.self, forKey: .timeoutSeconds, in: 0.1...300, default: 5,
                                              what: "a timeout in seconds")
    }
}

/// Live re-tuning: the coordinator re-runs the planner from measured arm efficiencies and recommends (or,
/// with `autoTune`, sets) the repetition rate and brightness knob that minimise the cost per pair.
public struct RetuneConfiguration: Decodable, Sendable, Equatable {
    /// True lets the coordinator send new settings to the nodes; false only recommends.
    public var autoTune: Bool
    /// Lowest delivered fidelity a recommended point must reach.
    public var minFidelity: Double
    /// Lowest repetition rate the coordinator may set, in Hz.
    public var minRateHz: Double?
    /// Highest repetition rate the coordinator may set, in Hz (never above the link's limit).
    public var maxRateHz: Double?
    /// Shortest time between two changes, in seconds.
    public var minDwellSeconds: Double
    /// Smallest relative improvement of the predicted cost per pair that justifies a change (0.05 = 5 %).
    public var minImprovement: Double
    /// Number of repetition rates the planner evaluates between the bounds.
    public var ratePoints: Int
    /// True lets the planner change the protocol's knob (α, mean pairs per attempt) too; false keeps it.
    public var tuneKnob: Bool

    public init(autoTune: Bool = false, minFidelity: Double = 0.8, minRateHz: Double? = nil, maxRateHz: Double? = nil,
                minDwellSeconds: Double = 300, minImprovement: Double = 0.05, ratePoints: Int = 80, tuneKnob: Bool = true) {
        self.tuneKnob = tuneKnob
        self.autoTune = autoTune
        self.minFidelity = minFidelity
        self.minRateHz = minRateHz
        self.maxRateHz = maxRateHz
        self.minDwellSeconds = minDwellSeconds
        self.minImprovement = minImprovement
        self.ratePoints = ratePoints
    }

    enum CodingKeys: String, CodingKey {
        case autoTune, minFidelity, minRateHz, maxRateHz, minDwellSeconds = "minDwellS", minImprovement, ratePoints, tuneKnob
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        autoTune = try container.decodeIfPresent(Bool.self, forKey: .autoTune) ?? false
        minFidelity = try container.decode(Double.self, forKey: .minFidelity, in: 0...1, default: 0.8, what: "a fidelity")
        minRateHz = try container.decodeIfPresent(Double.self, forKey: .minRateHz)
        maxRateHz = try container.decodeIfPresent(Double.self, forKey: .maxRateHz)
        for (key, value) in [(CodingKeys.minRateHz, minRateHz), (.maxRateHz, maxRateHz)] {
            if let value, !(value > 0 && value <= 1e12) {
                throw container.invalid(key, "\(value) is out of range; expected a repetition rate between 0 and 1e12 Hz")
            }
        }
        if let low = minRateHz, let high = maxRateHz, low > high {
            throw container.invalid(.maxRateHz, "max_rate_hz \(high) is below min_rate_hz \(low)")
        }
        minDwellSeconds = try container.decode(Double.self, forKey: .minDwellSeconds, in: 0...604_800, default: 300,
                                               what: "a dwell time in seconds")
        minImprovement = try container.decode(Double.self, forKey: .minImprovement, in: 0...1, default: 0.05,
                                              what: "a relative improvement")
        ratePoints = try container.decode(Int.self, forKey: .ratePoints, in: 3...2000, default: 80, what: "a number of rates")
        tuneKnob = try container.decodeIfPresent(Bool.self, forKey: .tuneKnob) ?? true
    }

    /// `minDwellSeconds` in picoseconds.
    public var minDwellPs: Int64 { Int64((minDwellSeconds * 1e12).rounded()) }
}
