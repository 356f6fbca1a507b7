import Prometheus

/// Every metric family QLink exports: its full name and help text, defined once so that repeated
/// registrations agree.
public enum MetricFamily: String, CaseIterable, Sendable {
    case linkInfo = "qlink_link_info"
    case singlesRate = "qlink_singles_rate_hertz"
    case armRate = "qlink_arm_rate_hertz"
    case coincidenceRate = "qlink_coincidence_rate_hertz"
    case accidentalRate = "qlink_accidental_rate_hertz"
    case car = "qlink_coincidences_to_accidentals_ratio"
    case visibility = "qlink_visibility"
    case fidelity = "qlink_fidelity"
    case fidelityError = "qlink_fidelity_standard_error"
    case fidelityIsLowerBound = "qlink_fidelity_is_lower_bound"
    case heraldRate = "qlink_herald_rate_hertz"
    case heralds = "qlink_heralds_total"
    case clockOffset = "qlink_clock_offset_seconds"
    case clockDrift = "qlink_clock_drift_ratio"
    case clockResidual = "qlink_clock_residual_seconds"
    case sequenceGaps = "qlink_sequence_gaps_total"
    case spoolBytes = "qlink_spool_bytes"
    case spoolBatches = "qlink_spool_batches"
    case queueDepth = "qlink_queue_depth"
    case rejectedConnections = "qlink_rejected_connections_total"
    case refusedHandshakes = "qlink_refused_handshakes_total"
    case refusedHellos = "qlink_refused_hellos_total"
    case refusedTags = "qlink_refused_tags_total"
    case heraldLatency = "qlink_herald_latency_seconds"
    case batchLatency = "qlink_batch_latency_seconds"
    case nodeSilence = "qlink_node_silence_seconds"
    case certificateExpiry = "qlink_certificate_expiry_seconds"
    case repetitionRate = "qlink_repetition_rate_hertz"
    case recommendedRate = "qlink_recommended_repetition_rate_hertz"
    case alertSeverity = "qlink_alert_severity"
    case alertsActive = "qlink_alerts_active"
    case analysisDroppedBatches = "qlink_analysis_dropped_batches_total"

    /// The `# HELP` text.
    public var help: String {
        switch self {
        case .linkInfo: "The link this process serves and its role (value is always 1)"
        case .singlesRate: "Singles count rate per detector channel over the rolling window"
        case .armRate: "Count rate per arm (sum of the lab's channels) over the rolling window"
        case .coincidenceRate: "Raw coincidence rate between the labs over the rolling window"
        case .accidentalRate: "Estimated accidental coincidence rate over the rolling window"
        case .car: "Coincidences-to-accidentals ratio over the rolling window"
        case .visibility: "Two-photon correlation visibility per measurement basis"
        case .fidelity: "Fidelity to the target Bell state, or its lower bound from Z and X when qlink_fidelity_is_lower_bound is 1"
        case .fidelityError: "One standard error of qlink_fidelity"
        case .fidelityIsLowerBound: "1 when qlink_fidelity is the Z/X lower bound (no Y basis measured), 0 when it is the fidelity"
        case .heraldRate: "Heralded pairs per second over the rolling window"
        case .heralds: "Heralds decided, by outcome"
        case .clockOffset: "Tracked clock offset t_B - t_A between the labs"
        case .clockDrift: "Tracked fractional frequency difference of lab B's clock against lab A's (1e-6 is 1 ppm)"
        case .clockResidual: "Measured clock offset minus the tracked offset"
        case .sequenceGaps: "Tag batches missing from a node's sequence"
        case .spoolBytes: "Bytes waiting in a node's disk spool"
        case .spoolBatches: "Batches waiting in a node's disk spool"
        case .queueDepth: "Items waiting in an internal queue"
        case .rejectedConnections: "Messages refused after the handshake (malformed, unauthenticated), by reason"
        case .refusedHandshakes: "Handshakes refused by ZAP or by the CURVE handshake, by reason"
        case .refusedHellos: "Hellos refused because the certificate may not make the claim, by reason"
        case .refusedTags: "Tags dropped because the sending lab does not own their channel, by reason"
        case .heraldLatency: "Time from a station tag reaching the coordinator to its herald reaching a node"
        case .batchLatency: "Time from a node sending a tag batch to the coordinator analysing it"
        case .nodeSilence: "Seconds since a node was last heard from"
        case .certificateExpiry: "Seconds until a certificate expires (negative once expired)"
        case .repetitionRate: "Repetition rate in force"
        case .recommendedRate: "Repetition rate the planner recommends for the measured link"
        case .alertSeverity: "Alert state per rule and subject: 0 ok, 1 warning, 2 critical"
        case .alertsActive: "Number of active alerts by severity"
        case .analysisDroppedBatches: "Tag batches the live analysis could not take (its queue was full), journaled but not analysed"
        }
    }

    /// The descriptor passed to the registry.
    var descriptor: MetricNameDescriptor {
        MetricNameDescriptor(metricName: rawValue, unitName: "", helpText: help)
    }
}
