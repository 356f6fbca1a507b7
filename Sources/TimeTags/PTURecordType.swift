/// The bit layout family of a PTU record stream.
public enum PTURecordLayout: String, Sendable, Equatable {
    /// PicoHarp 300 T2: 4-bit channel, 28-bit time; channel 15 marks overflows (210698240 units) and markers.
    case picoHarpT2
    /// PicoHarp 300 T3: 4-bit channel (1-4), 12-bit fine time, 16-bit sync count; overflow 65536 syncs.
    case picoHarpT3
    /// HydraHarp 400 v1 T2: special bit, 6-bit channel, 25-bit time; every overflow adds 33552000 units.
    case hydraHarpV1T2
    /// HydraHarp 400 v1 T3: special bit, 6-bit channel, 15-bit fine time, 10-bit sync; overflow 1024 syncs.
    case hydraHarpV1T3
    /// HydraHarp v2, TimeHarp 260, MultiHarp, PicoHarp 330 T2: overflow records carry a count of 2^25-unit wraps.
    case genericT2
    /// HydraHarp v2, TimeHarp 260, MultiHarp, PicoHarp 330 T3: overflow records carry a count of 1024-sync wraps.
    case genericT3

    /// Whether records carry a sync count and a fine time.
    public var isT3: Bool { self == .picoHarpT3 || self == .hydraHarpV1T3 || self == .genericT3 }
}

/// The record type word of a PTU file (`TTResultFormat_TTTRRecType`).
public struct PTURecordType: Sendable, Equatable, CustomStringConvertible {
    /// The raw 32-bit record type.
    public var rawValue: UInt32

    /// PicoHarp 300, T2.
    public static let picoHarp300T2 = PTURecordType(rawValue: 0x0001_0203)
    /// PicoHarp 300, T3.
    public static let picoHarp300T3 = PTURecordType(rawValue: 0x0001_0303)
    /// HydraHarp 400 record format v1, T2.
    public static let hydraHarpV1T2 = PTURecordType(rawValue: 0x0001_0204)
    /// HydraHarp 400 record format v1, T3.
    public static let hydraHarpV1T3 = PTURecordType(rawValue: 0x0001_0304)
    /// HydraHarp 400 record format v2, T2.
    public static let hydraHarpV2T2 = PTURecordType(rawValue: 0x0101_0204)
    /// HydraHarp 400 record format v2, T3.
    public static let hydraHarpV2T3 = PTURecordType(rawValue: 0x0101_0304)
    /// TimeHarp 260 N, T2.
    public static let timeHarp260NT2 = PTURecordType(rawValue: 0x0001_0205)
    /// TimeHarp 260 N, T3.
    public static let timeHarp260NT3 = PTURecordType(rawValue: 0x0001_0305)
    /// TimeHarp 260 P, T2.
    public static let timeHarp260PT2 = PTURecordType(rawValue: 0x0001_0206)
    /// TimeHarp 260 P, T3.
    public static let timeHarp260PT3 = PTURecordType(rawValue: 0x0001_0306)
    /// MultiHarp and PicoHarp 330 ("generic"), T2.
    public static let genericT2 = PTURecordType(rawValue: 0x0001_0207)
    /// MultiHarp and PicoHarp 330 ("generic"), T3.
    public static let genericT3 = PTURecordType(rawValue: 0x0001_0307)

    /// Every record type QLink decodes.
    public static let all: [PTURecordType] = [
        .picoHarp300T2, .picoHarp300T3, .hydraHarpV1T2, .hydraHarpV1T3, .hydraHarpV2T2, .hydraHarpV2T3,
        .timeHarp260NT2, .timeHarp260NT3, .timeHarp260PT2, .timeHarp260PT3, .genericT2, .genericT3,
    ]

    /// Creates a record type from its raw value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The bit layout, or `nil` for a record type QLink does not know.
    public var layout: PTURecordLayout? {
        switch self {
        case .picoHarp300T2: return .picoHarpT2
        case .picoHarp300T3: return .picoHarpT3
        case .hydraHarpV1T2: return .hydraHarpV1T2
        case .hydraHarpV1T3: return .hydraHarpV1T3
        case .hydraHarpV2T2, .timeHarp260NT2, .timeHarp260PT2, .genericT2: return .genericT2
        case .hydraHarpV2T3, .timeHarp260NT3, .timeHarp260PT3, .genericT3: return .genericT3
        default: return nil
        }
    }

    /// Instrument family named by the record type.
    public var deviceName: String {
        switch self {
        case .picoHarp300T2, .picoHarp300T3: return "PicoHarp 300"
        case .hydraHarpV1T2, .hydraHarpV1T3: return "HydraHarp 400 (v1)"
        case .hydraHarpV2T2, .hydraHarpV2T3: return "HydraHarp 400 (v2)"
        case .timeHarp260NT2, .timeHarp260NT3: return "TimeHarp 260 N"
        case .timeHarp260PT2, .timeHarp260PT3: return "TimeHarp 260 P"
        case .genericT2, .genericT3: return "MultiHarp / PicoHarp 330"
        default: return "unknown"
        }
    }

    /// `0x10203 (PicoHarp 300 T2)`.
    public var description: String {
        let mode = layout.map { $0.isT3 ? " T3" : " T2" } ?? ""
        return "0x" + String(rawValue, radix: 16) + " (\(deviceName)\(mode))"
    }
}
