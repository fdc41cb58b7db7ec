import Foundation

/// An independent, strict reader of the Prometheus text exposition format 0.0.4 for the tests: every line must be a
/// `# HELP`, a `# TYPE` or a sample with valid name, label syntax and float value; each sample's family must have
/// HELP and TYPE before it; histograms must have cumulative buckets ending in `+Inf` equal to `_count`.
struct Exposition {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Invalid: Error, CustomStringConvertible {
        let line: Int
        let text: String
        let why: String
        var description: String { "line \(line): \(why): \(text)" }
    }

    var help: [String: String] = [:]
    var types: [String: String] = [:]
    var samples: [Sample] = []

    init(_ text: String) throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.last == "" else { throw Invalid(line: lines.count, text: "", why: "must end with a newline") }
        for (i, raw) in lines.dropLast().enumerated() {
            let line = String(raw)
            func fail(_ why: String) -> Invalid { Invalid(line: i + 1, text: line, why: why) }
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let rest = line.dropFirst(7)
                let name = String(rest.prefix(while: { $0 != " " }))
                guard Exposition.isMetricName(name), rest.count > name.count else { throw fail("bad metric name") }
                let value = String(rest.dropFirst(name.count + 1))
                if line.hasPrefix("# HELP ") {
                    guard help[name] == nil else { throw fail("second HELP") }
                    help[name] = value
                } else {
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(value) else { throw fail("bad type") }
                    guard types[name] == nil, !samples.contains(where: { Exposition.family($0.name, types) == name }) else {
                        throw fail("TYPE after samples or repeated")
                    }
                    types[name] = value
                }
                continue
            }
            guard !line.hasPrefix("#"), !line.isEmpty else { throw fail("comment or empty line") }
            let sample = try Exposition.parseSample(line, fail: fail)
            guard let family = Exposition.family(sample.name, types), help[family] != nil else { throw fail("sample before its TYPE and HELP") }
            samples.append(sample)
        }
        try checkHistograms()
    }

    /// The family a sample belongs to (histogram suffixes stripped when the base is a histogram).
    static func family(_ name: String, _ types: [String: String]) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return nil
    }

    static func isMetricName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || first == ":" || CharacterSet.letters.contains(first), first.isASCII else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0 == ":" || CharacterSet.alphanumerics.contains($0)) }
    }

    static func isLabelName(_ s: String) -> Bool { isMetricName(s) && !s.contains(":") }

    static func parseSample(_ line: String, fail: (String) -> Invalid) throws -> Sample {
        let chars = Array(line.unicodeScalars)
        var i = 0
        var name = ""
        while i < chars.count, chars[i] != "{", chars[i] != " " { name.unicodeScalars.append(chars[i]); i += 1 }
        guard isMetricName(name) else { throw fail("bad sample name") }
        var labels: [String: String] = [:]
        if i < chars.count, chars[i] == "{" {
            i += 1
            while i < chars.count, chars[i] != "}" {
                var label = ""
                while i < chars.count, chars[i] != "=" { label.unicodeScalars.append(chars[i]); i += 1 }
                guard isLabelName(label), i + 1 < chars.count, chars[i + 1] == "\"" else { throw fail("bad label") }
                i += 2
                var value = ""
                while true {
                    guard i < chars.count else { throw fail("unterminated label value") }
                    let c = chars[i]
                    if c == "\"" { i += 1; break }
                    if c == "\\" {
                        guard i + 1 < chars.count else { throw fail("dangling escape") }
                        switch chars[i + 1] {
                        case "\\": value += "\\"
                        case "\"": value += "\""
                        case "n": value += "\n"
                        default: throw fail("bad escape")
                        }
                        i += 2
                        continue
                    }
                    guard c != "\n" else { throw fail("raw newline in label value") }
                    value.unicodeScalars.append(c)
                    i += 1
                }
                guard labels[label] == nil else { throw fail("repeated label") }
                labels[label] = value
                if i < chars.count, chars[i] == "," { i += 1 }
            }
            guard i < chars.count else { throw fail("unterminated labels") }
            i += 1
        }
        guard i < chars.count, chars[i] == " " else { throw fail("no space before value") }
        let rest = String(String.UnicodeScalarView(chars[(i + 1)...]))
        let fields = rest.split(separator: " ")
        guard (1...2).contains(fields.count), let value = parseValue(String(fields[0])) else { throw fail("bad value") }
        if fields.count == 2 { guard Int64(fields[1]) != nil else { throw fail("bad timestamp") } }
        return Sample(name: name, labels: labels, value: value)
    }

    static func parseValue(_ s: String) -> Double? {
        switch s {
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard s.unicodeScalars.allSatisfy({ "0123456789.eE+-".unicodeScalars.contains($0) }) else { return nil }
            return Double(s)
        }
    }

    private func checkHistograms() throws {
        for (name, type) in types where type == "histogram" {
            var series: [String: [(le: Double, v: Double)]] = [:]
            for s in samples where s.name == name + "_bucket" {
                guard let le = s.labels["le"].flatMap(Exposition.parseValue) else {
                    throw Invalid(line: 0, text: name, why: "bucket without le")
                }
                var rest = s.labels; rest["le"] = nil
                series[rest.sorted { $0.key < $1.key }.description, default: []].append((le, s.value))
            }
            for (key, buckets) in series {
                guard buckets.map(\.le) == buckets.map(\.le).sorted(), buckets.last?.le == .infinity else {
                    throw Invalid(line: 0, text: name, why: "buckets not ascending or no +Inf")
                }
                guard zip(buckets, buckets.dropFirst()).allSatisfy({ $0.v <= $1.v }) else {
                    throw Invalid(line: 0, text: name, why: "buckets not cumulative")
                }
                let count = samples.first { $0.name == name + "_count" && $0.labels.filter { $0.key != "le" }.sorted { $0.key < $1.key }.description == key }
                guard let count, count.value == buckets.last?.v,
                      samples.contains(where: { $0.name == name + "_sum" }) else {
                    throw Invalid(line: 0, text: name, why: "+Inf bucket differs from _count or _sum missing")
                }
            }
        }
    }

    /// The value of the one sample `name` with exactly these labels (nil when absent).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// Every family name that has samples or a TYPE.
    var familyNames: Set<String> { Set(types.keys) }
}
