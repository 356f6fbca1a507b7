/// A ZeroMQ endpoint such as `tcp://127.0.0.1:5550`, validated when the configuration is read.
public struct Endpoint: Decodable, Sendable, Hashable, CustomStringConvertible {
    /// Transports QLink speaks.
    public enum Transport: String, Sendable {
        case tcp, ipc, inproc
    }

    /// The transport.
    public var transport: Transport
    /// Host (tcp), path (ipc) or name (inproc).
    public var address: String
    /// TCP port; 0 asks the system for a free one when binding.
    public var port: Int

    /// Parses `tcp://host:port`, `ipc:///path` or `inproc://name`.
    public init(parsing text: String) throws(EndpointParseError) {
        guard let range = text.range(of: "://") else {
            throw EndpointParseError(text: text, reason: "missing '://'; expected e.g. tcp://127.0.0.1:5550")
        }
        guard let transport = Transport(rawValue: String(text[..<range.lowerBound])) else {
            throw EndpointParseError(text: text, reason: "unknown transport; expected tcp, ipc or inproc")
        }
        let rest = String(text[range.upperBound...])
        self.transport = transport
        switch transport {
        case .tcp:
            guard let colon = rest.lastIndex(of: ":") else {
                throw EndpointParseError(text: text, reason: "missing port; expected tcp://HOST:PORT")
            }
            let host = String(rest[..<colon])
            guard !host.isEmpty else { throw EndpointParseError(text: text, reason: "missing host") }
            guard let port = Int(rest[rest.index(after: colon)...]), (0...65535).contains(port) else {
                throw EndpointParseError(text: text, reason: "the port must be a number from 0 to 65535")
            }
            address = host
            self.port = port
        case .ipc, .inproc:
            guard !rest.isEmpty else { throw EndpointParseError(text: text, reason: "missing path or name") }
            address = rest
            port = 0
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try Endpoint(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public var description: String {
        switch transport {
        case .tcp: return "tcp://\(address):\(port)"
        case .ipc, .inproc: return "\(transport.rawValue)://\(address)"
        }
    }
}

/// An endpoint string that does not parse.
public struct EndpointParseError: Error, Sendable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "'\(text)' is not a valid endpoint: \(reason)" }
}
