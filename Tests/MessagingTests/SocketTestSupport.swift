@testable import Messaging

/// Receive timeout for tests: long enough never to fire on a loaded machine (it only guards against a hang,
/// and stays below the ten-minute limit of the tests that have one).
let testTimeoutMs: Int32 = 540_000

/// A socket with a receive timeout, so a test never blocks forever.
func makeSocket(_ type: SocketType, context: ZMQContext = .shared, lingerMs: Int32 = 0) throws -> Socket {
    let socket = try Socket(type, context: context, lingerMs: lingerMs)
    try socket.set(.receiveTimeout(milliseconds: testTimeoutMs))
    try socket.set(.sendTimeout(milliseconds: testTimeoutMs))
    return socket
}

/// A bound socket and its real endpoint on 127.0.0.1 with an ephemeral port.
func makeBound(_ type: SocketType, context: ZMQContext = .shared) throws -> (Socket, String) {
    let socket = try makeSocket(type, context: context)
    let endpoint = try socket.bind("tcp://127.0.0.1:0")
    return (socket, endpoint)
}
