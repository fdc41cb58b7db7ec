import ColumnStore
import Foundation
import PostgresReplication

/// How one Postgres column is stored: the store column type and the conversion of wire values into it.
///
/// The mapping (docs/replication.md "Type mapping"): bool, int2/4/8, float4/8 as themselves; numeric(p,s) with p ≤ 38
/// as a decimal, unconstrained numeric as exact text; date, timestamp, timestamptz as such (Unix epoch); bytea as
/// bytes; every other type as a string of PostgreSQL's output-function text (what pgoutput sends). The snapshot's
/// binary COPY reads natively the types whose binary form it decodes, text, varchar, bpchar, name and json (whose
/// binary form is their output text), and the types `OutputText` formats from their binary form exactly (inet, cidr,
/// macaddr, macaddr8, time, timetz, interval, bit, varbit, built-in ranges, arrays of common types); it selects every
/// other type through its output function (`copyExpression`), never `::text` (a cast is not the output function for
/// bpchar, inet, cidr, xml).
///
/// Values the store type cannot hold — NaN in a numeric(p,s) column, a timestamp after 294247-01-10 04:00:54.775806 —
/// switch the column to its `textFallback` (see `TextFallback`): nothing is lost, wrapped or made NULL. ±infinity
/// dates and timestamps are stored as the extreme values DuckDB reads as ±infinity (`Int32.max`/`-Int32.max` days,
/// `Int64.max`/`-Int64.max` µs).
public struct ColumnMapping: Sendable, Equatable {
    public var name: String
    public var storeType: StoreType
    public var nullable: Bool
    public var converter: ColumnConverter

    /// Maps a source column (type OID and modifier from the catalog or a Relation message).
    public init(name: String, typeOID: UInt32, typeModifier: Int32, nullable: Bool = true) {
        self.name = name
        self.nullable = nullable
        switch typeOID {
        case TypeOID.bool: (storeType, converter) = (.bool, .bool)
        case TypeOID.int2: (storeType, converter) = (.int16, .int16)
        case TypeOID.int4: (storeType, converter) = (.int32, .int32)
        case TypeOID.int8: (storeType, converter) = (.int64, .int64)
        case TypeOID.float4: (storeType, converter) = (.float32, .float32)
        case TypeOID.float8: (storeType, converter) = (.float64, .float64)
        case TypeOID.numeric:
            if let (p, s) = ColumnMapping.numericPrecisionScale(typeModifier), p <= 38, s >= 0, s <= p {
                (storeType, converter) = (.decimal(precision: p, scale: s), p <= 18 ? .decimal64(scale: s) : .decimal128(scale: s))
            } else {
                (storeType, converter) = (.string, .numericText)
            }
        case TypeOID.date: (storeType, converter) = (.date, .date)
        case TypeOID.timestamp: (storeType, converter) = (.timestamp, .timestamp)
        case TypeOID.timestamptz: (storeType, converter) = (.timestamptz, .timestamptz)
        case TypeOID.uuid: (storeType, converter) = (.string, .uuid)
        case TypeOID.bytea: (storeType, converter) = (.bytes, .bytea)
        case TypeOID.jsonb: (storeType, converter) = (.string, .jsonb)
        case TypeOID.text, TypeOID.varchar, TypeOID.bpchar, TypeOID.name, TypeOID.json:
            (storeType, converter) = (.string, .text)
        default:
            // Any other type's output-function text: formatted from the binary form where `OutputText` can.
            (storeType, converter) = (.string, OutputText.formats(typeOID) ? .formattedText(typeOID: typeOID) : .outputText)
        }
    }

    /// The store column definition.
    public var definition: ColumnDefinition {
        if case .uuid = converter { return ColumnDefinition(name, storeType, nullable: nullable, annotation: .uuid) }
        return ColumnDefinition(name, storeType, nullable: nullable)
    }

    /// The same column stored as PostgreSQL's output text, for a value the store type cannot hold (NaN in a
    /// numeric(p,s) column, a timestamp after 294247-01-10 04:00:54.775806); nil when the store type holds every value.
    public var textFallback: ColumnMapping? {
        var text = self
        text.storeType = .string
        switch converter {
        case .decimal64, .decimal128: text.converter = .numericText
        case .timestamp: text.converter = .timestampText
        case .timestamptz: text.converter = .timestamptzText
        default: return nil
        }
        return text
    }

    /// The same column read as the server's output text instead of formatted by `OutputText` (for a session whose
    /// settings `OutputText` does not print by; see `OutputText.sessionMatches`).
    var withoutClientFormatting: ColumnMapping {
        guard case .formattedText = converter else { return self }
        var mapping = self
        mapping.converter = .outputText
        return mapping
    }

    /// Precision and scale from a numeric typmod (`((p << 16) | s) + 4`), nil when unconstrained.
    static func numericPrecisionScale(_ typmod: Int32) -> (Int, Int)? {
        guard typmod >= 4 else { return nil }
        let t = Int(typmod - 4)
        let scale = Int(Int16(truncatingIfNeeded: (t & 0x7FF) << 5) >> 5)   // 11-bit signed since PG15
        return ((t >> 16) & 0xFFFF, scale)
    }

    /// The expression the snapshot's COPY selects for this column so binary COPY yields what `converter` reads.
    ///
    /// Types read as their output text are selected through the type's output function (`outputFunction`, from
    /// `pg_type.typoutput`), whose `cstring` result binary COPY sends as the bare text: exactly what pgoutput sends.
    /// Without one, `format('%s', col)`, which calls the output function too but prints NULL as an empty string (hence
    /// the CASE; such types are never composites, whose `IS NULL` would also hold for a row of NULLs: composites use
    /// `record_out`). Never `col::text`: a cast to text is not the output function for every type (`char(n)` loses its
    /// padding, `inet` gains a `/128`, `xml` keeps its declaration).
    public func copyExpression(outputFunction: String?) -> String {
        let q = SQLQuoting.identifier(name)
        if converter.readsNativeBinary { return q }
        if let outputFunction { return "\(outputFunction)(\(q))" }
        return "CASE WHEN \(q) IS NULL THEN NULL ELSE format('%s', \(q)) END"
    }
}

/// Converts one wire value (pgoutput text or binary COPY form) into a `RowBatch` column.
public enum ColumnConverter: Sendable, Equatable {
    case bool, int16, int32, int64, float32, float64
    case decimal64(scale: Int), decimal128(scale: Int), numericText
    case date, timestamp, timestamptz
    /// `text`: a type whose binary send form is its output text (text, varchar, bpchar with its padding, name, json).
    /// `outputText`: any other type, stored as its output-function text (the snapshot selects that text).
    case uuid, bytea, jsonb, text, outputText
    /// A timestamp / timestamptz column stored as its output text (`textFallback`): the text form as it is, the
    /// binary form formatted as `timestamp_out` / `timestamptz_out` print it.
    case timestampText, timestamptzText
    /// A type stored as its output text whose binary form `OutputText` formats (inet, interval, arrays of common types...).
    case formattedText(typeOID: UInt32)

    /// Whether binary COPY sends this type's own binary form (otherwise the snapshot selects its output text).
    var readsNativeBinary: Bool {
        switch self {
        case .outputText: return false
        default: return true
        }
    }

    /// Appends `raw` (one non-NULL value) in text form (`binary == false`) or binary send form.
    /// Returns false, appending nothing, when the store type cannot hold the value (NaN in a decimal column, a
    /// timestamp beyond the last microsecond Unix-epoch INT64 can hold): the caller switches the column to its
    /// `ColumnMapping.textFallback` (see `TextFallback`) and appends the value again.
    @inline(__always)
    public func append(_ raw: UnsafeRawBufferPointer, binary: Bool, to batch: inout RowBatch, column: Int) throws(ValueParseError) -> Bool {
        switch self {
        case .bool:
            batch.append(binary ? try BinaryValueParser.parseBool(raw) : try TextValueParser.parseBool(raw), column: column)
        case .int16:
            batch.append(Int64(binary ? try BinaryValueParser.parseInt16(raw) : try TextValueParser.parseInt16(raw)), column: column)
        case .int32:
            batch.append(Int64(binary ? try BinaryValueParser.parseInt32(raw) : try TextValueParser.parseInt32(raw)), column: column)
        case .int64:
            batch.append(binary ? try BinaryValueParser.parseInt64(raw) : try TextValueParser.parseInt64(raw), column: column)
        case .float32:
            batch.append(Double(binary ? try BinaryValueParser.parseFloat32(raw) : try TextValueParser.parseFloat32(raw)), column: column)
        case .float64:
            batch.append(binary ? try BinaryValueParser.parseFloat64(raw) : try TextValueParser.parseFloat64(raw), column: column)
        case let .decimal64(scale):
            do {
                let v = binary ? try BinaryValueParser.parseNumericUnscaledInt64(raw, scale: scale)
                               : try TextValueParser.parseNumericUnscaledInt64(raw, scale: scale)
                batch.append(v, column: column)
            } catch .notFinite {
                return false
            }
        case let .decimal128(scale):
            do {
                let v = binary ? try BinaryValueParser.parseNumericUnscaledInt128(raw, scale: scale)
                               : try TextValueParser.parseNumericUnscaledInt128(raw, scale: scale)
                batch.append(decimal128: v, column: column)
            } catch .notFinite {
                return false
            }
        case .numericText:
            if binary {
                try batch.appendBytes(column: column) { (out: inout [UInt8]) throws(ValueParseError) in
                    try BinaryValueParser.appendNumericText(raw, to: &out)
                }
            } else {
                batch.append(bytes: raw, column: column)
            }
        case .date:
            let days = binary ? try BinaryValueParser.parseDateDays(raw) : try TextValueParser.parseDateDays(raw)
            batch.append(Int64(ColumnConverter.unixDays(days)), column: column)
        case .timestamp:
            let micros = binary ? try BinaryValueParser.parseTimestampMicros(raw) : try TextValueParser.parseTimestampMicros(raw)
            guard let unix = ColumnConverter.unixMicros(micros) else { return false }
            batch.append(unix, column: column)
        case .timestamptz:
            let micros = binary ? try BinaryValueParser.parseTimestamptzMicros(raw) : try TextValueParser.parseTimestamptzMicros(raw)
            guard let unix = ColumnConverter.unixMicros(micros) else { return false }
            batch.append(unix, column: column)
        case .timestampText, .timestamptzText:
            if binary {
                let micros = try BinaryValueParser.parseTimestampMicros(raw)
                batch.appendBytes(column: column) { DateTimeText.appendTimestamp(micros, withZone: self == .timestamptzText, to: &$0) }
            } else {
                batch.append(bytes: raw, column: column)
            }
        case .uuid:
            if binary {
                try batch.appendBytes(column: column) { (out: inout [UInt8]) throws(ValueParseError) in
                    try BinaryValueParser.appendUUIDText(raw, to: &out)
                }
            } else {
                batch.append(bytes: raw, column: column)   // Postgres prints uuids in canonical lowercase form
            }
        case .bytea:
            if binary {
                batch.append(bytes: raw, column: column)
            } else {
                batch.append(byteCollection: try TextValueParser.parseBytea(raw), column: column)
            }
        case .jsonb:
            batch.append(bytes: binary ? try BinaryValueParser.jsonbText(raw) : raw, column: column)
        case let .formattedText(typeOID):
            if binary {
                try batch.appendBytes(column: column) { (out: inout [UInt8]) throws(ValueParseError) in
                    try OutputText.append(raw, typeOID: typeOID, to: &out)
                }
            } else {
                batch.append(bytes: raw, column: column)
            }
        case .text, .outputText:
            batch.append(bytes: raw, column: column)
        }
        return true
    }

    /// Days since 1970-01-01 from days since 2000-01-01; ±infinity map to ±Int32.max (DuckDB's date infinity).
    @inline(__always)
    static func unixDays(_ pgDays: Int32) -> Int32 {
        if pgDays == PostgresValue.dateInfinity { return .max }
        if pgDays == PostgresValue.dateNegativeInfinity { return -.max }
        return pgDays &+ PostgresValue.unixEpochOffsetDays
    }

    /// The last µs since 2000-01-01 whose Unix-epoch value fits an INT64 below the +infinity encoding
    /// (`Int64.max`): 294247-01-10 04:00:54.775806. PostgreSQL's range goes on to 294276-12-31 23:59:59.999999.
    static let lastRepresentablePostgresMicros = Int64.max - 1 - PostgresValue.unixEpochOffsetMicros

    /// µs since the Unix epoch from µs since 2000-01-01; ±infinity map to ±Int64.max (DuckDB's timestamp infinity).
    /// Nil for a finite value after `lastRepresentablePostgresMicros` (it would wrap around or read as infinity).
    @inline(__always)
    static func unixMicros(_ pgMicros: Int64) -> Int64? {
        if pgMicros == PostgresValue.timestampInfinity { return .max }
        if pgMicros == PostgresValue.timestampNegativeInfinity { return -.max }
        guard pgMicros <= lastRepresentablePostgresMicros else { return nil }
        return pgMicros + PostgresValue.unixEpochOffsetMicros   // PostgreSQL's earliest value (4714 BC) is far from Int64.min
    }
}
