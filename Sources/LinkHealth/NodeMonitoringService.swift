import Foundation
import LinkModel
import Monitoring
import Protocol
import ServiceLifecycle
import Services

/// Watches a running node: its spool, unacknowledged batches, heralds, refusals, and the coordinator's
/// status as the node received it, for the node's own status server and metrics.
public struct NodeMonitoringService: Service {
    /// The node watched.
    public let node: NodeService
    /// The node's metrics and status server source.
    public let monitor: LinkMonitor
    /// The link (monitoring settings, labs).
    public let link: LinkConfiguration

    /// Watches `node` for `monitor`, reading the link's monitoring settings from `link`.
    public init(node: NodeService, monitor: LinkMonitor, link: LinkConfiguration) {
        self.node = node
        self.monitor = monitor
        self.link = link
    }

    /// Observes once a second until cancelled or shut down, then marks the monitor stopped.
    public func run() async throws {
        var observer = StatusObserver(link: link, windowSeconds: link.monitoring?.windowSeconds ?? 10)
        let name = node.settings.node
        var previous = (heralds: Int64(0), gaps: Int64(0), rejected: Int64(0))
        while !(Task.isCancelled || Task.isShuttingDownGracefully) {
            try? await Task.sleep(for: .seconds(1))
            let state = node.monitor.current
            let metrics = monitor.metrics
            metrics.setSpool(node: name, bytes: state.spoolBytes, batches: Int64(state.spoolBatches))
            metrics.setQueueDepth(queue: "unacknowledged", depth: Int(max(0, state.batchesSent - state.batchesAcknowledged)))
            // Round trip of a batch: send, the coordinator's journal commit, the acknowledgement back.
            for ns in node.monitor.takeAcknowledgementLatencies() { metrics.recordBatchLatency(nanoseconds: ns) }
            if state.heraldsReceived > previous.heralds { metrics.recordHeralds(outcome: "received", count: state.heraldsReceived - previous.heralds) }
            if state.heraldGaps > previous.gaps { metrics.recordSequenceGap(node: "heralds", count: state.heraldGaps - previous.gaps) }
            let rejected = Int64(state.rejected.total)
            for _ in 0..<max(0, rejected - previous.rejected) { metrics.recordRejectedConnection(reason: "malformed") }
            previous = (state.heraldsReceived, state.heraldGaps, rejected)
            if let rate = state.repetitionRateHz { metrics.setRepetitionRate(currentHz: rate, recommendedHz: nil) }
            if let status = state.lastStatus { await monitor.observe(observer.observation(from: status)) }
            await monitor.setNodes([NodeStatus(name: name, lab: node.settings.lab, connected: state.connected,
                                               spoolBatches: Int64(state.spoolBatches))])
            await monitor.setRateSchedule(rateHz: state.repetitionRateHz, sincePs: state.repetitionRateEffectivePs,
                                          pendingChangeId: state.rateChangeHeld, pendingRateHz: nil, hold: state.rateHold)
        }
        await monitor.markStopped()
    }
}
