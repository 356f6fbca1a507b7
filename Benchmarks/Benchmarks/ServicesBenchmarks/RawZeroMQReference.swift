import Foundation
import Messaging
import Protocol
import Services
import TimeTags

/// The reference for the two-node benchmark, measured in the same run: the same two streams of encoded tag
/// batches sent over raw libzmq (two CURVE DEALERs into one CURVE ROUTER on loopback, no ZAP handler, no spool,
/// no journal, no acknowledgements or credit), each sender as fast as the socket takes frames. Returns the wall
/// time from the first send until the receiver holds every frame of both senders.
func rawZeroMQRun(tagsPerBatch: Int, batches: Int) throws -> Double {
    let context = ZMQContext()
    let serverKeys = try CurveKeyPair.generate()
    let receiver = try Socket(.router, context: context, lingerMs: 0)
    try receiver.makeCurveServer(serverKeys)
    try receiver.set([.receiveHighWaterMark(1000), .receiveTimeout(milliseconds: 10_000)])
    let endpoint = try receiver.bind("tcp://127.0.0.1:0")
    let payloads = [TagChannel(1), 11].map { base in
        TagPayload.encode(TagBatch(timesPs: (0..<tagsPerBatch).map { Int64($0) * 200 },
                                   channels: (0..<tagsPerBatch).map { base + TagChannel($0 % 4) }))
    }
    let senders = try payloads.map { _ in
        let socket = try Socket(.dealer, context: context, lingerMs: 0)
        try socket.makeCurveClient(try CurveKeyPair.generate(), serverPublicKey: serverKeys.publicKey)
        try socket.set([.sendHighWaterMark(1000), .sendTimeout(milliseconds: 10_000)])
        try socket.connect(endpoint)
        return socket
    }
    // Both handshakes complete before timing: each sender's greeting frame reaches the receiver first.
    for sender in senders { _ = try sender.send(Message([Frame("ready")])) }
    for _ in senders { guard try receiver.receive() != nil else { throw ServiceFailure(what: "raw libzmq", detail: "no greeting") } }
    let start = ContinuousClock.now
    /// Each sender socket is used by its own thread only, from here until the receiver holds its frames.
    final class Sender: @unchecked Sendable {
        let socket: Socket
        init(_ socket: Socket) { self.socket = socket }
    }
    let threads = zip(senders.map(Sender.init), payloads).map { sender, payload in
        let thread = Thread {
            for _ in 0..<batches { _ = try? sender.socket.send(Message([Frame(payload)])) }
        }
        thread.start()
        return thread
    }
    var received = 0
    while received < 2 * batches {
        guard let message = try receiver.receive() else {
            throw ServiceFailure(what: "raw libzmq", detail: "received \(received) of \(2 * batches) frames")
        }
        if message.count == 2, message.frames[1].count == payloads[0].count { received += 1 }
    }
    let elapsed = ContinuousClock.now - start
    _ = threads
    for sender in senders { sender.close() }
    receiver.close()
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

/// The reference for the herald latency, measured in the same run: a frame of the probe's size sent by a raw
/// CURVE DEALER to a ROUTER whose thread publishes it straight back on a CURVE PUB to the client's SUB (the
/// herald's path without decoding, the decision or the journal's fsync).
final class RawRoundTrip: @unchecked Sendable {
    let context = ZMQContext()
    let router: Socket, publisher: Socket, dealer: Socket, subscriber: Socket
    let payload = TagPayload.encode(TagBatch(timesPs: [50_000], channels: [22]))
    let state = NSLock()
    var isStopped = false, isFinished = false

    init() throws {
        let serverKeys = try CurveKeyPair.generate()
        router = try Socket(.router, context: context, lingerMs: 0)
        publisher = try Socket(.publisher, context: context, lingerMs: 0)
        for socket in [router, publisher] { try socket.makeCurveServer(serverKeys) }
        try router.set(.receiveTimeout(milliseconds: 100))
        let control = try router.bind("tcp://127.0.0.1:0"), publish = try publisher.bind("tcp://127.0.0.1:0")
        dealer = try Socket(.dealer, context: context, lingerMs: 0)
        subscriber = try Socket(.subscriber, context: context, lingerMs: 0)
        for socket in [dealer, subscriber] { try socket.makeCurveClient(try CurveKeyPair.generate(), serverPublicKey: serverKeys.publicKey) }
        try subscriber.set([.subscribe(prefix: []), .receiveTimeout(milliseconds: 5000)])
        try dealer.connect(control)
        try subscriber.connect(publish)
        Thread { [self] in serve() }.start()
        // The SUB connection needs a moment before the PUB delivers to it: round-trip until one arrives.
        try dealer.set(.receiveTimeout(milliseconds: 100))
        for _ in 0..<100 {
            _ = try dealer.send(Message([Frame(payload)]))
            try subscriber.set(.receiveTimeout(milliseconds: 100))
            if try subscriber.receive() != nil { break }
        }
        try subscriber.set(.receiveTimeout(milliseconds: 5000))
        while try subscriber.receive(options: .dontWait) != nil {}
    }

    private func serve() {
        while !state.withLock({ isStopped }) {
            guard let message = try? router.receive(), message.count == 2 else { continue }
            _ = try? publisher.send(Message([message.frames[1]]))
        }
        state.withLock { isFinished = true }
    }

    /// One frame out on the DEALER and back on the SUB.
    func roundTrip() throws {
        _ = try dealer.send(Message([Frame(payload)]))
        guard try subscriber.receive() != nil else { throw ServiceFailure(what: "raw libzmq", detail: "no reply within 5 s") }
    }

    /// Stops the server thread (within its 100 ms receive timeout) and closes the sockets.
    func stop() {
        state.withLock { isStopped = true }
        while !state.withLock({ isFinished }) { usleep(1000) }
        for socket in [dealer, subscriber, router, publisher] { socket.close() }
    }
}
