import Messaging
import Protocol

/// Converts between Messaging frames and Protocol wire messages (one frame per message, see ``WireMessage``).
enum FrameCodec {
    /// Decodes a control frame (header, payload) without copying it first.
    static func decode(_ frame: Frame, maxPayloadBytes: Int) -> Result<WireMessage, ProtocolError> {
        decoding { try frame.withUnsafeBytes { try WireMessage.decode(frame: $0, maxPayloadBytes: maxPayloadBytes) } }
    }

    /// Decodes a broadcast's single frame (topic, header, payload) without copying it first.
    static func decodeBroadcast(_ frame: Frame, maxPayloadBytes: Int) -> Result<WireMessage, ProtocolError> {
        decoding { try frame.withUnsafeBytes { try WireMessage.decodeBroadcast($0, maxPayloadBytes: maxPayloadBytes) } }
    }

    private static func decoding(_ body: () throws -> WireMessage) -> Result<WireMessage, ProtocolError> {
        do {
            return .success(try body())
        } catch let error as ProtocolError {
            return .failure(error)
        } catch {
            return .failure(ProtocolError(.badPayload, "\(error)"))
        }
    }

    /// Reads only the header at the start of a control frame.
    static func header(_ frame: Frame) -> MessageHeader? {
        try? frame.withUnsafeBytes { try MessageHeader.decode($0) }
    }

    /// The one frame of `message`.
    static func frame(_ message: WireMessage) -> Frame {
        let (header, payload) = message.encoded()
        return frame(header: header, payload: payload)
    }

    /// One frame holding an encoded header and its payload back to back (a spooled batch), copied once.
    static func frame(header: [UInt8], payload: [UInt8]) -> Frame {
        Frame(count: header.count + payload.count) { buffer in
            buffer.copyBytes(from: header)
            UnsafeMutableRawBufferPointer(rebasing: buffer[header.count...]).copyBytes(from: payload)
        }
    }
}
