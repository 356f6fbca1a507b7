import Foundation
import Testing
@testable import Messaging

@Suite("ZeroMQ socket patterns on 127.0.0.1")
struct PatternTests {
    @Test("request/reply round trip with multipart frames")
    func requestReply() throws {
        let (server, endpoint) = try makeBound(.reply)
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))
        #expect(!endpoint.hasSuffix(":0") && !endpoint.hasSuffix(":*"))
        let client = try makeSocket(.request)
        try client.connect(endpoint)

        #expect(try client.send(Message(strings: "tags", "batch-1", "")))
        let request = try #require(try server.receive())
        #expect(request.strings == ["tags", "batch-1", ""])
        #expect(try server.send(strings: "ack", "1"))
        let reply = try #require(try client.receive())
        #expect(reply.strings == ["ack", "1"])
    }

    @Test("a REQ socket refuses a second request before the reply (state machine error, not a crash)")
    func requestStateMachine() throws {
        let (server, endpoint) = try makeBound(.reply)
        defer { server.close() }
        let client = try makeSocket(.request)
        try client.connect(endpoint)
        #expect(try client.send(strings: "first"))
        do {
            _ = try client.send(strings: "second")
            Issue.record("expected EFSM")
        } catch {
            #expect(error.operation == "zmq_msg_send")
            #expect(error.description.contains("REQ socket"))
        }
    }

    @Test("publish/subscribe delivers only subscribed topics")
    func publishSubscribe() throws {
        let (publisher, endpoint) = try makeBound(.publisher)
        let subscriber = try makeSocket(.subscriber)
        try subscriber.set(.subscribe(prefix: Array("herald".utf8)))
        try subscriber.set(.receiveTimeout(milliseconds: 20))
        try subscriber.connect(endpoint)

        // Subscriptions propagate asynchronously: publish until the first herald arrives (30 000 tries of 20 ms
        // only guard against a hang).
        var first: Message?
        for attempt in 0..<30_000 where first == nil {
            #expect(try publisher.send(Message(strings: "status", "ignored-\(attempt)")))
            #expect(try publisher.send(Message(strings: "herald", "warmup")))
            first = try subscriber.receive()
        }
        #expect(first?.strings == ["herald", "warmup"])
        while try subscriber.receive(options: .dontWait) != nil {}

        try subscriber.set(.receiveTimeout(milliseconds: testTimeoutMs))
        #expect(try publisher.send(Message(strings: "status", "not for you")))
        #expect(try publisher.send(Message(strings: "herald.psi-plus", "42")))
        let message = try #require(try subscriber.receive())
        #expect(message.strings == ["herald.psi-plus", "42"])
        #expect(try subscriber.receive(options: .dontWait) == nil)
    }

    @Test("router/dealer: the router sees each dealer's identity and routes replies back")
    func routerDealer() throws {
        let (router, endpoint) = try makeBound(.router)
        let alice = try makeSocket(.dealer)
        try alice.set(.routingId(Array("alice".utf8)))
        try alice.connect(endpoint)
        let bob = try makeSocket(.dealer)
        try bob.set(.routingId(Array("bob".utf8)))
        try bob.connect(endpoint)

        #expect(try alice.send(Message(strings: "hello", "from alice")))
        #expect(try bob.send(Message(strings: "hello", "from bob")))
        var seen: [String: String] = [:]
        for _ in 0..<2 {
            let message = try #require(try router.receive())
            #expect(message.count == 3)
            seen[message.frames[0].string ?? "?"] = message.frames[2].string
        }
        #expect(seen == ["alice": "from alice", "bob": "from bob"])

        #expect(try router.send(Message([Frame("bob"), Frame("for bob")])))
        #expect(try router.send(Message([Frame("alice"), Frame("for alice")])))
        #expect(try bob.receive()?.strings == ["for bob"])
        #expect(try alice.receive()?.strings == ["for alice"])
    }

    @Test("a mandatory router reports an unknown peer instead of dropping silently")
    func routerMandatory() throws {
        let (router, _) = try makeBound(.router)
        try router.set(.routerMandatory(true))
        do {
            _ = try router.send(Message([Frame("nobody"), Frame("lost")]))
            Issue.record("expected EHOSTUNREACH")
        } catch {
            #expect(error.isHostUnreachable)
        }
    }

    @Test("push/pull keeps order and a large frame arrives intact without truncation")
    func pushPullLargeFrame() throws {
        let (pull, endpoint) = try makeBound(.pull)
        let push = try makeSocket(.push)
        try push.connect(endpoint)
        let size = 1 << 20
        let big = Frame(count: size) { buffer in
            for index in 0..<size { buffer[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
        }
        for sequence in 0..<20 {
            #expect(try push.send(Message([Frame(String(sequence)), big])))
        }
        for sequence in 0..<20 {
            let message = try #require(try pull.receive())
            #expect(message.frames[0].string == String(sequence))
            #expect(message.frames[1].count == size)
            #expect(message.frames[1] == big)
        }
    }
}
