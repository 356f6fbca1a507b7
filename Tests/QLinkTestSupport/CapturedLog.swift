import Logging
import Synchronization

/// The log records of a test, kept in memory: every logger made by ``logger(label:level:)`` writes here, so a
/// test can check that an event was logged with the metadata it must carry.
public final class CapturedLog: Sendable {
    /// One record: level, message and metadata (values as text).
    public struct Record: Sendable, CustomStringConvertible {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]

        public var description: String { "\(level) \(message) \(metadata.sorted { $0.key < $1.key })" }
    }

    private let records = Mutex<[Record]>([])

    public init() {}

    /// A logger writing into this log at `level` and above.
    public func logger(label: String = "qlink.test", level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: label) { _ in CapturingHandler(log: self) }
        logger.logLevel = level
        return logger
    }

    /// Every record so far, oldest first.
    public var all: [Record] { records.withLock { $0 } }

    /// The records with `message`, oldest first.
    public func records(_ message: String) -> [Record] { all.filter { $0.message == message } }

    fileprivate func append(_ record: Record) { records.withLock { $0.append(record) } }
}

private struct CapturingHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        let merged = metadata.merging(explicit ?? [:]) { _, new in new }
        log.append(CapturedLog.Record(level: level, message: "\(message)", metadata: merged.mapValues { "\($0)" }))
    }
}
