import Correlation
import LinkModel
import Logging
import Planner

/// Everything a coordinator (or node) needs to watch its link, in one place: it takes observations,
/// heralds and node states, keeps the metrics, evaluates the alert rules, sends transitions to the
/// sinks, runs the re-tuning, and serves as the ``StatusSource`` of the status server.
public actor LinkMonitor: StatusSource {
    /// The link's name.
    public let link: String
    /// `coordinator` or `node`.
    public let role: String
    /// The metrics (thread-safe; usable without awaiting the actor).
    public nonisolated let metrics: LinkMetrics
    private let configuration: MonitoringConfiguration
    private var evaluator: AlertEvaluator
    private let dispatcher: AlertDispatcher
    private let retuner: Retuner?
    private var autoTuner: AutoTuner
    private let logger: Logger
    private var latest: LinkObservation?
    private var analysis: LinkAnalysisSnapshot?
    private var firstPs: Int64?
    private var heralds: [HeraldSummary] = []
    private var nodes: [NodeStatus] = []
    private var refusals: RefusalCounts?
    private var tuning: TuningStatus
    private var stopped = false
    private var past = StatusHistory()
    /// Number of heralds kept for the status page.
    public let recentHeraldLimit = 20

    /// A monitor for `link` as configured (its `monitoring:` section, or the defaults), sending alerts to the
    /// log, to `history` and to the configured webhook, plus any `extraSinks`. The planned operating point is
    /// `point`, else the resolved link's attempt rate (``ResolvedLink/attempts``: `simulation.repetition_rate_hz`
    /// before `model.clock.repetition_rate_hz`) with the model's knob.
    /// - Throws: ``MonitoringError`` when the configuration does not resolve or the webhook is unusable.
    public init(link: LinkConfiguration, role: String, history: (any AlertHistoryStore)?, extraSinks: [any AlertSink] = [],
                point: OperatingPoint? = nil, logger: Logger) throws(MonitoringError) {
        let resolved: ResolvedLink
        do {
            resolved = try ResolvedLink(link)
        } catch {
            throw MonitoringError(.invalidConfiguration, "\(error)", hint: "fix the configuration (qlink config check FILE)")
        }
        self.link = link.name
        self.role = role
        self.logger = logger
        let configuration = link.monitoring ?? MonitoringConfiguration()
        self.configuration = configuration
        metrics = LinkMetrics(link: link.name, role: role)
        let model = resolved.model
        let planned = point ?? resolved.attempts.map { OperatingPoint(repetitionRateHz: $0.rateHz, knob: model?.protocol.knob) }
        let prediction = model.flatMap { model in planned.map { PlannedPrediction(model: model, point: $0) } }
        evaluator = AlertEvaluator(rules: configuration.alerts, planned: configuration.planned, prediction: prediction,
                                   expectedNodes: role == "coordinator" ? link.labs.map(\.node) : [])
        var sinks: [any AlertSink] = [LogAlertSink(logger: logger)]
        if let history { sinks.append(HistoryAlertSink(store: history)) }
        if let webhook = configuration.webhook { sinks.append(try WebhookAlertSink(webhook)) }
        sinks += extraSinks
        dispatcher = AlertDispatcher(link: link.name, sinks: sinks, logger: logger)
        retuner = model.map { Retuner(model: $0, configuration: configuration.retune) }
        autoTuner = AutoTuner(configuration: configuration.retune)
        tuning = TuningStatus(repetitionRateHz: planned?.repetitionRateHz, knob: planned?.knob ?? model?.protocol.knob,
                              autoTune: configuration.retune.autoTune)
        if let rate = tuning.repetitionRateHz { metrics.setRepetitionRate(currentHz: rate, recommendedHz: nil) }
        if let prediction { metrics.setPlanned(prediction) }
    }

    /// The planner's prediction the measurements are compared with.
    public var prediction: PlannedPrediction? { evaluator.prediction }

    /// Feeds one observation: metrics, rules, sinks. Returns the transitions it caused.
    @discardableResult
    public func observe(_ observation: LinkObservation) async -> [AlertTransition] {
        if firstPs == nil { firstPs = observation.timePs }
        latest = observation
        metrics.update(with: observation)
        for (outcome, count) in observation.heraldOutcomes where count > 0 { metrics.recordHeralds(outcome: outcome, count: count) }
        let transitions = evaluator.evaluate(observation)
        past.append(HistoryPoint(observation))
        past.append(transitions)
        metrics.setAlerts(evaluator.states)
        await dispatcher.dispatch(transitions)
        return transitions
    }

    /// Adds a decided herald to the recent list.
    public func recordHerald(_ herald: HeraldSummary) {
        heralds.append(herald)
        if heralds.count > recentHeraldLimit { heralds.removeFirst(heralds.count - recentHeraldLimit) }
    }

    /// Replaces the live analysis shown in the status (the coordinator's latest ``LinkAnalysisSnapshot``).
    /// Its tomographies (all coincidences, or each herald state) set the `qlink_tomography_*` gauges.
    public func setAnalysis(_ snapshot: LinkAnalysisSnapshot?) {
        analysis = snapshot
        for tomography in snapshot?.tomography ?? [] { metrics.update(tomography: tomography) }
    }

    /// Replaces the node list shown in the status.
    public func setNodes(_ nodes: [NodeStatus]) { self.nodes = nodes }

    /// Replaces the refusal counts shown in the status (coordinator).
    public func setRefusals(_ refusals: RefusalCounts) { self.refusals = refusals }

    /// Marks the link stopped (shown as `stopped`).
    public func markStopped() { stopped = true }

    /// Re-runs the planner from `measurement` (taken at `timePs`) and decides what to do. Nil without a model.
    /// A window too thin to re-tune from (``RetuneMeasurement/shortfall(minSpanSeconds:)``: less link time than the
    /// monitoring window, or too few counts) is kept, with the reason.
    /// The caller sends a `.change` to the nodes and calls ``applied(_:)`` once they acknowledge it.
    public func retune(_ measurement: RetuneMeasurement, atPs timePs: Int64) -> TuningDecision? {
        guard let retuner else { return nil }
        let decision: TuningDecision
        if let shortfall = measurement.shortfall(minSpanSeconds: configuration.windowSeconds) {
            decision = .keep(reason: "waiting for a representative window: " + shortfall)
        } else {
            do {
                let recommendation = try retuner.recommend(from: measurement)
                tuning.recommendedRateHz = recommendation.best?.point.repetitionRateHz
                tuning.recommendedKnob = recommendation.best?.point.knob
                decision = autoTuner.decide(recommendation, atPs: timePs)
            } catch {
                decision = .keep(reason: "cannot estimate the arms: \(error)")
            }
        }
        tuning.lastDecision = decision.reason
        if let rate = tuning.repetitionRateHz { metrics.setRepetitionRate(currentHz: rate, recommendedHz: tuning.recommendedRateHz) }
        logger.info("retune.decision", metadata: ["retune.reason": "\(decision.reason)"])
        return decision
    }

    /// Records that `point` is now in force (after the nodes acknowledged it); later predictions use it.
    public func applied(_ point: OperatingPoint) {
        tuning.repetitionRateHz = point.repetitionRateHz
        tuning.knob = point.knob
        metrics.setRepetitionRate(currentHz: point.repetitionRateHz, recommendedHz: tuning.recommendedRateHz)
        if let model = retuner?.model {
            let prediction = PlannedPrediction(model: model, point: point)
            evaluator.prediction = prediction
            metrics.setPlanned(prediction)
        }
    }

    /// Shows the repetition-rate schedule in force (docs/protocol.md, "Repetition-rate changes"): `rateHz` from link
    /// time `sincePs` (both nil: the configured rate from the start), the proposed change not yet decided, and on a
    /// node why its source is held.
    public func setRateSchedule(rateHz: Double?, sincePs: Int64?, pendingChangeId: UInt64?, pendingRateHz: Double?, hold: String? = nil) {
        if let rateHz { tuning.repetitionRateHz = rateHz }
        tuning.rateSincePs = sincePs
        tuning.pendingChangeId = pendingChangeId
        tuning.pendingRateHz = pendingRateHz
        tuning.rateHold = hold
    }

    /// The alerts that are not ok.
    public var activeAlerts: [AlertState] { evaluator.activeAlerts }

    /// The rate baselines the rules have learned or were given (keys `arm NAME`, `channel N`), Hz.
    public var baselineRatesHz: [String: Double] { evaluator.baselineRatesHz }

    public func currentStatus() async -> LinkStatus {
        let active = evaluator.activeAlerts
        let state: String
        if stopped {
            state = "stopped"
        } else if latest == nil {
            state = "starting"
        } else {
            state = active.contains { $0.severity == .critical } ? "degraded" : "running"
        }
        let now = latest?.timePs ?? 0
        return LinkStatus(link: link, state: state, role: role, timePs: now,
                          uptimeSeconds: Double(now - (firstPs ?? now)) / picosecondsPerSecond, observation: latest, analysis: analysis,
                          planned: evaluator.prediction, alerts: active, recentHeralds: heralds, nodes: nodes, tuning: tuning,
                          refusals: refusals)
    }

    public func metricsExposition() async -> String { metrics.exposition() }

    public func history(seconds: Double) async -> StatusHistoryReply { past.reply(seconds: seconds) }
}
