import Testing
@testable import Security

@Suite("Z85")
struct Z85Tests {
    @Test("the ZeroMQ RFC 32 test vector encodes to HelloWorld and back")
    func rfcVector() throws {
        let bytes: [UInt8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]
        #expect(try Z85.encode(bytes) == "HelloWorld")
        #expect(try Z85.decode("HelloWorld") == bytes)
    }

    @Test("32-byte keys round-trip through 40 characters")
    func roundTrip() throws {
        let key = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let text = try Z85.encode(key)
        #expect(text.count == 40)
        #expect(try Z85.decode(text) == key)
        #expect(try Z85.encode([0xFF, 0xFF, 0xFF, 0xFF]) == "%nSc0")
    }

    @Test("bad lengths, foreign characters and 32-bit overflow are refused")
    func refusals() {
        #expect(throws: SecurityError.self) { try Z85.encode([1, 2, 3]) }
        #expect(throws: SecurityError.self) { try Z85.decode("Hell") }
        #expect(throws: SecurityError.self) { try Z85.decode("Hell~") }
        #expect(throws: SecurityError.self) { try Z85.decode("#####") }
    }
}
