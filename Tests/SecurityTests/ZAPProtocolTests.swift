import Foundation
import Logging
import Testing
@testable import Security

@Suite("ZAP protocol")
struct ZAPProtocolTests {
    func request(mechanism: String = "CURVE", domain: String = "qlink", key: [UInt8]) -> ZAPRequest? {
        ZAPRequest(frames: [Array("1.0".utf8), [7, 9], Array(domain.utf8), Array("127.0.0.1".utf8), [],
                            Array(mechanism.utf8), key])
    }

    @Test("metadata uses the ZMTP property encoding")
    func metadataEncoding() {
        let bytes = ZAPReply.encode([("X-Serial", "AB")])
        #expect(bytes == [8] + Array("X-Serial".utf8) + [0, 0, 0, 2] + Array("AB".utf8))
        let frames = ZAPReply.admit(userID: "alice-node", metadata: []).frames(requestID: [7, 9])
        #expect(frames.count == 6)
        #expect(frames[1] == [7, 9])
        #expect(frames[2] == Array("200".utf8))
        #expect(frames[4] == Array("alice-node".utf8))
    }

    @Test("short requests are rejected by the parser")
    func malformed() {
        #expect(ZAPRequest(frames: [[1], [2]]) == nil)
    }

    @Test("the handler admits a valid key with its identity and refuses wrong domain, mechanism and unknown keys")
    func decisions() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let node = try pki.issue("alice-node")
        let authenticator = try PeerAuthenticator(configuration: TrustConfiguration(layout: pki.layout), logger: Logger(label: "test"))
        let key = try Z85.decode(node.publicKeyZ85)
        let admitted = authenticator.reply(to: try #require(request(key: key)), domain: "qlink")
        #expect(admitted.statusCode == "200")
        #expect(admitted.userID == "alice-node")
        #expect(admitted.metadata.first { $0.name == ZAPProperty.serial }?.value == node.record.serial)
        #expect(authenticator.reply(to: try #require(request(domain: "other", key: key)), domain: "qlink").statusText == "wrong-domain")
        #expect(authenticator.reply(to: try #require(request(mechanism: "NULL", key: [])), domain: "qlink").statusText == "wrong-mechanism")
        #expect(authenticator.reply(to: try #require(request(key: [UInt8](repeating: 1, count: 32))), domain: "qlink").statusCode == "400")
        #expect(authenticator.refusalCounts() == [.wrongDomain: 1, .wrongMechanism: 1, .unknownKey: 1])
    }
}
