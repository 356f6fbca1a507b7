/// The values a header may give for quantities that scale time, and the check readers apply to
/// them. A value outside these ranges (zero, negative, infinite, NaN or beyond any instrument) is
/// a ``TagFileError`` naming the file, the byte offset and the field, never a trap or wrapped times.
///
/// The ranges come from real instruments with a wide margin (`docs/formats.md`):
/// - T2 time unit: 1 ps (HydraHarp 400, PicoHarp 330, MultiHarp 160) to 250 ps (TimeHarp 260 N);
///   accepted 1 fs … 1 ns.
/// - T3 sync period: sync inputs run from about 1.2 GHz down to pulsed sources of a few Hz;
///   accepted 1 ps … 1 s.
/// - T3 fine-time bin: base resolution 1-250 ps, binned by up to 2^15 (MultiHarp 150: 2.6 µs);
///   accepted 1 fs … 100 µs.
/// - A `.qtag` resolution is a T2 unit or a T3 bin: 1 fs … 100 µs.
/// - quTAG time base: 1 ps on every model; accepted 1 ps … 1 µs.
public enum TimeScaleLimits {
    /// T2 time unit (PTU `MeasDesc_GlobalResolution` in T2 mode), in ps.
    public static let timeUnitPs: ClosedRange<Double> = 1e-3...1e3
    /// T3 sync period (PTU `MeasDesc_GlobalResolution` in T3 mode, `.qtag` `syncPeriodPs`), in ps.
    public static let syncPeriodPs: ClosedRange<Double> = 1...1e12
    /// T3 fine-time bin (PTU `MeasDesc_Resolution`), in ps.
    public static let fineBinPs: ClosedRange<Double> = 1e-3...1e8
    /// Time resolution stated by a `.qtag` header (`resolutionPs`), in ps.
    public static let resolutionPs: ClosedRange<Double> = 1e-3...1e8
    /// quTAG time base, in ps.
    public static let quTAGTimeBasePs: ClosedRange<Int64> = 1...1_000_000

    /// Largest time in ps a reader produces: a margin below `Int64.max`, so that rounding a
    /// `Double` near the limit can never trap.
    public static let maxTimePs: Int64 = 9_000_000_000_000_000_000

    /// The field's value in ps if it is finite and within `range`, otherwise
    /// a `badHeader` error that shows the value as stored.
    ///
    /// - Parameters:
    ///   - value: the field as the file stores it.
    ///   - inSeconds: whether the file stores the field in seconds (PTU) rather than picoseconds.
    ///   - field: the header field as the file names it; `what` says what it means.
    ///   - byteOffset: where the field is in the file (evaluated only for the error).
    static func check(
        _ value: Double, inSeconds: Bool = false, in range: ClosedRange<Double>, field: String, what: String,
        file: String, byteOffset: @autoclosure () -> Int64?
    ) throws -> Double {
        let psPerUnit = inSeconds ? 1e12 : 1
        let valuePs = value * psPerUnit
        guard valuePs.isFinite, range.contains(valuePs) else {
            let unit = inSeconds ? " s" : " ps"
            throw TagFileError(.badHeader, file: file, byteOffset: byteOffset(),
                               problem: "\(field) = \(value)\(unit) is not a possible \(what)"
                                   + " (allowed \(range.lowerBound / psPerUnit)\(unit) to \(range.upperBound / psPerUnit)\(unit))",
                               hint: "the header is damaged or was written wrongly; fix the field or re-export the recording")
        }
        return valuePs
    }
}
