import Testing
@testable import Messaging

@Suite("libzmq")
struct LibraryTests {
    @Test("libzmq 4.3 or later with CURVE is linked")
    func curveAvailable() {
        #expect(ZeroMQLibrary.hasCurve)
        let parts = ZeroMQLibrary.version.split(separator: ".").compactMap { Int($0) }
        #expect(parts.count == 3)
        #expect(parts[0] == 4 && parts[1] >= 3)
        #expect(!ZeroMQLibrary.has("no-such-capability"))
    }
}
