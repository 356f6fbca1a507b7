import Foundation

/// A durable alert history in a JSON-lines file (one transition per line, written and synced at once), for
/// processes without a journal; the coordinator's journal keeps its own.
///
/// A corrupt or truncated line (a crash mid-write) is skipped when reading.
public final class FileAlertHistory: AlertHistoryStore, @unchecked Sendable {
    /// The file.
    public let path: String
    private let lock = NSLock()

    /// A history appending to `path` (created if absent).
    public init(path: String) throws(MonitoringError) {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw MonitoringError(.deliveryFailed, "cannot create the alert history \(path)",
                                      hint: "check that the folder exists and is writable")
            }
        }
    }

    private struct Line: Codable {
        var link: String
        var transition: AlertTransition
    }

    public func appendAlertTransitions(_ transitions: [AlertTransition], link: String) throws(MonitoringError) {
        guard !transitions.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        var data = Data()
        do {
            for transition in transitions {
                data.append(try encoder.encode(Line(link: link, transition: transition)))
                data.append(0x0A)
            }
        } catch {
            throw MonitoringError(.encodingFailed, "cannot encode an alert transition: \(error)")
        }
        lock.lock()
        defer { lock.unlock() }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            throw MonitoringError(.deliveryFailed, "cannot append to the alert history \(path): \(error.localizedDescription)",
                                  hint: "check the disk and the file's permissions")
        }
    }

    public func recentAlertTransitions(limit: Int) throws(MonitoringError) -> [AlertTransition] {
        let data: Data
        lock.lock()
        defer { lock.unlock() }
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw MonitoringError(.deliveryFailed, "cannot read the alert history \(path): \(error.localizedDescription)",
                                  hint: "check that the file exists and is readable")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let lines = data.split(separator: 0x0A)
        let decoded = lines.compactMap { try? decoder.decode(Line.self, from: Data($0)).transition }
        return Array(decoded.suffix(max(0, limit)))
    }
}
