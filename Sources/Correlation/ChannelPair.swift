import TimeTags

/// An ordered pair of channels: lags are measured as `time(second) − time(first)`.
public struct ChannelPair: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The reference channel.
    public var first: TagChannel
    /// The channel whose times are compared with the reference.
    public var second: TagChannel

    /// Creates the pair `(first, second)`.
    public init(_ first: TagChannel, _ second: TagChannel) {
        self.first = first
        self.second = second
    }

    public var description: String { "\(first)→\(second)" }
}

/// An inclusive window of lags `lowerPs ... upperPs` (lag = `t(second) − t(first)`).
///
/// A symmetric window of half-width `w` is `-w ... w`; windows may be asymmetric and need not contain zero.
public struct CoincidenceWindow: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Smallest lag counted, in picoseconds (inclusive).
    public var lowerPs: Int64
    /// Largest lag counted, in picoseconds (inclusive).
    public var upperPs: Int64

    /// An asymmetric window `lowerPs ... upperPs`. Throws when `lowerPs > upperPs`.
    public init(lowerPs: Int64, upperPs: Int64) throws(CorrelationError) {
        guard lowerPs <= upperPs else {
            throw CorrelationError(.invalidParameter, "window lower edge \(lowerPs) ps is above upper edge \(upperPs) ps",
                                   context: "CoincidenceWindow", hint: "give the edges in increasing order")
        }
        self.lowerPs = lowerPs
        self.upperPs = upperPs
    }

    /// A symmetric window `-halfWidthPs ... halfWidthPs`, optionally centred on `centerPs`.
    public init(halfWidthPs: Int64, centerPs: Int64 = 0) throws(CorrelationError) {
        guard halfWidthPs >= 0 else {
            throw CorrelationError(.invalidParameter, "negative half-width \(halfWidthPs) ps",
                                   context: "CoincidenceWindow", hint: "use a half-width of zero or more")
        }
        try self.init(lowerPs: centerPs - halfWidthPs, upperPs: centerPs + halfWidthPs)
    }

    /// Number of integer lags in the window (`upperPs − lowerPs + 1`), the τ of accidental estimates.
    public var widthPs: Int64 { upperPs - lowerPs + 1 }

    /// Whether `lagPs` lies in the window.
    @inlinable public func contains(_ lagPs: Int64) -> Bool { lagPs >= lowerPs && lagPs <= upperPs }

    /// The largest absolute lag the window reaches.
    public var reachPs: Int64 { max(abs(lowerPs), abs(upperPs)) }

    /// The same window moved by `shiftPs`.
    public func shifted(by shiftPs: Int64) -> CoincidenceWindow {
        var copy = self
        copy.lowerPs += shiftPs
        copy.upperPs += shiftPs
        return copy
    }

    public var description: String { "[\(lowerPs), \(upperPs)] ps" }
}

/// A channel pair with the window its coincidences are counted in.
public struct CoincidenceSpec: Sendable, Hashable, Codable {
    /// The channel pair.
    public var pair: ChannelPair
    /// The lag window.
    public var window: CoincidenceWindow

    /// Creates a specification.
    public init(_ pair: ChannelPair, window: CoincidenceWindow) {
        self.pair = pair
        self.window = window
    }
}
