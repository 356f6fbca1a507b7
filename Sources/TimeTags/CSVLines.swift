/// The one parser of CSV tag lines, used by ``CSVTagReader`` (files) and ``TagStreamDecoder`` (pipes).
///
/// A file is a sequence of lines: blank lines and `#` comments are skipped; the first other line may be a
/// header naming the two columns, `channel` and a time column whose name carries the unit (`time_ps`,
/// `time_ns`, `time_us`, `time_s`), in either order; without a header the lines are `channel,time_ps`. Marker
/// lines `M<n>,time` and gap lines `G,start,end,lost,channel` keep their fixed layout, their times in the
/// header's unit. Times in ns, µs or s may carry a decimal fraction and an exponent (`1.5e-9`); they are
/// rounded to the nearest picosecond.
struct CSVLines {
    /// A time column's unit.
    enum TimeUnit: String, CaseIterable {
        case ps = "time_ps", ns = "time_ns", us = "time_us", s = "time_s"

        /// The power of ten from the unit to picoseconds.
        var decimalExponentToPs: Int {
            switch self {
            case .ps: 0
            case .ns: 3
            case .us: 6
            case .s: 12
            }
        }
    }

    /// A line that cannot be read, with what to do about it.
    struct Problem: Error {
        var text: String
        var hint: String
    }

    /// The column holding the channel (0 or 1); the time is the other.
    private(set) var channelColumn = 0
    /// The unit of every time in the file.
    private(set) var unit = TimeUnit.ps
    private var sawFirstLine = false

    static let defaultHint = "lines are channel,time_ps (or a header such as channel,time_ns first; M<n>,time markers; G,start,end,lost,channel gaps)"

    /// Parses the line `bytes[range]` (without its newline) into `batch`.
    mutating func parse(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, into batch: inout TagBatch) throws(Problem) {
        let fields = Self.split(bytes, range)
        if fields.isEmpty { return }
        if fields[0].count > 0, bytes[fields[0].lowerBound] == 0x23 { return } // '#'
        let first = !sawFirstLine
        sawFirstLine = true
        if first, let letter = fields[0].first.map({ bytes[$0] | 0x20 }), letter >= 0x61, letter <= 0x7A,
           !(fields[0].count == 1 && letter == 0x67), !(letter == 0x6D && fields[0].count > 1 && Self.isDigit(bytes[fields[0].lowerBound + 1])) {
            try readHeader(bytes, fields)
            return
        }
        let head = fields[0]
        if head.count > 0, bytes[head.lowerBound] | 0x20 == 0x6D { // M / m
            guard fields.count == 2 else { throw Problem(text: "a marker line needs 2 fields, found \(fields.count)", hint: Self.defaultHint) }
            let marker = try Self.integer(bytes, (head.lowerBound + 1)..<head.upperBound, "marker number")
            guard let number = Int32(exactly: marker) else { throw Problem(text: "marker number \(marker) out of range", hint: Self.defaultHint) }
            batch.markers.append(MarkerEvent(timePs: try time(bytes, fields[1], "marker time"), marker: number))
        } else if head.count == 1, bytes[head.lowerBound] | 0x20 == 0x67 { // G / g
            guard fields.count == 5 else { throw Problem(text: "a gap line needs 5 fields, found \(fields.count)", hint: Self.defaultHint) }
            let start = try time(bytes, fields[1], "gap start")
            let end = try time(bytes, fields[2], "gap end")
            let lost = fields[3].isEmpty ? nil : try Self.integer(bytes, fields[3], "lost events")
            let channel = fields[4].isEmpty ? nil : try Self.integer(bytes, fields[4], "gap channel")
            guard channel.map({ Int32(exactly: $0) != nil }) ?? true else { throw Problem(text: "gap channel out of range", hint: Self.defaultHint) }
            batch.gaps.append(StreamGap(startPs: start, endPs: end, lostEvents: lost, channel: channel.map { Int32($0) }))
        } else {
            guard fields.count == 2 else { throw Problem(text: "expected 2 fields, found \(fields.count)", hint: Self.defaultHint) }
            let channel = try Self.integer(bytes, fields[channelColumn], "channel")
            guard let number = TagChannel(exactly: channel) else { throw Problem(text: "channel \(channel) out of range", hint: Self.defaultHint) }
            batch.append(timePs: try time(bytes, fields[1 - channelColumn], unit.rawValue), channel: number)
        }
    }

    private mutating func readHeader(_ bytes: UnsafeRawBufferPointer, _ fields: [Range<Int>]) throws(Problem) {
        let names = fields.map { Self.text(bytes, $0).lowercased() }
        let hint = "name the columns channel and one of \(TimeUnit.allCases.map(\.rawValue).joined(separator: ", ")), e.g. channel,time_ns"
        guard names.count == 2 else { throw Problem(text: "header '\(names.joined(separator: ","))' needs 2 columns", hint: hint) }
        guard let channel = names.firstIndex(of: "channel") else {
            throw Problem(text: "header '\(names.joined(separator: ","))' has no channel column", hint: hint)
        }
        let timeName = names[1 - channel]
        guard let unit = TimeUnit(rawValue: timeName) else {
            throw Problem(text: "unknown time column '\(timeName)' (its unit must be in the name)", hint: hint)
        }
        channelColumn = channel
        self.unit = unit
    }

    /// A time field in the file's unit, in picoseconds.
    private func time(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ what: String) throws(Problem) -> Int64 {
        if unit == .ps { return try Self.integer(bytes, range, what) }
        return try Self.decimal(bytes, range, what, exponentToPs: unit.decimalExponentToPs)
    }

    // MARK: Fields

    /// Field ranges of a line, trimmed of spaces, tabs and a trailing CR; empty for a blank line.
    static func split(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> [Range<Int>] {
        var fields: [Range<Int>] = []
        var fieldStart = range.lowerBound
        var allBlank = true
        for index in range.lowerBound...range.upperBound where index == range.upperBound || bytes[index] == 0x2C {
            var low = fieldStart, high = index
            while low < high && (bytes[low] == 0x20 || bytes[low] == 0x09) { low += 1 }
            while high > low && (bytes[high - 1] == 0x20 || bytes[high - 1] == 0x09 || bytes[high - 1] == 0x0D) { high -= 1 }
            if high > low { allBlank = false }
            fields.append(low..<high)
            fieldStart = index + 1
        }
        return allBlank ? [] : fields
    }

    static func text(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// A signed decimal integer (overflow-checked).
    static func integer(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ what: String) throws(Problem) -> Int64 {
        var index = range.lowerBound
        var negative = false
        if index < range.upperBound && (bytes[index] == 0x2D || bytes[index] == 0x2B) {
            negative = bytes[index] == 0x2D
            index += 1
        }
        guard index < range.upperBound else { throw Problem(text: "\(what) is empty", hint: defaultHint) }
        var value: Int64 = 0
        while index < range.upperBound {
            guard isDigit(bytes[index]) else {
                throw Problem(text: "\(what) '\(text(bytes, range))' is not an integer", hint: defaultHint)
            }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.subtractingReportingOverflow(Int64(bytes[index]) - 48) // negative accumulation reaches Int64.min
            guard !o1 && !o2 else { throw Problem(text: "\(what) '\(text(bytes, range))' does not fit 64 bits", hint: defaultHint) }
            value = sum
            index += 1
        }
        if negative { return value }
        guard value != Int64.min else { throw Problem(text: "\(what) '\(text(bytes, range))' does not fit 64 bits", hint: defaultHint) }
        return -value
    }

    /// A decimal number (`-12.345`, `1.5e-9`) times 10^`exponentToPs`, rounded to the nearest integer
    /// (halves away from zero), overflow-checked.
    static func decimal(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ what: String, exponentToPs: Int) throws(Problem) -> Int64 {
        let bad = Problem(text: "\(what) '\(text(bytes, range))' is not a number", hint: defaultHint)
        let tooLarge = Problem(text: "\(what) '\(text(bytes, range))' does not fit 64-bit picoseconds", hint: defaultHint)
        var index = range.lowerBound
        var negative = false
        if index < range.upperBound && (bytes[index] == 0x2D || bytes[index] == 0x2B) {
            negative = bytes[index] == 0x2D
            index += 1
        }
        // Significant digits (up to 17, exact in Int64 with one more for rounding), the power of ten they are scaled by, and whether any
        // non-zero digit beyond them was dropped (it only matters for rounding ties).
        var mantissa: Int64 = 0, significant = 0, scale = 0, digits = 0
        var seenPoint = false
        var firstDropped: Int64 = -1
        while index < range.upperBound, bytes[index] == 0x2E || isDigit(bytes[index]) {
            if bytes[index] == 0x2E {
                guard !seenPoint else { throw bad }
                seenPoint = true
            } else {
                digits += 1
                let digit = Int64(bytes[index]) - 48
                if significant < 17 {
                    if mantissa > 0 || digit > 0 { significant += 1 }
                    mantissa = mantissa * 10 + digit
                    if seenPoint { scale -= 1 }
                } else {
                    if firstDropped < 0 { firstDropped = digit }
                    if !seenPoint { scale += 1 }
                }
            }
            index += 1
        }
        guard digits > 0 else { throw bad }
        if index < range.upperBound {
            guard bytes[index] | 0x20 == 0x65 else { throw bad } // e / E
            let exponent = try? integer(bytes, (index + 1)..<range.upperBound, what)
            guard let exponent, abs(exponent) < 1_000 else { throw bad }
            scale += Int(exponent)
        }
        scale += exponentToPs
        if firstDropped >= 0, scale < 0 {
            // Rounding looks only at the first digit beyond the kept ones (as if the mantissa had one more digit).
            mantissa = mantissa * 10 + firstDropped
            scale -= 1
        }
        var value = mantissa
        if scale >= 0 {
            for _ in 0..<scale {
                let (next, overflow) = value.multipliedReportingOverflow(by: 10)
                guard !overflow else { throw tooLarge }
                value = next
            }
        } else {
            var divisor: Int64 = 1
            for _ in 0..<min(-scale, 19) { divisor = divisor.multipliedReportingOverflow(by: 10).overflow ? Int64.max : divisor * 10 }
            let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
            value = quotient + (remainder >= divisor - remainder ? 1 : 0)
        }
        return negative ? -value : value
    }
}
