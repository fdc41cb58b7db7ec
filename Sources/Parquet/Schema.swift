/// The logical type of a column, as Freshet stores it. Each maps to one Parquet physical type and annotation
/// (see `ColumnType.storage` for the buffer case that holds its values).
public enum ColumnType: Sendable, Hashable, CustomStringConvertible {
    /// BOOLEAN. Values: `ColumnValues.boolean`.
    case boolean
    /// INT32 annotated INTEGER(16, signed) / INT_16. Values: `.int32` (each within Int16 range).
    case int16
    /// INT32. Values: `.int32`.
    case int32
    /// INT64. Values: `.int64`.
    case int64
    /// FLOAT. Values: `.float`.
    case float
    /// DOUBLE. Values: `.double`.
    case double
    /// BYTE_ARRAY annotated STRING / UTF8 (valid UTF-8). Values: `.byteArray`.
    case string
    /// BYTE_ARRAY annotated JSON. Values: `.byteArray`.
    case json
    /// BYTE_ARRAY without annotation. Values: `.byteArray`.
    case bytes
    /// FIXED_LEN_BYTE_ARRAY(16) annotated UUID, big-endian RFC 4122 bytes. Values: `.fixed` (width 16).
    case uuid
    /// FIXED_LEN_BYTE_ARRAY(n) without annotation. Values: `.fixed` (width n).
    case fixed(Int)
    /// INT32 annotated DATE: days since 1970-01-01. Values: `.int32`.
    case date
    /// INT64 annotated TIMESTAMP(MICROS): microseconds since 1970-01-01 00:00:00 (UTC when `utc`). Values: `.int64`.
    case timestamp(utc: Bool)
    /// DECIMAL(precision, scale) of the unscaled integer: INT32 when precision ≤ 9 (values `.int32`), INT64 when
    /// ≤ 18 (`.int64`), else FIXED_LEN_BYTE_ARRAY of the minimal width (`.fixed`, big-endian two's complement).
    case decimal(precision: Int, scale: Int)

    /// Which `ColumnValues` case holds the values of this type.
    public var storage: ColumnStorage {
        switch self {
        case .boolean: return .boolean
        case .int16, .int32, .date: return .int32
        case .int64, .timestamp: return .int64
        case .float: return .float
        case .double: return .double
        case .string, .json, .bytes: return .byteArray
        case .uuid: return .fixed(16)
        case let .fixed(n): return .fixed(n)
        case let .decimal(p, _):
            if p <= 9 { return .int32 }
            if p <= 18 { return .int64 }
            return .fixed(ColumnType.decimalByteWidth(precision: p))
        }
    }

    /// Minimal FIXED_LEN_BYTE_ARRAY width holding `precision` decimal digits (two's complement).
    public static func decimalByteWidth(precision: Int) -> Int {
        var n = 1
        while n < 32 {
            // max digits for n bytes: floor(log10(2^(8n-1) - 1))
            let digits = Int((Double(8 * n - 1) * 0.30102999566398120).rounded(.down))
            if digits >= precision { return n }
            n += 1
        }
        return n
    }

    public var description: String {
        switch self {
        case .boolean: return "boolean"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .float: return "float"
        case .double: return "double"
        case .string: return "string"
        case .json: return "json"
        case .bytes: return "bytes"
        case .uuid: return "uuid"
        case let .fixed(n): return "fixed(\(n))"
        case .date: return "date"
        case let .timestamp(utc): return utc ? "timestamptz" : "timestamp"
        case let .decimal(p, s): return "decimal(\(p),\(s))"
        }
    }
}

/// The in-memory representation of a column's values (which `ColumnValues` case a type uses).
public enum ColumnStorage: Sendable, Hashable {
    case boolean, int32, int64, float, double, byteArray
    /// Fixed-width byte strings of the given width.
    case fixed(Int)
}

/// One column of a flat schema.
public struct Column: Sendable, Hashable {
    /// Column name (the Parquet field name).
    public var name: String
    /// Logical type.
    public var type: ColumnType
    /// True for OPTIONAL (may hold nulls), false for REQUIRED.
    public var nullable: Bool

    public init(_ name: String, _ type: ColumnType, nullable: Bool = true) {
        self.name = name
        self.type = type
        self.nullable = nullable
    }
}

/// A flat schema: an ordered list of columns (no nesting).
public struct Schema: Sendable, Hashable {
    public var columns: [Column]

    public init(_ columns: [Column]) { self.columns = columns }

    /// Index of the column named `name`, if any.
    public func index(of name: String) -> Int? { columns.firstIndex { $0.name == name } }
}
