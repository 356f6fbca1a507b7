import Foundation

/// A strict parser of the Prometheus text exposition format 0.0.4, used to check what `/metrics` serves.
///
/// It rejects: lines that are neither a comment nor a sample, invalid metric or label names, label values
/// with bad escapes or unterminated quotes, duplicate label names, unparsable values, a TYPE given twice or
/// after the family's samples, samples of a family that are not contiguous, duplicate series, unknown
/// types, and histograms without `_sum`/`_count`, with a non-monotone or missing `+Inf` bucket or with
/// `+Inf` ≠ `_count`.
struct ExpositionParser {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Family {
        var name: String
        var type: String = "untyped"
        var help: String?
        var samples: [Sample] = []
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { "line \(line): \(message)" }
    }

    private(set) var families: [String: Family] = [:]

    static func isMetricName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" || first == ":" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }

    static func isLabelName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard !text.isEmpty, text.allSatisfy({ "0123456789+-.eE".contains($0) }) else { return nil }
            return Double(text)
        }
    }

    /// The family a sample name belongs to (histogram and summary suffixes removed when the base is typed).
    private func familyName(of sample: String) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if let family = families[base], family.type == "histogram" || family.type == "summary" { return base }
        }
        return sample
    }

    mutating func parse(_ text: String) throws(ParseError) {
        guard text.isEmpty || text.hasSuffix("\n") else { throw ParseError(line: 0, message: "the text must end with a line feed") }
        var finished = Set<String>()
        var current: String?
        var seriesSeen = Set<String>()
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = rawLine
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, parts[1] == "HELP" || parts[1] == "TYPE" else { continue }   // plain comment
                let name = String(parts[2])
                guard Self.isMetricName(parts[2]) else { throw ParseError(line: number, message: "bad metric name '\(name)'") }
                guard !finished.contains(name) else { throw ParseError(line: number, message: "\(parts[1]) for '\(name)' after its samples") }
                var family = families[name] ?? Family(name: name)
                guard family.samples.isEmpty else { throw ParseError(line: number, message: "\(parts[1]) for '\(name)' after its samples") }
                if parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw ParseError(line: number, message: "bad TYPE line")
                    }
                    guard families[name]?.type == nil || families[name]?.type == "untyped" else {
                        throw ParseError(line: number, message: "TYPE given twice for '\(name)'")
                    }
                    family.type = String(parts[3])
                } else {
                    guard family.help == nil else { throw ParseError(line: number, message: "HELP given twice for '\(name)'") }
                    family.help = parts.count == 4 ? String(parts[3]) : ""
                }
                families[name] = family
                continue
            }
            let sample = try parseSample(line, number)
            let familyName = familyName(of: sample.name)
            if current != familyName {
                if let current { finished.insert(current) }
                guard !finished.contains(familyName) else {
                    throw ParseError(line: number, message: "samples of '\(familyName)' are not contiguous")
                }
                current = familyName
            }
            let series = sample.name + "{" + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
            guard seriesSeen.insert(series).inserted else { throw ParseError(line: number, message: "duplicate series \(series)") }
            var family = families[familyName] ?? Family(name: familyName)
            if family.type == "counter", sample.value < 0 { throw ParseError(line: number, message: "negative counter") }
            family.samples.append(sample)
            families[familyName] = family
        }
        for family in families.values where family.type == "histogram" { try checkHistogram(family) }
    }

    private func parseSample(_ line: Substring, _ number: Int) throws(ParseError) -> Sample {
        var rest = line[...]
        let nameEnd = rest.firstIndex(where: { $0 == "{" || $0 == " " }) ?? rest.endIndex
        let name = rest[..<nameEnd]
        guard Self.isMetricName(name) else { throw ParseError(line: number, message: "bad metric name '\(name)'") }
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "=") else { throw ParseError(line: number, message: "label without '='") }
                let labelName = rest[..<equals]
                guard Self.isLabelName(labelName) else { throw ParseError(line: number, message: "bad label name '\(labelName)'") }
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { throw ParseError(line: number, message: "label value not quoted") }
                rest = rest.dropFirst()
                var value = ""
                var closed = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if character == "\\" {
                        guard let escaped = rest.first else { break }
                        rest = rest.dropFirst()
                        switch escaped {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: throw ParseError(line: number, message: "bad escape '\\\(escaped)'")
                        }
                    } else if character == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { throw ParseError(line: number, message: "unterminated label value") }
                guard labels.updateValue(value, forKey: String(labelName)) == nil else {
                    throw ParseError(line: number, message: "label '\(labelName)' given twice")
                }
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" {
                    throw ParseError(line: number, message: "expected ',' or '}' after a label")
                }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw ParseError(line: number, message: "expected a space before the value") }
        let fields = rest.dropFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 1 || fields.count == 2, let value = Self.parseValue(fields[0]) else {
            throw ParseError(line: number, message: "bad value '\(rest.dropFirst())'")
        }
        if fields.count == 2, Int64(fields[1]) == nil { throw ParseError(line: number, message: "bad timestamp") }
        return Sample(name: String(name), labels: labels, value: value)
    }

    private func checkHistogram(_ family: Family) throws(ParseError) {
        var groups: [String: (buckets: [(Double, Double)], sum: Double?, count: Double?)] = [:]
        for sample in family.samples {
            var labels = sample.labels
            let le = labels.removeValue(forKey: "le")
            let key = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            var group = groups[key] ?? ([], nil, nil)
            switch sample.name {
            case family.name + "_bucket":
                guard let le, let bound = Self.parseValue(le[...]) else {
                    throw ParseError(line: 0, message: "\(family.name): bucket without a numeric le")
                }
                group.buckets.append((bound, sample.value))
            case family.name + "_sum": group.sum = sample.value
            case family.name + "_count": group.count = sample.value
            default: throw ParseError(line: 0, message: "\(family.name): unexpected sample \(sample.name)")
            }
            groups[key] = group
        }
        for (key, group) in groups {
            guard let sum = group.sum, let count = group.count, !sum.isNaN else {
                throw ParseError(line: 0, message: "\(family.name){\(key)}: missing _sum or _count")
            }
            let sorted = group.buckets.sorted { $0.0 < $1.0 }
            guard let last = sorted.last, last.0 == .infinity, last.1 == count else {
                throw ParseError(line: 0, message: "\(family.name){\(key)}: +Inf bucket missing or not equal to _count")
            }
            for (a, b) in zip(sorted, sorted.dropFirst()) where b.1 < a.1 {
                throw ParseError(line: 0, message: "\(family.name){\(key)}: bucket counts decrease")
            }
        }
    }
}
