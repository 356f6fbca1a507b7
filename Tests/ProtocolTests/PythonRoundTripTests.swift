import Foundation
import QLinkTestSupport
import Messaging
import Protocol
import Testing
import TimeTags

/// The `qlink` Python package (clients/python) speaks the protocol with pyzmq against a Swift ROUTER.
@Suite("Python (pyzmq) round trip")
struct PythonRoundTripTests {
    static let clientDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("clients/python/tests")

    @Test(.enabled(if: TestEnvironment.qlinkPython != nil, Comment(rawValue: TestEnvironment.qlinkPythonMissing)))
    func pythonDealerTalksToSwiftRouter() throws {
        let router = try Socket(.router)
        try router.set(.receiveTimeout(milliseconds: 600_000))  // only guards against a hang (Python starts slowly on a loaded machine)
        let endpoint = try router.bind("tcp://127.0.0.1:0")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(TestEnvironment.qlinkPython))
        process.arguments = [Self.clientDirectory.appendingPathComponent("roundtrip_peer.py").path, endpoint]
        process.currentDirectoryURL = Self.clientDirectory
        let output = Pipe()
        process.standardOutput = output
        try process.run()

        let helloMessage = try #require(try router.receive())
        #expect(helloMessage.count == 2)
        let hello = try WireMessage.decode(frame: helloMessage.frames[1].bytes)
        #expect(hello.body == .hello(Hello(node: "py-node", lab: "python", capabilities: ["tags"], software: "pyzmq")))
        let batchMessage = try #require(try router.receive())
        let batch = try WireMessage.decode(frame: batchMessage.frames[1].bytes)
        #expect(batch.header.sessionId == 77)
        #expect(batch.header.sequence == 2)
        #expect(batch.body == .tagBatch(TagBatch(timesPs: [1000, 2500, 2600, 9_000_000_000_000], channels: [1, 2, 3, -4])))

        let peer = helloMessage.frames[0]
        for body: WireMessage.Body in [
            .acknowledgement(Acknowledgement(session: 77, sequence: 2, status: .accepted, credit: 16)),
            .herald(Herald(sequence: 3, attemptId: 11, outcome: .psiPlus, timePs: 123_456, detectionPs: 123_999)),
            .rateSchedule(RateScheduleInForce(openChangeId: 4, openRateHz: 2e5, lastDecidedChangeId: 3,
                                              changes: [RateCommit(changeId: 2, atPs: 7_000_000, rateHz: 5e4)])),
            .rateProposal(RateProposal(changeId: 4, rateHz: 2e5)),
        ] {
            let (header, payload) = WireMessage(sessionId: 1, sequence: 3, eventTimePs: 123_456, body: body).encoded()
            #expect(try router.send(Message([peer, Frame(header + payload)])))
        }
        let answerMessage = try #require(try router.receive())
        let answer = try WireMessage.decode(frame: answerMessage.frames[1].bytes)
        #expect(answer.body == .rateAnswer(RateAnswer(changeId: 4, earliestPs: 5_000_000, verdict: .ready)))
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let replies = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        #expect(replies.count == 4)
        let ack = try #require(replies.first?["body"] as? [String: Any])
        #expect(ack["status"] as? String == "accepted")
        #expect(ack["credit"] as? Int == 16)
        let herald = try #require(replies[1]["body"] as? [String: Any])
        #expect(herald["outcome"] as? String == "psi+")
        #expect(herald["attempt"] as? Int == 11)
        #expect(replies[1]["time_ps"] as? Int == 123_456)
        let schedule = try #require(replies[2]["body"] as? [String: Any])
        #expect(schedule["open_change_id"] as? Int == 4 && schedule["open_rate_hz"] as? Double == 2e5)
        #expect(schedule["last_decided_change_id"] as? Int == 3)
        let changes = try #require(schedule["changes"] as? [[String: Any]])
        #expect(changes.count == 1 && changes.first?["at_ps"] as? Int == 7_000_000 && changes.first?["rate_hz"] as? Double == 5e4)
        let proposal = try #require(replies[3]["body"] as? [String: Any])
        #expect(proposal["change_id"] as? Int == 4 && proposal["rate_hz"] as? Double == 2e5)
    }
}
