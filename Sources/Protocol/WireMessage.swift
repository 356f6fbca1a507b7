import Foundation
import TimeTags

/// A decoded QLink message: the header plus its typed body.
///
/// Every message is one frame. Between a node and the coordinator (DEALER ↔ ROUTER) it is the header
/// (``MessageHeader``) followed by the payload (possibly empty), ``frame()``; a ROUTER adds the peer's routing
/// id in front. A broadcast (PUB) is the topic followed by that frame (``broadcastFrame()``).
///
/// Messages are single frames because libzmq 4.3 can abort a receiving socket (`!_more` in `fq.cpp`, on
/// SUB and DEALER alike) when its peer vanishes between the frames of a multipart message, as a peer killed
/// with SIGKILL does; a single frame has no such in-between.
public struct WireMessage: Sendable, Equatable {
    /// The typed body of a message.
    public enum Body: Sendable, Equatable {
        case hello(Hello)
        case welcome(Welcome)
        case tagBatch(TagBatch)
        case acknowledgement(Acknowledgement)
        case heartbeat
        case herald(Herald)
        case status(StatusReport)
        case error(ErrorReport)
        case heraldRequest(HeraldRequest)
        case rateProposal(RateProposal)
        case rateAnswer(RateAnswer)
        case rateCommit(RateCommit)
        case rateAbort(RateAbort)
        case rateApplied(RateApplied)
        case rateSchedule(RateScheduleInForce)

        var type: MessageType {
            switch self {
            case .hello: return .hello
            case .welcome: return .welcome
            case .tagBatch: return .tagBatch
            case .acknowledgement: return .acknowledgement
            case .heartbeat: return .heartbeat
            case .herald: return .herald
            case .status: return .status
            case .error: return .error
            case .heraldRequest: return .heraldRequest
            case .rateProposal: return .rateProposal
            case .rateAnswer: return .rateAnswer
            case .rateCommit: return .rateCommit
            case .rateAbort: return .rateAbort
            case .rateApplied: return .rateApplied
            case .rateSchedule: return .rateSchedule
            }
        }
    }

    public var header: MessageHeader
    public var body: Body

    /// Builds a message; the header's type, payload length, checksum and item count are filled in by ``encoded()``.
    public init(sessionId: UInt64, sequence: UInt64, eventTimePs: Int64 = 0, body: Body) {
        header = MessageHeader(type: body.type, sessionId: sessionId, sequence: sequence, eventTimePs: eventTimePs)
        self.body = body
        header.itemCount = body.itemCount
        header.payloadLength = 0
    }

    init(header: MessageHeader, body: Body) {
        self.header = header
        self.body = body
    }

    /// The PUB topic for broadcasts: `herald` or `status` (both ``broadcastTopicLength`` bytes), the first
    /// bytes of the broadcast frame, so a subscriber filters on them.
    public static func topic(for type: MessageType) -> [UInt8] { Array(type.description.utf8) }

    /// The length of a broadcast topic in bytes.
    public static let broadcastTopicLength = 6

    /// The one frame a PUB sends: topic, header and payload back to back.
    public func broadcastFrame() -> [UInt8] {
        let (header, payload) = encoded()
        var frame = Self.topic(for: body.type)
        frame.reserveCapacity(frame.count + header.count + payload.count)
        frame += header
        frame += payload
        return frame
    }

    /// The one frame a node or the coordinator sends on the control socket: header and payload back to back.
    public func frame() -> [UInt8] {
        let (header, payload) = encoded()
        return header + payload
    }

    /// Decodes a broadcast frame (topic, header, payload; any alignment).
    /// - Throws: ``ProtocolError``: `.badHeader` for a short frame or a topic that does not name the
    ///   message's type, and every error of ``decode(header:payload:maxPayloadBytes:)``.
    public static func decodeBroadcast(_ frame: UnsafeRawBufferPointer, maxPayloadBytes: Int = 64 << 20) throws(ProtocolError) -> WireMessage {
        let topicLength = broadcastTopicLength
        guard frame.count >= topicLength + MessageHeader.size else {
            throw ProtocolError(.badHeader, "broadcast frame has \(frame.count) bytes, needs at least \(topicLength + MessageHeader.size)")
        }
        let rest = UnsafeRawBufferPointer(rebasing: frame[topicLength...])
        let header = try MessageHeader.decode(rest)
        guard frame.prefix(topicLength).elementsEqual(topic(for: header.type)) else {
            throw ProtocolError(.badHeader, "broadcast topic does not name its message type \(header.type)")
        }
        return try decode(frame: rest, maxPayloadBytes: maxPayloadBytes)
    }

    /// Decodes a control frame: the header, then the payload (any alignment).
    /// - Throws: ``ProtocolError``: every error of ``MessageHeader/decode(_:)`` and of
    ///   ``decode(header:payload:maxPayloadBytes:)``.
    public static func decode(frame: UnsafeRawBufferPointer, maxPayloadBytes: Int = 64 << 20) throws(ProtocolError) -> WireMessage {
        // MessageHeader.decode checks that the header's own length field (at least 48 bytes; later minor
        // versions may append fields) lies within the frame.
        _ = try MessageHeader.decode(frame)
        let headerLength = Int(frame[4]) | Int(frame[5]) << 8
        return try decode(header: UnsafeRawBufferPointer(rebasing: frame[..<headerLength]),
                          payload: UnsafeRawBufferPointer(rebasing: frame[headerLength...]), maxPayloadBytes: maxPayloadBytes)
    }

    /// Decodes a control frame held in a byte array (convenience for tests and small messages).
    public static func decode(frame: [UInt8], maxPayloadBytes: Int = 64 << 20) throws(ProtocolError) -> WireMessage {
        do {
            return try frame.withUnsafeBytes { try decode(frame: $0, maxPayloadBytes: maxPayloadBytes) }
        } catch let error as ProtocolError {
            throw error
        } catch {
            throw ProtocolError(.badPayload, "\(error)")
        }
    }

    /// Decodes a broadcast frame held in a byte array (convenience for tests).
    public static func decodeBroadcast(_ frame: [UInt8], maxPayloadBytes: Int = 64 << 20) throws(ProtocolError) -> WireMessage {
        do {
            return try frame.withUnsafeBytes { try decodeBroadcast($0, maxPayloadBytes: maxPayloadBytes) }
        } catch let error as ProtocolError {
            throw error
        } catch {
            throw ProtocolError(.badPayload, "\(error)")
        }
    }

    /// The header and the payload, which ``frame()`` puts back to back. The header carries the payload's length
    /// and CRC32C.
    public func encoded() -> (header: [UInt8], payload: [UInt8]) {
        let payload = body.payloadBytes()
        var header = self.header
        header.type = body.type
        header.payloadLength = UInt32(truncatingIfNeeded: payload.count)
        header.checksum = CRC32C.checksum(payload)
        header.itemCount = body.itemCount
        return (header.encoded(), payload)
    }

    /// Decodes a header and its payload held apart (any alignment).
    /// - Parameter maxPayloadBytes: larger payloads are rejected as ``ProtocolError/Kind/oversized``.
    public static func decode(header headerBytes: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer,
                              maxPayloadBytes: Int = 64 << 20) throws(ProtocolError) -> WireMessage {
        let header = try MessageHeader.decode(headerBytes)
        guard payload.count <= maxPayloadBytes else {
            throw ProtocolError(.oversized, "payload of \(payload.count) bytes exceeds the limit of \(maxPayloadBytes)")
        }
        guard Int(header.payloadLength) == payload.count else {
            throw ProtocolError(.badLength, "header announces \(header.payloadLength) payload bytes, frame has \(payload.count)")
        }
        let computed = CRC32C.checksum(payload)
        guard computed == header.checksum else {
            throw ProtocolError(.checksumMismatch, "\(header.type) \(header.sequence): CRC32C \(hex(computed)) differs from header \(hex(header.checksum))")
        }
        return WireMessage(header: header, body: try Body.decode(header: header, payload: payload))
    }

    /// Decodes a header and its payload from two byte arrays (convenience for tests).
    public static func decode(header: [UInt8], payload: [UInt8], maxPayloadBytes: Int = 64 << 20) throws(ProtocolError) -> WireMessage {
        do {
            return try header.withUnsafeBytes { h in
                try payload.withUnsafeBytes { p in try decode(header: h, payload: p, maxPayloadBytes: maxPayloadBytes) }
            }
        } catch let error as ProtocolError {
            throw error
        } catch {
            throw ProtocolError(.badPayload, "\(error)")
        }
    }
}

func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

extension WireMessage.Body {
    var itemCount: UInt32 {
        if case .tagBatch(let batch) = self { return UInt32(truncatingIfNeeded: batch.count) }
        return 0
    }

    func payloadBytes() -> [UInt8] {
        var writer = ByteWriter()
        switch self {
        case .hello(let hello):
            return Self.json(hello)
        case .status(let status):
            return Self.json(status)
        case .welcome(let welcome):
            writer.put(welcome.lastAcceptedSequence)
            writer.put(welcome.credit)
            writer.put(UInt32(0))
            writer.put(welcome.nextHeraldSequence)
            writer.put(welcome.runId)
        case .tagBatch(let batch):
            return TagPayload.encode(batch)
        case .acknowledgement(let ack):
            writer.put(ack.session)
            writer.put(ack.sequence)
            writer.put(ack.status.rawValue)
            writer.put(UInt8(0)); writer.put(UInt16(0))
            writer.put(ack.credit)
            writer.put(ack.resendFrom)
        case .heartbeat:
            break
        case .herald(let herald):
            writer.put(herald.attemptId)
            writer.put(herald.outcome.rawValue)
            writer.put(bytes: [UInt8](repeating: 0, count: 7))
            writer.put(herald.detectionPs)
        case .error(let report):
            writer.put(report.code)
            writer.put(bytes: Array(report.text.utf8))
        case .heraldRequest(let request):
            writer.put(request.first)
            writer.put(request.last)
        case .rateProposal, .rateAnswer, .rateCommit, .rateAbort, .rateApplied, .rateSchedule:
            return ratePayloadBytes() ?? []
        }
        return writer.bytes
    }

    static func json<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }

    static func parseJSON<T: Decodable>(_ type: T.Type, _ payload: UnsafeRawBufferPointer) throws(ProtocolError) -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(T.self, from: Data(payload))
        } catch {
            throw ProtocolError(.badPayload, "JSON payload is not a valid \(T.self): \(error)")
        }
    }

    static func requireSize(_ payload: UnsafeRawBufferPointer, _ size: Int, _ type: MessageType) throws(ProtocolError) {
        guard payload.count == size else {
            throw ProtocolError(.badLength, "\(type) payload has \(payload.count) bytes, the layout needs \(size)")
        }
    }

    static func decode(header: MessageHeader, payload: UnsafeRawBufferPointer) throws(ProtocolError) -> WireMessage.Body {
        var reader = ByteReader(payload)
        switch header.type {
        case .hello:
            return .hello(try parseJSON(Hello.self, payload))
        case .status:
            return .status(try parseJSON(StatusReport.self, payload))
        case .welcome:
            try requireSize(payload, Welcome.size, header.type)
            let last: UInt64 = try reader.read()
            let credit: UInt32 = try reader.read()
            _ = try reader.read(UInt32.self)
            let nextHerald: UInt64 = try reader.read()
            let runId: UInt64 = try reader.read()
            return .welcome(Welcome(lastAcceptedSequence: last, credit: credit, nextHeraldSequence: nextHerald, runId: runId))
        case .tagBatch:
            return .tagBatch(try TagPayload.decode(payload, expectedCount: Int(header.itemCount)))
        case .acknowledgement:
            try requireSize(payload, Acknowledgement.size, header.type)
            let session: UInt64 = try reader.read()
            let sequence: UInt64 = try reader.read()
            let rawStatus: UInt8 = try reader.read()
            _ = try reader.read(UInt8.self); _ = try reader.read(UInt16.self)
            let credit: UInt32 = try reader.read()
            let resendFrom: UInt64 = try reader.read()
            guard let status = AcknowledgementStatus(rawValue: rawStatus) else {
                throw ProtocolError(.badPayload, "acknowledgement status \(rawStatus) is unknown")
            }
            return .acknowledgement(Acknowledgement(session: session, sequence: sequence, status: status, credit: credit, resendFrom: resendFrom))
        case .heartbeat:
            try requireSize(payload, 0, header.type)
            return .heartbeat
        case .herald:
            try requireSize(payload, Herald.size, header.type)
            let attempt: UInt64 = try reader.read()
            let rawOutcome: UInt8 = try reader.read()
            _ = try reader.readBytes(7)
            let detection: Int64 = try reader.read()
            guard let outcome = HeraldOutcome(rawValue: rawOutcome) else {
                throw ProtocolError(.badPayload, "herald outcome \(rawOutcome) is unknown")
            }
            return .herald(Herald(sequence: header.sequence, attemptId: attempt, outcome: outcome, timePs: header.eventTimePs, detectionPs: detection))
        case .error:
            guard payload.count >= 2 else { throw ProtocolError(.badLength, "error payload shorter than its 2-byte code") }
            let code: UInt16 = try reader.read()
            let text = String(decoding: try reader.readBytes(reader.remaining), as: UTF8.self)
            return .error(ErrorReport(code: code, text: text))
        case .heraldRequest:
            try requireSize(payload, HeraldRequest.size, header.type)
            let first: UInt64 = try reader.read()
            let last: UInt64 = try reader.read()
            guard first <= last else { throw ProtocolError(.badPayload, "herald request range \(first)…\(last) is empty") }
            return .heraldRequest(HeraldRequest(first: first, last: last))
        case .rateProposal, .rateAnswer, .rateCommit, .rateAbort, .rateApplied, .rateSchedule:
            guard let body = try decodeRate(header: header, payload: payload) else {
                throw ProtocolError(.unknownType, "\(header.type) has no decoder")
            }
            return body
        }
    }
}
