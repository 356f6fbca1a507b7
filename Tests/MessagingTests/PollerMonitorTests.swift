import Foundation
import Testing
@testable import Messaging

@Suite("Poller, monitor events, CURVE and the async bridge")
struct PollerMonitorTests {
    @Test("the poller reports exactly the socket that has a message")
    func poller() throws {
        let (first, firstEndpoint) = try makeBound(.pull)
        let (second, secondEndpoint) = try makeBound(.pull)
        let push = try makeSocket(.push)
        try push.connect(secondEndpoint)
        _ = firstEndpoint

        let idle = try Poller.poll([(first, .readable), (second, .readable)], timeoutMs: 10)
        #expect(idle == [[], []])
        #expect(try push.send(Message(strings: "ping")))
        let ready = try Poller.poll([(first, .readable), (second, .readable)], timeoutMs: Int(testTimeoutMs))
        #expect(ready == [[], .readable])
        #expect(try second.receive()?.strings == ["ping"])
        #expect(!first.isReadable)
    }

    @Test("the monitor reports listening on bind and accepted when a peer connects")
    func monitor() throws {
        let server = try makeSocket(.router)
        let monitor = try SocketMonitor(server)
        let endpoint = try server.bind("tcp://127.0.0.1:0")
        let listening = try monitor.waitFor(timeoutMs: testTimeoutMs) { $0.kind == .listening }
        #expect(listening?.endpoint == endpoint)

        let client = try makeSocket(.dealer)
        try client.connect(endpoint)
        let accepted = try monitor.waitFor(timeoutMs: testTimeoutMs) { $0.kind == .accepted }
        #expect(accepted != nil)
    }

    /// libzmq 4.3.4 may end a refused bind of a monitored socket with errno EAGAIN (left by the monitor events it
    /// sends on the failure): a coordinator restarted on a port still in use once took that for success and
    /// reported an empty control endpoint. Every attempt must fail, naming the address in use.
    @Test("a monitored socket's bind on a port in use always fails with EADDRINUSE")
    func monitoredBindOnAPortInUse() throws {
        let (holder, endpoint) = try makeBound(.router)
        let socket = try makeSocket(.router)
        let monitor = try SocketMonitor(socket)
        var outcomes: [String: Int] = [:]
        for _ in 0..<200 {
            do {
                let bound = try socket.bind(endpoint)
                outcomes["bound '\(bound)'", default: 0] += 1
            } catch {
                outcomes[error.isAddressInUse ? "address in use" : "\(error)", default: 0] += 1
            }
        }
        #expect(outcomes == ["address in use": 200])
        monitor.stop()
        holder.close()
    }

    @Test("dropping a monitor of a reconnecting socket never stalls the shared context", .timeLimit(.minutes(10)))
    func droppedMonitorDoesNotStall() throws {
        let client = try makeSocket(.dealer)
        try client.set(.reconnectInterval(milliseconds: 1))
        var monitor: SocketMonitor? = try SocketMonitor(client)
        try client.connect("tcp://127.0.0.1:1")  // refused: reconnect events every millisecond
        _ = try monitor?.waitFor(timeoutMs: testTimeoutMs) { $0.kind == .connectRetried }
        monitor = nil
        // Far more retries than a monitor queue holds (1000 events) happen during this wait.
        Thread.sleep(forTimeInterval: 0.3)
        let (server, endpoint) = try makeBound(.reply)
        let request = try makeSocket(.request)
        try request.connect(endpoint)
        #expect(try request.send(Message(strings: "still alive?")))
        #expect(try server.receive()?.strings == ["still alive?"])
        client.close()
    }

    @Test("CURVE: a client with the right server key talks; the mechanism is CURVE")
    func curveRoundTrip() throws {
        let serverKeys = try CurveKeyPair.generate()
        let clientKeys = try CurveKeyPair.generate()
        #expect(serverKeys.publicKey.count == 32 && serverKeys.secretKey.count == 32)
        #expect(!serverKeys.description.contains(serverKeys.secretKey.map { String($0, radix: 16) }.joined()))

        let server = try makeSocket(.router)
        try server.makeCurveServer(serverKeys)
        let endpoint = try server.bind("tcp://127.0.0.1:0")
        let client = try makeSocket(.dealer)
        try client.makeCurveClient(clientKeys, serverPublicKey: serverKeys.publicKey)
        try client.connect(endpoint)
        #expect(try client.mechanism() == "CURVE")

        #expect(try client.send(Message(strings: "secret tags")))
        let received = try #require(try server.receive())
        #expect(received.frames.last?.string == "secret tags")
    }

    @Test("CURVE: a client pinning the wrong server key never gets through")
    func curveWrongServerKey() throws {
        let serverKeys = try CurveKeyPair.generate()
        let impostor = try CurveKeyPair.generate()
        let server = try makeSocket(.router)
        try server.makeCurveServer(serverKeys)
        try server.set(.receiveTimeout(milliseconds: 300))
        let endpoint = try server.bind("tcp://127.0.0.1:0")
        let client = try makeSocket(.dealer)
        let monitor = try SocketMonitor(client)
        try client.makeCurveClient(try CurveKeyPair.generate(), serverPublicKey: impostor.publicKey)
        try client.connect(endpoint)
        _ = try client.send(Message(strings: "should not arrive"), options: .dontWait)
        let failure = try monitor.waitFor(timeoutMs: testTimeoutMs) {
            $0.kind == .handshakeFailedProtocol || $0.kind == .handshakeFailedNoDetail || $0.kind == .disconnected
        }
        #expect(failure != nil)
        #expect(try server.receive() == nil)
    }

    @Test("the async receiver delivers messages from a dedicated thread and stops cleanly", .timeLimit(.minutes(10)))
    func asyncReceiver() async throws {
        let (push, endpoint) = try makeBound(.push)
        let (messages, thread) = AsyncReceiver.start(name: "test.receiver") {
            let socket = try Socket(.pull, lingerMs: 0)
            try socket.connect(endpoint)
            return socket
        }
        for index in 0..<5 { #expect(try push.send(Message([Frame(String(index))]))) }

        var received: [String] = []
        for try await message in messages {
            received.append(message.frames[0].string ?? "")
            if received.count == 5 { break }
        }
        #expect(received == ["0", "1", "2", "3", "4"])
        await thread.finish()
        #expect(thread.isStopRequested)
    }
}
