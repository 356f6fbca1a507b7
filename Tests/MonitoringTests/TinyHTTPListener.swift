import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-connection-at-a-time HTTP listener on 127.0.0.1 (ephemeral port) that records each request and
/// answers with a fixed status. Accepting gives up after a few seconds so that a test never hangs.
final class TinyHTTPListener: @unchecked Sendable {
    struct Request: Sendable {
        var requestLine: String
        var headers: [String: String]
        var body: Data
    }

    let port: Int
    private let descriptor: Int32
    private let lock = NSLock()
    private var received: [Request] = []
    private let status: Int
    private let finished = DispatchSemaphore(value: 0)

    init(status: Int = 200) throws {
        self.status = status
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Requests received so far.
    var requests: [Request] { lock.withLock { received } }

    /// Starts serving `count` requests on a background thread right away (not when some task is next scheduled:
    /// on a busy machine Swift's cooperative pool may not run a child task before the client's request times
    /// out); stops after `timeoutSeconds`. Await ``served()`` for the end.
    func start(count: Int, timeoutSeconds: Double = 300) {
        let thread = Thread { [self] in
            let deadline = Date().addingTimeInterval(timeoutSeconds)
            var served = 0
            while served < count, Date() < deadline {
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 100) > 0 else { continue }
                let client = accept(descriptor, nil, nil)
                guard client >= 0 else { continue }
                if let request = readRequest(client, deadline: deadline) {
                    lock.withLock { received.append(request) }
                }
                let reply = "HTTP/1.1 \(status) Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                _ = reply.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                close(client)
                served += 1
            }
            finished.signal()
        }
        thread.start()
    }

    /// Returns once the serving thread started by ``start(count:timeoutSeconds:)`` has finished.
    func served() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread { [finished] in
                finished.wait()
                continuation.resume()
            }.start()
        }
    }

    private func readRequest(_ client: Int32, deadline: Date) -> Request? {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            if let end = data.range(of: Data("\r\n\r\n".utf8)) {
                let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
                var headers: [String: String] = [:]
                for line in head.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                if data.count - end.upperBound >= length {
                    return Request(requestLine: head.first ?? "", headers: headers,
                                   body: Data(data[end.upperBound..<(end.upperBound + length)]))
                }
            }
            var poller = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = recv(client, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            data.append(contentsOf: buffer[0..<count])
        }
        return nil
    }
}
