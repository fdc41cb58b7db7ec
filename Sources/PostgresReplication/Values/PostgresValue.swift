import Foundation

/// One decoded Postgres value, for tests and slow paths (the hot path uses the parse functions of
/// `TextValueParser` / `BinaryValueParser` directly into typed column builders).
///
/// The same datum decodes to an equal value from pgoutput text form and from binary form.
/// Dates are days since 2000-01-01 (`Int32.min`/`Int32.max` = -/+infinity); timestamps are microseconds since
/// 2000-01-01 00:00:00 (UTC for `timestamptz`; `Int64.min`/`Int64.max` = -/+infinity), exactly as Postgres
/// stores them. Floats compare by bit pattern, except that every NaN equals every NaN.
/// Arrays, enums, ranges and other types without a case here are `.text` in Postgres text form.
public enum PostgresValue: Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case numeric(PostgresNumeric)
    case text(String)
    case bytea([UInt8])
    case uuid(UUID)
    case date(Int32)
    case timestamp(Int64)
    case timestamptz(Int64)
    case json(String)
    case jsonb(String)

    /// `date` +infinity / -infinity.
    public static let dateInfinity = Int32.max
    public static let dateNegativeInfinity = Int32.min
    /// `timestamp`/`timestamptz` +infinity / -infinity.
    public static let timestampInfinity = Int64.max
    public static let timestampNegativeInfinity = Int64.min
    /// Microseconds from 1970-01-01 to 2000-01-01: Unix µs = Postgres µs + this.
    public static let unixEpochOffsetMicros: Int64 = 946_684_800_000_000
    /// Days from 1970-01-01 to 2000-01-01: Unix days = Postgres days + this.
    public static let unixEpochOffsetDays: Int32 = 10_957

    public static func == (lhs: PostgresValue, rhs: PostgresValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int16(a), .int16(b)): return a == b
        case let (.int32(a), .int32(b)): return a == b
        case let (.int64(a), .int64(b)): return a == b
        case let (.float32(a), .float32(b)): return a.isNaN && b.isNaN || a.bitPattern == b.bitPattern
        case let (.float64(a), .float64(b)): return a.isNaN && b.isNaN || a.bitPattern == b.bitPattern
        case let (.numeric(a), .numeric(b)): return a == b
        case let (.text(a), .text(b)), let (.json(a), .json(b)), let (.jsonb(a), .jsonb(b)): return a == b
        case let (.bytea(a), .bytea(b)): return a == b
        case let (.uuid(a), .uuid(b)): return a == b
        case let (.date(a), .date(b)): return a == b
        case let (.timestamp(a), .timestamp(b)), let (.timestamptz(a), .timestamptz(b)): return a == b
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .bool(let value): return value ? "t" : "f"
        case .int16(let value): return String(value)
        case .int32(let value): return String(value)
        case .int64(let value): return String(value)
        case .float32(let value): return String(value)
        case .float64(let value): return String(value)
        case .numeric(let value): return value.description
        case .text(let value), .json(let value), .jsonb(let value): return value
        case .bytea(let value): return "\\x" + value.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        case .uuid(let value): return value.uuidString.lowercased()
        case .date(let days): return "date(\(days) days since 2000-01-01)"
        case .timestamp(let micros): return "timestamp(\(micros) µs since 2000-01-01)"
        case .timestamptz(let micros): return "timestamptz(\(micros) µs since 2000-01-01 UTC)"
        }
    }
}
