/// A multipart ZeroMQ message: one or more frames delivered atomically.
public struct Message: Sendable, Equatable, CustomStringConvertible {
    /// The frames in order.
    public var frames: [Frame]

    public init(_ frames: [Frame]) {
        self.frames = frames
    }

    /// A message of UTF-8 text frames.
    public init(strings: String...) {
        frames = strings.map(Frame.init)
    }

    /// Number of frames.
    public var count: Int { frames.count }

    /// The frame at `index`, or `nil` beyond the end.
    public subscript(safe index: Int) -> Frame? {
        frames.indices.contains(index) ? frames[index] : nil
    }

    /// Frames as UTF-8 text (non-text frames become `nil`).
    public var strings: [String?] { frames.map(\.string) }

    /// Total payload size in bytes.
    public var byteCount: Int { frames.reduce(0) { $0 + $1.count } }

    public var description: String { "[" + frames.map(\.description).joined(separator: ", ") + "]" }
}
