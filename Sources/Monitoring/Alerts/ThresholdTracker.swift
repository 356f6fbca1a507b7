import LinkModel

/// Follows one watched value against a ``ThresholdRule`` and decides its severity.
///
/// Each level (warning, critical) is a small two-state machine: it becomes active once the value has
/// been beyond the level continuously for `forPs`, and inactive once the value has been back on the good
/// side of the level by at least `hysteresis` continuously for `clearForPs`. The severity is the highest
/// active level. Time comes from the samples, never from a clock.
public struct ThresholdTracker: Sendable, Equatable {
    private struct Level: Sendable, Equatable {
        var threshold: Double
        var active = false
        /// Start of the current run of samples that argue for a change, or nil.
        var pendingSincePs: Int64?
    }

    /// True when low values are bad (fidelity, CAR), false when high values are bad (drops, residuals).
    public let badWhenLow: Bool
    private let forPs: Int64
    private let clearForPs: Int64
    private let hysteresis: Double
    private var warning: Level?
    private var critical: Level?
    /// When the severity in force began.
    public private(set) var sincePs: Int64 = 0

    /// A tracker for `rule`, in the direction `badWhenLow`.
    public init(rule: ThresholdRule, badWhenLow: Bool) {
        self.badWhenLow = badWhenLow
        forPs = rule.forPs
        clearForPs = rule.clearForPs
        hysteresis = rule.hysteresis
        warning = rule.warning.map { Level(threshold: $0) }
        critical = rule.critical.map { Level(threshold: $0) }
    }

    /// A tracker with explicit parameters (times in picoseconds).
    public init(warning: Double?, critical: Double?, forPs: Int64, clearForPs: Int64, hysteresis: Double, badWhenLow: Bool) {
        self.badWhenLow = badWhenLow
        self.forPs = forPs
        self.clearForPs = clearForPs
        self.hysteresis = hysteresis
        self.warning = warning.map { Level(threshold: $0) }
        self.critical = critical.map { Level(threshold: $0) }
    }

    /// The severity in force.
    public var severity: Severity {
        if critical?.active == true { return .critical }
        if warning?.active == true { return .warning }
        return .ok
    }

    /// The level of `severity`, if the rule has one.
    public func threshold(of severity: Severity) -> Double? {
        switch severity {
        case .ok: nil
        case .warning: warning?.threshold
        case .critical: critical?.threshold
        }
    }

    /// Feeds the value measured at `timePs`; returns the new severity when it changed.
    /// A NaN value is ignored (nothing measured).
    public mutating func observe(_ value: Double, atPs timePs: Int64) -> Severity? {
        guard !value.isNaN else { return nil }
        let before = severity
        if var level = warning { step(&level, value, timePs); warning = level }
        if var level = critical { step(&level, value, timePs); critical = level }
        let after = severity
        guard after != before else { return nil }
        sincePs = timePs
        return after
    }

    private func step(_ level: inout Level, _ value: Double, _ timePs: Int64) {
        let beyond = badWhenLow ? value < level.threshold : value > level.threshold
        let recovered = badWhenLow ? value >= level.threshold + hysteresis : value <= level.threshold - hysteresis
        let arguesForChange = level.active ? recovered : beyond
        guard arguesForChange else {
            level.pendingSincePs = nil
            return
        }
        let since = level.pendingSincePs ?? timePs
        level.pendingSincePs = since
        if timePs - since >= (level.active ? clearForPs : forPs) {
            level.active.toggle()
            level.pendingSincePs = nil
        }
    }
}
