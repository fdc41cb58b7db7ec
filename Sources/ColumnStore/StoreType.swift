import Foundation

/// The type of a store column. The replicator maps Postgres types onto these (see DESIGN.md "Type mapping").
public enum StoreType: Sendable, Hashable, CustomStringConvertible {
    case bool, int16, int32, int64, float32, float64
    /// Fixed-point decimal: precision ≤ 18 is stored in 64 bits, ≤ 38 in 128 bits.
    case decimal(precision: Int, scale: Int)
    /// UTF-8 text; also uuid, json, unconstrained numeric, arrays and enums in Postgres text form.
    case string
    case bytes
    /// Days since 1970-01-01.
    case date
    /// Microseconds since 1970-01-01 00:00, local (not UTC-adjusted).
    case timestamp
    /// Microseconds since 1970-01-01 00:00 UTC.
    case timestamptz

    /// How values of this type are held in a `RowBatch`.
    enum Storage: Sendable, Equatable { case int64, double, int128, bytes }

    var storage: Storage {
        switch self {
        case .bool, .int16, .int32, .int64, .date, .timestamp, .timestamptz: return .int64
        case .float32, .float64: return .double
        case let .decimal(p, _): return p <= 18 ? .int64 : .int128
        case .string, .bytes: return .bytes
        }
    }

    public var description: String {
        switch self {
        case .bool: return "bool"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .float32: return "float32"
        case .float64: return "float64"
        case let .decimal(p, s): return "decimal(\(p),\(s))"
        case .string: return "string"
        case .bytes: return "bytes"
        case .date: return "date"
        case .timestamp: return "timestamp"
        case .timestamptz: return "timestamptz"
        }
    }

    /// Parses the `description` form (as stored in manifests).
    public init?(parsing text: String) {
        switch text {
        case "bool": self = .bool
        case "int16": self = .int16
        case "int32": self = .int32
        case "int64": self = .int64
        case "float32": self = .float32
        case "float64": self = .float64
        case "string": self = .string
        case "bytes": self = .bytes
        case "date": self = .date
        case "timestamp": self = .timestamp
        case "timestamptz": self = .timestamptz
        default:
            guard text.hasPrefix("decimal("), text.hasSuffix(")") else { return nil }
            let inner = text.dropFirst(8).dropLast().split(separator: ",")
            guard inner.count == 2, let p = Int(inner[0]), let s = Int(inner[1]),
                  p >= 1, p <= 38, s >= 0, s <= p else { return nil }
            self = .decimal(precision: p, scale: s)
        }
    }

    /// The type readers see when two schema versions disagree: a lossless widening where one exists, else `string`
    /// (values rendered as text). See docs/store-format.md "Schema versions".
    static func widened(_ a: StoreType, _ b: StoreType) -> StoreType {
        if a == b { return a }
        func intRank(_ t: StoreType) -> Int? {
            switch t { case .int16: return 1; case .int32: return 2; case .int64: return 3; default: return nil }
        }
        if let ra = intRank(a), let rb = intRank(b) { return ra >= rb ? a : b }
        switch (a, b) {
        case (.float32, .float64), (.float64, .float32): return .float64
        case (.int16, .float32), (.float32, .int16): return .float32
        case (.int16, .float64), (.float64, .int16), (.int32, .float64), (.float64, .int32),
             (.float32, .int32), (.int32, .float32): return .float64
        case (.date, .timestamp), (.timestamp, .date): return .timestamp
        case (.date, .timestamptz), (.timestamptz, .date): return .timestamptz
        case let (.decimal(p1, s1), .decimal(p2, s2)):
            let s = max(s1, s2), p = max(p1 - s1, p2 - s2) + s
            return p <= 38 ? .decimal(precision: p, scale: s) : .string
        case let (.decimal(p, s), x), let (x, .decimal(p, s)):
            if let r = intRank(x) {
                let digits = r == 1 ? 5 : (r == 2 ? 10 : 19)
                let np = max(p - s, digits) + s
                return np <= 38 ? .decimal(precision: np, scale: s) : .string
            }
            return .string
        default: return .string
        }
    }
}

extension StoreType: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let t = StoreType(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unknown column type \(text)"))
        }
        self = t
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
