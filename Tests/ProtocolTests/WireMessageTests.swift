import Foundation
import Protocol
import Testing
import TimeTags

@Suite("Wire messages")
struct WireMessageTests {
    func roundTrip(_ body: WireMessage.Body, session: UInt64 = 42, sequence: UInt64 = 7, timePs: Int64 = -5) throws -> WireMessage {
        let message = WireMessage(sessionId: session, sequence: sequence, eventTimePs: timePs, body: body)
        let (header, payload) = message.encoded()
        #expect(header.count == MessageHeader.size)
        #expect(message.frame() == header + payload)
        return try WireMessage.decode(frame: message.frame())
    }

    @Test func everyTypeRoundTrips() throws {
        let bodies: [WireMessage.Body] = [
            .hello(Hello(node: "alice-node", lab: "alice")),
            .welcome(Welcome(lastAcceptedSequence: 12, credit: 8, nextHeraldSequence: 99, runId: 0xABCD)),
            .tagBatch(TagBatch(timesPs: [1, 2, Int64.max, -3], channels: [1, 2, 3, -1])),
            .acknowledgement(Acknowledgement(session: 3, sequence: 4, status: .resendFrom, credit: 9, resendFrom: 2)),
            .heartbeat,
            .herald(Herald(sequence: 7, attemptId: 123, outcome: .psiMinus, timePs: -5, detectionPs: 1_000)),
            .status({ var s = StatusReport(runId: 1); s.fidelity = 0.9; s.tagsByNode = ["a": 3]; return s }()),
            .error(ErrorReport(code: 4, text: "bad – ünïcode")),
            .heraldRequest(HeraldRequest(first: 3, last: 9)),
            .rateProposal(RateProposal(changeId: 5, rateHz: 1.5e6)),
            .rateAnswer(RateAnswer(changeId: 5, earliestPs: 123_456_789, verdict: .ready)),
            .rateAnswer(RateAnswer(changeId: 5, earliestPs: 0, verdict: .invalidRate)),
            .rateCommit(RateCommit(changeId: 5, atPs: 9_000_000_000, rateHz: 1.5e6)),
            .rateAbort(RateAbort(changeId: 6, reason: .coordinatorRestart)),
            .rateApplied(RateApplied(changeId: 5, effectivePs: 9_000_000_000, outcome: .applied)),
            .rateSchedule(RateScheduleInForce()),
            .rateSchedule(RateScheduleInForce(openChangeId: 7, openRateHz: 2e5, lastDecidedChangeId: 6,
                                              changes: [RateCommit(changeId: 2, atPs: 10, rateHz: 1e5), RateCommit(changeId: 5, atPs: 90, rateHz: 1.5e6)])),
        ]
        for body in bodies {
            let decoded = try roundTrip(body)
            #expect(decoded.body == body)
            #expect(decoded.header.sessionId == 42)
            #expect(decoded.header.sequence == 7)
            #expect(decoded.header.eventTimePs == -5)
        }
    }

    @Test func headerLayoutIsLittleEndianAtDocumentedOffsets() {
        var message = WireMessage(sessionId: 0x0102030405060708, sequence: 0x1112131415161718, eventTimePs: -2,
                                  body: .tagBatch(TagBatch(timesPs: [1], channels: [2])))
        message.header.flags = 0
        let (header, payload) = message.encoded()
        #expect(Array(header[0..<6]) == [0x51, 0x4C, 3, 3, 48, 0])
        #expect(Array(header[8..<16]) == [8, 7, 6, 5, 4, 3, 2, 1])
        #expect(Array(header[16..<24]) == [0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11])
        #expect(Array(header[24..<32]) == [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(Array(header[32..<36]) == [12, 0, 0, 0])
        #expect(Array(header[40..<44]) == [1, 0, 0, 0])
        #expect(payload == [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0])
        let crc = CRC32C.checksum(payload)
        #expect(Array(header[36..<40]) == [UInt8(crc & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8((crc >> 16) & 0xFF), UInt8(crc >> 24)])
    }

    @Test func decodesFromUnalignedFrames() throws {
        let batch = TagBatch(timesPs: (0..<100).map { Int64($0) * 1_000_003 }, channels: (0..<100).map { Int32($0 % 4) })
        let message = WireMessage(sessionId: 1, sequence: 1, body: .tagBatch(batch))
        // Shift the frame by one byte so every multi-byte load is unaligned.
        let shifted = [0] + message.frame()
        let decoded = try shifted.withUnsafeBytes { try WireMessage.decode(frame: UnsafeRawBufferPointer(rebasing: $0[1...])) }
        #expect(decoded.body == .tagBatch(batch))
    }

    @Test func malformedMessagesThrowTheRightKind() throws {
        let (header, payload) = WireMessage(sessionId: 1, sequence: 1, body: .tagBatch(TagBatch(timesPs: [1, 2], channels: [1, 2]))).encoded()
        // Header and payload travel back to back in one frame; the header's own fields say where the payload starts.
        func kind(_ h: [UInt8], _ p: [UInt8], max: Int = 1 << 20) -> ProtocolError.Kind? {
            do { _ = try WireMessage.decode(frame: h + p, maxPayloadBytes: max); return nil } catch { return error.kind }
        }
        #expect(kind(header, payload) == nil)
        #expect(kind(Array(header.prefix(20)), payload) == .badHeader)
        var badMagic = header; badMagic[0] = 0x58
        #expect(kind(badMagic, payload) == .badHeader)
        var otherVersion = header; otherVersion[2] = MessageHeader.currentVersion + 1
        #expect(kind(otherVersion, payload) == .versionMismatch)
        var unknownType = header; unknownType[3] = 200
        #expect(kind(unknownType, payload) == .unknownType)
        var corrupt = payload; corrupt[3] ^= 0x40
        #expect(kind(header, corrupt) == .checksumMismatch)
        #expect(kind(header, payload + [0]) == .badLength)
        #expect(kind(header, payload, max: 4) == .oversized)
        var hugeHeaderLength = header; hugeHeaderLength[4] = 0xFF; hugeHeaderLength[5] = 0xFF
        #expect(kind(hugeHeaderLength, payload) == .badHeader)
        // A heartbeat header with a payload where none belongs, checksum made valid.
        let junk: [UInt8] = [1, 2, 3]
        var heartbeat = MessageHeader(type: .heartbeat, sessionId: 1, sequence: 1)
        heartbeat.payloadLength = 3
        heartbeat.checksum = CRC32C.checksum(junk)
        #expect(kind(heartbeat.encoded(), junk) == .badLength)
        var hello = MessageHeader(type: .hello, sessionId: 1, sequence: 1)
        hello.payloadLength = 3
        hello.checksum = CRC32C.checksum(junk)
        #expect(kind(hello.encoded(), junk) == .badPayload)
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        var rejected = ProtocolCounters()
        for round in 0..<2000 {
            var header = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if round % 2 == 0, header.count >= 6 {
                header[0] = 0x51; header[1] = 0x4C; header[2] = MessageHeader.currentVersion; header[3] = UInt8.random(in: 1...17)
                header[4] = UInt8.random(in: 40...72); header[5] = 0
            }
            let payload = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            do { _ = try WireMessage.decode(frame: header + payload) } catch { rejected.count(error) }
        }
        #expect(rejected.total > 1900)
    }

    @Test func errorCodesMapBackToKinds() {
        for kind in ProtocolError.Kind.allCases {
            let error = ProtocolError(kind, "x")
            #expect(ProtocolError.kind(forCode: error.code) == kind)
        }
        #expect(ProtocolError.kind(forCode: 0) == nil)
    }
}

@Suite("Sequence bookkeeping")
struct SequenceTrackerTests {
    @Test func inOrderGapFilledDuplicateRestart() {
        var tracker = SequenceTracker()
        #expect(tracker.observe(session: 5, sequence: 1) == .first)
        #expect(tracker.observe(session: 5, sequence: 2) == .inOrder)
        #expect(tracker.observe(session: 5, sequence: 5) == .gap(missing: 3...4))
        #expect(tracker.missing == [3...4])
        #expect(tracker.observe(session: 5, sequence: 4) == .filled)
        #expect(tracker.observe(session: 5, sequence: 4) == .duplicate)
        #expect(tracker.missing == [3...3])
        #expect(tracker.observe(session: 5, sequence: 6) == .inOrder)
        #expect(tracker.observe(session: 9, sequence: 1) == .restarted(previousSession: 5))
        #expect(tracker.missing.isEmpty)
        #expect(tracker.observe(session: 9, sequence: 2) == .inOrder)
        #expect(tracker.observeHeartbeat(session: 9, lastSent: 4) == 3...4)
        #expect(tracker.observeHeartbeat(session: 9, lastSent: 4) == nil)
        #expect(tracker.gapCount == 2)
        #expect(tracker.missingCount == 4)
        #expect(tracker.filledCount == 1)
        #expect(tracker.duplicateCount == 1)
        #expect(tracker.restartCount == 1)
    }

    @Test func missingRangesSplitIntoBoundedRequests() {
        var tracker = SequenceTracker(session: 0, lastSeen: 10, missing: [2...3, 6...6])
        #expect(tracker.missingNow == 3)
        #expect(tracker.observe(session: 0, sequence: 25_012) == .gap(missing: 11...25_011))
        #expect(tracker.requests(limit: 10_000) == [2...3, 6...6, 11...10_010, 10_011...20_010, 20_011...25_011])
        #expect(tracker.requests(limit: 10_000, count: 2) == [2...3, 6...6])
        // Filling the middle of a range splits it.
        #expect(tracker.observe(session: 0, sequence: 100) == .filled)
        #expect(tracker.missing == [2...3, 6...6, 11...99, 101...25_011])
    }

    @Test func strictReceiverNeverSkipsAGap() {
        var tracker = SequenceTracker(session: 7, lastSeen: 3)
        #expect(tracker.accept(session: 7, sequence: 6) == .gap(missing: 4...5))
        #expect(tracker.lastSeen == 3)
        #expect(tracker.missing.isEmpty)
        #expect(tracker.accept(session: 7, sequence: 4) == .inOrder)
        #expect(tracker.accept(session: 7, sequence: 2) == .duplicate)
        #expect(tracker.accept(session: 7, sequence: 5) == .inOrder)
    }

    @Test func broadcastsAreOneFrameWithTheirTopicFirst() throws {
        let herald = WireMessage(sessionId: 9, sequence: 31, eventTimePs: 77,
                                 body: .herald(Herald(sequence: 31, attemptId: 5, outcome: .psiPlus, timePs: 77, detectionPs: 12)))
        let frame = herald.broadcastFrame()
        #expect(Array(frame.prefix(WireMessage.broadcastTopicLength)) == Array("herald".utf8))
        let decoded = try WireMessage.decodeBroadcast(frame)
        #expect(decoded.body == herald.body)
        #expect(decoded.header.sequence == 31)
        let status = WireMessage(sessionId: 9, sequence: 0, body: .status({ var s = StatusReport(runId: 2); s.heralds = 31; return s }()))
        let statusFrame = status.broadcastFrame()
        #expect(Array(statusFrame.prefix(6)) == Array("status".utf8))
        #expect(try WireMessage.decodeBroadcast(statusFrame).body == status.body)

        func kind(_ bytes: [UInt8]) -> ProtocolError.Kind? {
            do { _ = try WireMessage.decodeBroadcast(bytes); return nil } catch { return error.kind }
        }
        // A topic that names another type, a truncated frame, a flipped payload bit.
        #expect(kind(Array("status".utf8) + Array(frame.dropFirst(6))) == .badHeader)
        #expect(kind(Array(frame.prefix(40))) == .badHeader)
        #expect(kind(Array(frame.dropLast())) == .badLength)
        var flipped = frame
        flipped[flipped.count - 1] ^= 1
        #expect(kind(flipped) == .checksumMismatch)
    }
}
