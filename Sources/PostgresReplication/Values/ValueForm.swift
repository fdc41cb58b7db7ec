import Foundation

/// The per-type parse functions shared by the text and binary forms, so one switch maps OIDs to values.
protocol ValueForm {
    static func parseBool(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Bool
    static func parseInt16(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int16
    static func parseInt32(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int32
    static func parseInt64(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int64
    static func parseFloat32(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Float
    static func parseFloat64(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Double
    static func parseNumeric(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> PostgresNumeric
    static func parseDateDays(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int32
    static func parseTimestampMicros(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int64
    static func parseTimestamptzMicros(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int64
    static func parseUUID(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> UUID
    static func parseBytea(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> [UInt8]
    static func parseText(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> String
    static func parseJSON(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> String
    static func parseJSONB(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> String
    /// Feeds the decimal digits of a numeric to `sink`; returns the sign, or the special value instead.
    static func walkNumeric<Sink: DecimalDigitSink>(_ raw: UnsafeRawBufferPointer, into sink: inout Sink) throws(ValueParseError) -> NumericHeader
}

extension ValueForm {
    /// The exact numeric (allocates its digits).
    static func numeric(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> PostgresNumeric {
        var collector = DigitCollector()
        switch try walkNumeric(raw, into: &collector) {
        case .special(let value): return value
        case .finite(let isNegative):
            return PostgresNumeric(isNegative: isNegative, digits: collector.digits, scale: collector.fractionDigits)
        }
    }

    /// The numeric × 10^`scale` as an integer, without allocating.
    static func unscaled<T: FixedWidthInteger & SignedInteger>(_ raw: UnsafeRawBufferPointer, scale: Int) throws(ValueParseError) -> T {
        var accumulator = UnscaledAccumulator<T>(scale: scale)
        switch try walkNumeric(raw, into: &accumulator) {
        case .special: throw .notFinite
        case .finite(let isNegative): return try accumulator.finish(isNegative: isNegative)
        }
    }
}

/// Maps a type OID to the matching parse function of `form`; unknown types are text.
func decodeValue<Form: ValueForm>(_ form: Form.Type, typeOID: UInt32, bytes raw: UnsafeRawBufferPointer) throws(ValueParseError) -> PostgresValue {
    switch typeOID {
    case TypeOID.bool: return .bool(try Form.parseBool(raw))
    case TypeOID.int2: return .int16(try Form.parseInt16(raw))
    case TypeOID.int4: return .int32(try Form.parseInt32(raw))
    case TypeOID.int8: return .int64(try Form.parseInt64(raw))
    case TypeOID.float4: return .float32(try Form.parseFloat32(raw))
    case TypeOID.float8: return .float64(try Form.parseFloat64(raw))
    case TypeOID.numeric: return .numeric(try Form.parseNumeric(raw))
    case TypeOID.date: return .date(try Form.parseDateDays(raw))
    case TypeOID.timestamp: return .timestamp(try Form.parseTimestampMicros(raw))
    case TypeOID.timestamptz: return .timestamptz(try Form.parseTimestamptzMicros(raw))
    case TypeOID.uuid: return .uuid(try Form.parseUUID(raw))
    case TypeOID.bytea: return .bytea(try Form.parseBytea(raw))
    case TypeOID.json: return .json(try Form.parseJSON(raw))
    case TypeOID.jsonb: return .jsonb(try Form.parseJSONB(raw))
    default: return .text(try Form.parseText(raw))
    }
}
