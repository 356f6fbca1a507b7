import Foundation
import Logging
import Synchronization

/// Process-wide logging set-up: structured lines on standard error.
enum LoggingSetup {
    private static let done = Mutex(false)

    /// Installs the stream log handler at `level`; later calls do nothing.
    static func bootstrap(level: Logger.Level) {
        let first = done.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
