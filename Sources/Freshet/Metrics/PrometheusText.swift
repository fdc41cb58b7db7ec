import Foundation

/// The kind of a metric family in the Prometheus text exposition format.
public enum MetricType: String, Sendable {
    case counter, gauge, histogram
}

/// One sample line: `name{labels} value`, where the name is the family's plus `suffix` (`_bucket`, `_sum`, `_count`).
public struct MetricSample: Sendable, Equatable {
    public var suffix: String
    public var labels: [MetricLabel]
    public var value: Double

    public init(suffix: String = "", labels: [MetricLabel] = [], value: Double) {
        self.suffix = suffix; self.labels = labels; self.value = value
    }
}

/// A label name and (unescaped) value.
public struct MetricLabel: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) { self.name = name; self.value = value }
}

/// A metric family: `# HELP`, `# TYPE` and its samples.
public struct MetricFamily: Sendable, Equatable {
    public var name: String
    public var help: String
    public var type: MetricType
    public var samples: [MetricSample]

    public init(_ name: String, _ type: MetricType, help: String, samples: [MetricSample]) {
        self.name = name; self.type = type; self.help = help; self.samples = samples
    }

    /// A family with one unlabelled sample.
    public static func single(_ name: String, _ type: MetricType, help: String, _ value: Double) -> MetricFamily {
        MetricFamily(name, type, help: help, samples: [MetricSample(value: value)])
    }

    /// A histogram family from bucket counts: cumulative `_bucket{le}` samples ending with `+Inf`, then `_sum`, `_count`.
    public static func histogram(_ name: String, help: String, labels: [MetricLabel] = [], _ h: HistogramCounts) -> MetricFamily {
        var samples: [MetricSample] = []
        let cumulative = h.cumulative
        for (i, bound) in h.bounds.enumerated() {
            samples.append(MetricSample(suffix: "_bucket", labels: labels + [MetricLabel("le", PrometheusText.number(bound))],
                                        value: Double(cumulative[i])))
        }
        samples.append(MetricSample(suffix: "_bucket", labels: labels + [MetricLabel("le", "+Inf")], value: Double(h.count)))
        samples.append(MetricSample(suffix: "_sum", labels: labels, value: h.sum))
        samples.append(MetricSample(suffix: "_count", labels: labels, value: Double(h.count)))
        return MetricFamily(name, .histogram, help: help, samples: samples)
    }
}

/// Renders metric families in the Prometheus text exposition format, version 0.0.4.
public enum PrometheusText {
    /// The `Content-Type` of the rendering.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ families: [MetricFamily]) -> String {
        var out = ""
        for f in families {
            out += "# HELP \(f.name) \(escapeHelp(f.help))\n"
            out += "# TYPE \(f.name) \(f.type.rawValue)\n"
            for s in f.samples {
                out += f.name + s.suffix
                if !s.labels.isEmpty {
                    out += "{" + s.labels.map { "\($0.name)=\"\(escapeLabelValue($0.value))\"" }.joined(separator: ",") + "}"
                }
                out += " " + number(s.value) + "\n"
            }
        }
        return out
    }

    /// Label values escape backslash, double quote and line feed.
    public static func escapeLabelValue(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// HELP text escapes backslash and line feed.
    public static func escapeHelp(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// A sample value: integers without a fraction, `+Inf` / `-Inf` / `NaN`, else the shortest round-tripping decimal.
    public static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
