import Messaging
import Protocol

/// Converts between Messaging frames and Protocol wire messages.
enum FrameCodec {
    /// Decodes a header frame and a payload frame without copying the payload first.
    static func decode(header: Frame, payload: Frame, maxPayloadBytes: Int) -> Result<WireMessage, ProtocolError> {
        do {
            let message = try header.withUnsafeBytes { headerBytes in
                try payload.withUnsafeBytes { payloadBytes in
                    try WireMessage.decode(header: headerBytes, payload: payloadBytes, maxPayloadBytes: maxPayloadBytes)
                }
            }
            return .success(message)
        } catch let error as ProtocolError {
            return .failure(error)
        } catch {
            return .failure(ProtocolError(.badPayload, "\(error)"))
        }
    }

    /// Decodes a broadcast's single frame (topic, header, payload) without copying it first.
    static func decodeBroadcast(_ frame: Frame, maxPayloadBytes: Int) -> Result<WireMessage, ProtocolError> {
        do {
            return .success(try frame.withUnsafeBytes { try WireMessage.decodeBroadcast($0, maxPayloadBytes: maxPayloadBytes) })
        } catch let error as ProtocolError {
            return .failure(error)
        } catch {
            return .failure(ProtocolError(.badPayload, "\(error)"))
        }
    }

    /// Reads only the header frame.
    static func header(_ frame: Frame) -> MessageHeader? {
        try? frame.withUnsafeBytes { try MessageHeader.decode($0) }
    }

    /// The two frames of `message`.
    static func frames(_ message: WireMessage) -> [Frame] {
        let (header, payload) = message.encoded()
        return [Frame(header), Frame(payload)]
    }
}
