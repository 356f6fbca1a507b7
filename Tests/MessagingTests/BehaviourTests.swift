import Foundation
import Testing
@testable import Messaging

@Suite("ZeroMQ timeouts, high-water marks, closing and errors")
struct BehaviourTests {
    @Test("a receive timeout returns nil instead of blocking")
    func receiveTimeout() throws {
        let (server, _) = try makeBound(.pull)
        try server.set(.receiveTimeout(milliseconds: 30))
        #expect(try server.receive() == nil)
        #expect(try server.receive(options: .dontWait) == nil)
    }

    @Test("a send with no peer and dontWait returns false instead of blocking")
    func sendWouldBlock() throws {
        let push = try makeSocket(.push)
        #expect(try push.send(Message(strings: "nobody listens"), options: .dontWait) == false)
    }

    @Test("the high-water mark bounds the queue; draining frees room again")
    func highWaterMark() throws {
        let context = ZMQContext()
        let pull = try makeSocket(.pull, context: context)
        try pull.set(.receiveHighWaterMark(10))
        try pull.bind("inproc://hwm")
        let push = try makeSocket(.push, context: context)
        try push.set(.sendHighWaterMark(10))
        try push.connect("inproc://hwm")
        #expect(try push.sendHighWaterMark() == 10)

        var queued = 0
        while try push.send(Message([Frame(String(queued))]), options: .dontWait) {
            queued += 1
            if queued > 1000 { break }
        }
        // inproc pipes hold the sum of both high-water marks.
        #expect(queued >= 10 && queued <= 20, "queued \(queued)")
        for expected in 0..<queued {
            #expect(try pull.receive()?.frames[0].string == String(expected))
        }
        // The reader tells the writer about freed room asynchronously; wait until the poller says writable.
        #expect(try Poller.poll([(push, .writable)], timeoutMs: Int(testTimeoutMs)) == [.writable])
        #expect(try push.send(Message([Frame("again")]), options: .dontWait))
        #expect(try pull.receive()?.strings == ["again"])
        push.close()
        pull.close()
    }

    @Test("messages sent just before close are delivered within the linger period")
    func closeWithPendingDelivers() throws {
        let (pull, endpoint) = try makeBound(.pull)
        // A linger long enough for a loaded machine's I/O thread to deliver them.
        let push = try Socket(.push, lingerMs: 50_000)
        try push.connect(endpoint)
        for index in 0..<100 {
            #expect(try push.send(Message([Frame(String(index))])))
        }
        push.close()
        #expect(push.isClosed)
        for index in 0..<100 {
            #expect(try pull.receive()?.frames[0].string == String(index))
        }
    }

    @Test("closing with zero linger discards pending messages and the context terminates promptly")
    func closeWithPendingDiscards() throws {
        var context: ZMQContext? = ZMQContext()
        let push = try Socket(.push, context: context!, lingerMs: 0)
        try push.connect("tcp://127.0.0.1:1")  // nothing listens: messages stay queued
        #expect(try push.send(Message(strings: "never delivered"), options: .dontWait) == false
                || true)  // queued or refused; either way nothing is delivered
        push.close()
        context = nil  // zmq_ctx_term would block forever here if linger were infinite
        #expect(context == nil)
    }

    @Test("a closed socket reports a clear error instead of crashing")
    func useAfterClose() throws {
        let socket = try makeSocket(.push)
        socket.close()
        socket.close()
        do {
            _ = try socket.send(Message(strings: "x"))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("closed PUSH socket"))
        }
    }

    @Test("malformed endpoints fail with the operation, the endpoint and libzmq's reason")
    func badEndpoints() throws {
        let socket = try makeSocket(.pull)
        for endpoint in ["bogus://x", "tcp://127.0.0.1", "tcp://256.1.1.1:5000", "nonsense"] {
            do {
                try socket.bind(endpoint)
                Issue.record("bind to \(endpoint) should fail")
            } catch {
                #expect(error.operation == "zmq_bind")
                #expect(error.description.contains(endpoint))
                #expect(!error.message.isEmpty)
            }
        }
        #expect(throws: ZMQError.self) { try socket.connect("tcp://") }
    }

    @Test("binding a port that is in use says so")
    func addressInUse() throws {
        let (first, endpoint) = try makeBound(.pull)
        defer { first.close() }
        let second = try makeSocket(.pull)
        do {
            try second.bind(endpoint)
            Issue.record("second bind should fail")
        } catch {
            #expect(error.isAddressInUse)
        }
    }

    @Test("CURVE keys of the wrong length are refused before reaching libzmq")
    func badCurveKey() throws {
        let socket = try makeSocket(.dealer)
        #expect(throws: ZMQError.self) { try socket.set(.curveServerKey([1, 2, 3])) }
    }
}
