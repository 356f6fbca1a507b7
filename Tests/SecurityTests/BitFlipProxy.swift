import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A TCP relay on 127.0.0.1 that can flip one bit in the next large chunk a client sends, to test tamper evidence.
final class BitFlipProxy: Sendable {
    /// The port clients connect to.
    let port: UInt16
    private let listener: Int32
    /// The size of the message to flip a bit in once armed (0: not armed).
    private let armed = Atomic<Int>(0)
    private let flipped = Atomic<Int>(0)
    private let stopFlag = Atomic<Bool>(false)
    private let done = Mutex<Bool>(false)

    /// Starts relaying connections to `targetPort` on 127.0.0.1.
    init(targetPort: UInt16) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ProxyError.system("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 8) == 0 else { close(descriptor); throw ProxyError.system("bind") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        listener = descriptor
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in run(targetPort: targetPort) }
        thread.name = "bit-flip-proxy"
        thread.start()
    }

    /// Flips one bit in the next chunk of at least `bytes` relayed from a client to the server, `bytes / 2` before
    /// its end: inside a message of `bytes` or more even when ZMTP heartbeats or a handshake command (tens to a few
    /// hundred bytes) share the chunk with it, and never in those small frames alone, however the sender's
    /// timers interleave them on a loaded machine.
    func armFlip(inMessageOf bytes: Int) {
        precondition(bytes >= 2_048, "a message large enough to stand out from heartbeats and handshake commands")
        armed.store(bytes, ordering: .releasing)
    }
    /// How many bits were flipped.
    var flips: Int { flipped.load(ordering: .acquiring) }

    /// Stops relaying and closes every connection.
    func stop() {
        stopFlag.store(true, ordering: .releasing)
        while !done.withLock({ $0 }) { usleep(1000) }
    }

    private func run(targetPort: UInt16) {
        var pairs: [(client: Int32, server: Int32)] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !stopFlag.load(ordering: .acquiring) {
            var items = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            for pair in pairs {
                items.append(pollfd(fd: pair.client, events: Int16(POLLIN), revents: 0))
                items.append(pollfd(fd: pair.server, events: Int16(POLLIN), revents: 0))
            }
            guard poll(&items, nfds_t(items.count), 10) > 0 else { continue }
            let polledPairs = pairs.count
            if items[0].revents & Int16(POLLIN) != 0 {
                let client = accept(listener, nil, nil)
                if client >= 0, let server = Self.connect(port: targetPort) {
                    pairs.append((client, server))
                } else if client >= 0 {
                    close(client)
                }
            }
            var closed: Set<Int> = []
            for (index, pair) in pairs.prefix(polledPairs).enumerated() {
                let clientEvents = items[1 + 2 * index].revents
                let serverEvents = items[2 + 2 * index].revents
                if clientEvents != 0, !relay(from: pair.client, to: pair.server, buffer: &buffer, mayFlip: true) { closed.insert(index) }
                if serverEvents != 0, !relay(from: pair.server, to: pair.client, buffer: &buffer, mayFlip: false) { closed.insert(index) }
            }
            for index in closed.sorted(by: >) {
                close(pairs[index].client)
                close(pairs[index].server)
                pairs.remove(at: index)
            }
        }
        for pair in pairs { close(pair.client); close(pair.server) }
        close(listener)
        done.withLock { $0 = true }
    }

    private func relay(from source: Int32, to destination: Int32, buffer: inout [UInt8], mayFlip: Bool) -> Bool {
        let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
        guard count > 0 else { return false }
        let size = armed.load(ordering: .acquiring)
        if mayFlip, size > 0, count >= size, armed.compareExchange(expected: size, desired: 0, ordering: .acquiringAndReleasing).exchanged {
            buffer[count - size / 2] ^= 0x01
            flipped.add(1, ordering: .releasing)
        }
        var sent = 0
        while sent < count {
            let written = buffer[sent..<count].withUnsafeBytes { write(destination, $0.baseAddress, $0.count) }
            guard written > 0 else { return false }
            sent += written
        }
        return true
    }

    private static func connect(port: UInt16) -> Int32? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { close(descriptor); return nil }
        return descriptor
    }

    enum ProxyError: Error { case system(String) }
}
