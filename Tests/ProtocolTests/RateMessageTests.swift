import Protocol
import TimeTags
import Testing

/// The rate-change messages (types 12–17) refuse payloads that do not fit their layout.
@Suite("Rate-change messages")
struct RateMessageTests {
    func decode(_ type: MessageType, _ payload: [UInt8]) throws(ProtocolError) -> WireMessage {
        // A valid message of another body re-typed: the header carries the type, length and checksum.
        var header = MessageHeader(type: type, sessionId: 1, sequence: 1)
        header.payloadLength = UInt32(payload.count)
        header.checksum = CRC32C.checksum(payload)
        return try WireMessage.decode(header: header.encoded(), payload: payload)
    }

    func bytes(_ body: WireMessage.Body) -> [UInt8] { WireMessage(sessionId: 1, sequence: 1, body: body).encoded().payload }

    @Test func layoutsAreTheDocumentedSizes() {
        #expect(bytes(.rateProposal(RateProposal(changeId: 1, rateHz: 1))).count == 16)
        #expect(bytes(.rateAnswer(RateAnswer(changeId: 1, earliestPs: 2, verdict: .ready))).count == 24)
        #expect(bytes(.rateCommit(RateCommit(changeId: 1, atPs: 2, rateHz: 3))).count == 24)
        #expect(bytes(.rateAbort(RateAbort(changeId: 1, reason: .timeout))).count == 16)
        #expect(bytes(.rateApplied(RateApplied(changeId: 1, effectivePs: 2, outcome: .released))).count == 24)
        #expect(bytes(.rateSchedule(RateScheduleInForce(changes: [RateCommit(changeId: 1, atPs: 2, rateHz: 3)]))).count == 56)
        #expect(MessageType.rateProposal.rawValue == 12 && MessageType.rateSchedule.rawValue == 17)
        #expect(MessageType(rawValue: 9) == nil && MessageType(rawValue: 10) == nil, "the one-shot request and its answer are retired")
    }

    @Test func malformedPayloadsAreRejected() {
        let schedule = bytes(.rateSchedule(RateScheduleInForce(changes: [RateCommit(changeId: 1, atPs: 20, rateHz: 3),
                                                                         RateCommit(changeId: 2, atPs: 30, rateHz: 4)])))
        // A count that promises more changes than the payload holds.
        var short = schedule
        short[24] = 3
        #expect(throws: ProtocolError.self) { try decode(.rateSchedule, short) }
        // Changes out of time order.
        var swapped = schedule
        swapped.replaceSubrange(32..<56, with: schedule[56..<80])
        swapped.replaceSubrange(56..<80, with: schedule[32..<56])
        #expect(throws: ProtocolError.self) { try decode(.rateSchedule, swapped) }
        // An unknown verdict, outcome or abort reason; a rate that is not positive.
        var answer = bytes(.rateAnswer(RateAnswer(changeId: 1, earliestPs: 2, verdict: .ready)))
        answer[16] = 9
        #expect(throws: ProtocolError.self) { try decode(.rateAnswer, answer) }
        var applied = bytes(.rateApplied(RateApplied(changeId: 1, effectivePs: 2, outcome: .applied)))
        applied[16] = 0
        #expect(throws: ProtocolError.self) { try decode(.rateApplied, applied) }
        var abort = bytes(.rateAbort(RateAbort(changeId: 1, reason: .refused)))
        abort[8] = 77
        #expect(throws: ProtocolError.self) { try decode(.rateAbort, abort) }
        #expect(throws: ProtocolError.self) { try decode(.rateProposal, bytes(.rateProposal(RateProposal(changeId: 1, rateHz: -5)))) }
        #expect(throws: ProtocolError.self) { try decode(.rateCommit, bytes(.rateCommit(RateCommit(changeId: 1, atPs: 1, rateHz: .nan)))) }
        #expect(throws: ProtocolError.self) { try decode(.rateProposal, [UInt8](repeating: 0, count: 15)) }
    }

    @Test func abortReasonsAndOutcomesAreNamedByOneWordEach() {
        #expect([RateAbortReason.timeout, .refused, .coordinatorRestart].map(\.description) == ["timeout", "refused", "coordinator-restart"])
        #expect([RateOutcome.applied, .released, .failed].map(\.description) == ["applied", "released", "failed"])
        #expect("\(RateAbortReason.coordinatorRestart)" == "coordinator-restart")
    }
}
