import ColumnStore
import Foundation
import PostgresReplication

/// How one Postgres column is stored: the store column type and the conversion of wire values into it.
///
/// The mapping (DESIGN.md "Type mapping"): bool, int2/4/8, float4/8 as themselves; numeric(p,s) with p ≤ 38 as a
/// decimal, unconstrained numeric as exact text; text types, uuid, json/jsonb as strings; bytea as bytes; date,
/// timestamp, timestamptz as such (Unix epoch); every other type (enums, arrays, ranges, intervals, ...) as its
/// Postgres text form. The snapshot reads those other types with `::text` so both paths see the same text.
///
/// Values that cannot be represented: `NaN` in a numeric(p,s) column becomes NULL and is counted in
/// `ColumnConverter.unrepresentable` (a decimal has no NaN). ±infinity dates and timestamps are stored as the
/// extreme values DuckDB reads as ±infinity (`Int32.max`/`-Int32.max` days, `Int64.max`/`-Int64.max` µs).
public struct ColumnMapping: Sendable, Equatable {
    public var name: String
    public var storeType: ColumnType
    public var nullable: Bool
    public var converter: ColumnConverter
    /// The source column's type OID.
    public var typeOID: UInt32

    /// Maps a source column (type OID and modifier from the catalog or a Relation message).
    public init(name: String, typeOID: UInt32, typeModifier: Int32, nullable: Bool = true) {
        self.name = name
        self.nullable = nullable
        self.typeOID = typeOID
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
        default: (storeType, converter) = (.string, .text)   // text, varchar, bpchar, json, name, and any other type's text form
        }
    }

    /// The store column definition.
    public var definition: ColumnDefinition { ColumnDefinition(name, storeType, nullable: nullable) }

    /// Precision and scale from a numeric typmod (`((p << 16) | s) + 4`), nil when unconstrained.
    static func numericPrecisionScale(_ typmod: Int32) -> (Int, Int)? {
        guard typmod >= 4 else { return nil }
        let t = Int(typmod - 4)
        let scale = Int(Int16(truncatingIfNeeded: (t & 0x7FF) << 5) >> 5)   // 11-bit signed since PG15
        return ((t >> 16) & 0xFFFF, scale)
    }

    /// The expression the snapshot's COPY selects for this column so binary COPY yields what `converter` reads.
    /// `char(n)` is selected as itself: its binary form is its text with the padding, as pgoutput sends it, while
    /// `::text` would strip the trailing spaces (and the snapshot would disagree with the stream).
    public func copyExpression() -> String {
        let q = SQLQuoting.identifier(name)
        return converter.readsNativeBinary || typeOID == TypeOID.bpchar ? q : "\(q)::text"
    }
}

/// Converts one wire value (pgoutput text or binary COPY form) into a `RowBatch` column.
public enum ColumnConverter: Sendable, Equatable {
    case bool, int16, int32, int64, float32, float64
    case decimal64(scale: Int), decimal128(scale: Int), numericText
    case date, timestamp, timestamptz
    case uuid, bytea, jsonb, text

    /// Whether binary COPY sends this type's own binary form (otherwise the snapshot casts it to text).
    var readsNativeBinary: Bool {
        switch self {
        // Text-like types are UTF-8 either way. Unconstrained numeric is stored as PostgreSQL's own text form: the
        // snapshot reads it as ::text (as pgoutput sends it) instead of formatting the binary form itself.
        case .text, .numericText: return false
        default: return true
        }
    }

    /// Appends `raw` (one non-NULL value) in text form (`binary == false`) or binary send form.
    /// Returns false when the value was not representable and NULL was appended instead.
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
                batch.appendNull(column: column); return false
            }
        case let .decimal128(scale):
            do {
                let v = binary ? try BinaryValueParser.parseNumericUnscaledInt128(raw, scale: scale)
                               : try TextValueParser.parseNumericUnscaledInt128(raw, scale: scale)
                batch.append(decimal128: v, column: column)
            } catch .notFinite {
                batch.appendNull(column: column); return false
            }
        case .numericText:
            batch.append(bytes: raw, column: column)   // text in both forms (see `readsNativeBinary`)
        case .date:
            let days = binary ? try BinaryValueParser.parseDateDays(raw) : try TextValueParser.parseDateDays(raw)
            batch.append(Int64(ColumnConverter.unixDays(days)), column: column)
        case .timestamp:
            let micros = binary ? try BinaryValueParser.parseTimestampMicros(raw) : try TextValueParser.parseTimestampMicros(raw)
            batch.append(ColumnConverter.unixMicros(micros), column: column)
        case .timestamptz:
            let micros = binary ? try BinaryValueParser.parseTimestamptzMicros(raw) : try TextValueParser.parseTimestamptzMicros(raw)
            batch.append(ColumnConverter.unixMicros(micros), column: column)
        case .uuid:
            if binary {
                batch.append(try BinaryValueParser.parseUUID(raw).uuidString.lowercased(), column: column)
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
        case .text:
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

    /// µs since the Unix epoch from µs since 2000-01-01; ±infinity map to ±Int64.max (DuckDB's timestamp infinity).
    @inline(__always)
    static func unixMicros(_ pgMicros: Int64) -> Int64 {
        if pgMicros == PostgresValue.timestampInfinity { return .max }
        if pgMicros == PostgresValue.timestampNegativeInfinity { return -.max }
        return pgMicros &+ PostgresValue.unixEpochOffsetMicros
    }
}
