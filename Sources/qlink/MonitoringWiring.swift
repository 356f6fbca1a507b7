import ArgumentParser
import LinkHealth
import LinkModel

// The monitoring wiring of the running coordinator and nodes lives in the LinkHealth module (tested there).
typealias JournalAlertHistory = LinkHealth.JournalAlertHistory
typealias StatusObserver = LinkHealth.StatusObserver
typealias CoordinatorMonitoringService = LinkHealth.CoordinatorMonitoringService
typealias NodeMonitoringService = LinkHealth.NodeMonitoringService

/// The status endpoint to serve: the command line's, else the configuration's.
func statusEndpoint(override: String?, configured: Endpoint?) throws -> Endpoint? {
    guard let override else { return configured }
    do {
        let endpoint = try Endpoint(parsing: override)
        guard endpoint.transport == .tcp else { throw ValidationError("--status must be tcp://HOST:PORT") }
        return endpoint
    } catch let error as EndpointParseError {
        throw ValidationError("--status: \(error)")
    }
}
