import Foundation
import Journal
import Monitoring

/// The coordinator journal's `alert` table as the monitoring alert history: one row per transition, the new
/// severity as its level and the transition as JSON in its message.
public struct JournalAlertHistory: AlertHistoryStore {
    let journal: CoordinatorJournal

    /// The alert history in `journal`.
    public init(journal: CoordinatorJournal) { self.journal = journal }

    /// Journals each transition as one `alert` row.
    public func appendAlertTransitions(_ transitions: [AlertTransition], link: String) throws(MonitoringError) {
        let encoder = StatusCoding.encoder()
        for transition in transitions {
            do {
                let json = String(decoding: try encoder.encode(transition), as: UTF8.self)
                try journal.recordAlert(level: transition.to.rawValue, message: json)
            } catch {
                throw MonitoringError(.deliveryFailed, "cannot journal an alert transition: \(error)",
                                      hint: "check the journal's disk and permissions")
            }
        }
    }

    /// The latest `limit` transitions from the journal (rows that do not decode are skipped).
    public func recentAlertTransitions(limit: Int) throws(MonitoringError) -> [AlertTransition] {
        let decoder = StatusCoding.decoder()
        do {
            return try journal.alerts(limit: limit).compactMap { try? decoder.decode(AlertTransition.self, from: Data($0.message.utf8)) }
        } catch {
            throw MonitoringError(.deliveryFailed, "cannot read the journal's alerts: \(error)", hint: "check the journal file")
        }
    }
}
