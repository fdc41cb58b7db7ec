import Foundation

/// Parsers of Postgres binary send forms: binary COPY fields and pgoutput `b` columns (`binary 'true'`).
///
/// Each `parse…` function reads one value from raw bytes without allocating (except where the result itself
/// is an array or String). Wrong lengths and malformed encodings throw `ValueParseError`.
///
/// Types without a binary parser here (arrays, enums, ranges, geometric, user types) are taken as UTF-8 text:
/// in the binary COPY path the caller selects such columns through their output function (a `cstring`, whose binary
/// form *is* the text), or formats their binary form with `OutputText`. (pgoutput with `binary 'true'` would send
/// arrays in their binary array format instead; use text mode for tables with such columns.)
public enum BinaryValueParser {
    /// One byte, 0 = false, anything else = true (as `boolrecv`).
    public static func parseBool(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Bool {
        try checkLength(raw, 1, type: "bool")
        return raw[0] != 0
    }

    public static func parseInt16(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int16 {
        try fixedWidth(raw, type: "int2")
    }

    public static func parseInt32(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int32 {
        try fixedWidth(raw, type: "int4")
    }

    public static func parseInt64(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int64 {
        try fixedWidth(raw, type: "int8")
    }

    /// IEEE-754 single precision, big-endian.
    public static func parseFloat32(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Float {
        Float(bitPattern: try fixedWidth(raw, type: "float4"))
    }

    /// IEEE-754 double precision, big-endian.
    public static func parseFloat64(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Double {
        Double(bitPattern: try fixedWidth(raw, type: "float8"))
    }

    /// `numeric` (ndigits, weight, sign, dscale, base-10000 digits) as an exact value with its display scale.
    /// Digits beyond dscale are dropped, as `numeric_recv` does.
    public static func parseNumeric(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> PostgresNumeric {
        try numeric(raw)
    }

    /// `numeric` × 10^`scale` as an `Int64` without allocating; throws for NaN/±Infinity, for non-zero
    /// digits beyond `scale`, and when it does not fit.
    public static func parseNumericUnscaledInt64(_ raw: UnsafeRawBufferPointer, scale: Int) throws(ValueParseError) -> Int64 {
        try unscaled(raw, scale: scale)
    }

    /// `numeric` × 10^`scale` as an `Int128`, like `parseNumericUnscaledInt64`.
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *)
    public static func parseNumericUnscaledInt128(_ raw: UnsafeRawBufferPointer, scale: Int) throws(ValueParseError) -> Int128 {
        try unscaled(raw, scale: scale)
    }

    /// Appends the Postgres text form of a binary `numeric` (`12.3400`, `NaN`, `-Infinity`) to `buffer`
    /// (e.g. a string column's arena for unconstrained numeric), without intermediate allocation.
    public static func appendNumericText(_ raw: UnsafeRawBufferPointer, to buffer: inout [UInt8]) throws(ValueParseError) {
        var sink = NumericTextSink()
        swap(&sink.buffer, &buffer)
        sink.start = sink.buffer.count
        defer { swap(&sink.buffer, &buffer) }
        do {
            switch try walkNumeric(raw, into: &sink) {
            case .special(let value): sink.buffer.append(contentsOf: value.description.utf8)
            case .finite(let isNegative): sink.finish(isNegative: isNegative)
            }
        } catch {
            sink.buffer.removeSubrange(sink.start...)
            throw error
        }
    }

    /// `date`: Int32 days since 2000-01-01; `Int32.min`/`Int32.max` = -/+infinity.
    public static func parseDateDays(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int32 {
        try fixedWidth(raw, type: "date")
    }

    /// `timestamp`: Int64 µs since 2000-01-01; `Int64.min`/`Int64.max` = -/+infinity.
    public static func parseTimestampMicros(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int64 {
        try fixedWidth(raw, type: "timestamp")
    }

    /// `timestamptz`: Int64 µs since 2000-01-01 00:00 UTC; `Int64.min`/`Int64.max` = -/+infinity.
    public static func parseTimestamptzMicros(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int64 {
        try fixedWidth(raw, type: "timestamptz")
    }

    /// `uuid`: 16 raw bytes.
    public static func parseUUID(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> UUID {
        try checkLength(raw, 16, type: "uuid")
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { $0.copyMemory(from: raw) }
        return UUID(uuid: bytes)
    }

    /// Appends the canonical lowercase `8-4-4-4-12` text of a binary `uuid` to `buffer`.
    public static func appendUUIDText(_ raw: UnsafeRawBufferPointer, to buffer: inout [UInt8]) throws(ValueParseError) {
        try checkLength(raw, 16, type: "uuid")
        let digits: StaticString = "0123456789abcdef"
        for (index, byte) in raw.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { buffer.append(UInt8(ascii: "-")) }
            buffer.append(digits.utf8Start[Int(byte >> 4)])
            buffer.append(digits.utf8Start[Int(byte & 0x0F)])
        }
    }

    /// `bytea`: the raw bytes, copied.
    public static func parseBytea(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> [UInt8] {
        Array(raw)
    }

    /// `text`, `varchar`, `bpchar`, `json`, and anything SELECTed `::text`: UTF-8 bytes.
    public static func parseText(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> String {
        try TextValueParser.parseText(raw)
    }

    /// The JSON text of a binary `jsonb` (version byte 1, then the text), as a view into `raw`.
    public static func jsonbText(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> UnsafeRawBufferPointer {
        guard let version = raw.first else { throw .invalidLength(type: "jsonb", expected: 1, actual: 0) }
        guard version == 1 else { throw .invalidBinary(type: "jsonb", reason: "unsupported version \(version)") }
        return UnsafeRawBufferPointer(rebasing: raw[1...])
    }

    /// The typed value of a binary-form field of type `typeOID`. `typeModifier` is accepted for symmetry and
    /// not needed (binary numeric carries its display scale). Unknown types are UTF-8 text (see the type comment).
    public static func value(typeOID: UInt32, typeModifier: Int32 = -1, bytes: UnsafeRawBufferPointer) throws(ValueParseError) -> PostgresValue {
        try decodeValue(BinaryValueParser.self, typeOID: typeOID, bytes: bytes)
    }

    // MARK: - Internals

    private static func checkLength(_ raw: UnsafeRawBufferPointer, _ expected: Int, type: String) throws(ValueParseError) {
        guard raw.count == expected else { throw .invalidLength(type: type, expected: expected, actual: raw.count) }
    }

    private static func fixedWidth<T: FixedWidthInteger>(_ raw: UnsafeRawBufferPointer, type: String) throws(ValueParseError) -> T {
        try checkLength(raw, MemoryLayout<T>.size, type: type)
        return raw.loadBigEndian(as: T.self)
    }

    static func walkNumeric<Sink: DecimalDigitSink>(_ raw: UnsafeRawBufferPointer, into sink: inout Sink) throws(ValueParseError) -> NumericHeader {
        guard raw.count >= 8 else { throw .invalidLength(type: "numeric", expected: 8, actual: raw.count) }
        let count = Int(raw.loadBigEndian(fromByteOffset: 0, as: Int16.self))
        let weight = Int(raw.loadBigEndian(fromByteOffset: 2, as: Int16.self))
        let sign = raw.loadBigEndian(fromByteOffset: 4, as: UInt16.self)
        let displayScale = Int(raw.loadBigEndian(fromByteOffset: 6, as: Int16.self))
        guard count >= 0, raw.count == 8 + 2 * count else {
            throw .invalidLength(type: "numeric", expected: 8 + 2 * max(count, 0), actual: raw.count)
        }
        guard displayScale & 0x3FFF == displayScale else {
            throw .invalidBinary(type: "numeric", reason: "display scale \(displayScale)")
        }
        switch sign {
        case 0x0000, 0x4000: break
        case 0xC000: return .special(.nan)
        case 0xD000: return .special(.positiveInfinity)
        case 0xF000: return .special(.negativeInfinity)
        default: throw .invalidBinary(type: "numeric", reason: "sign 0x\(String(sign, radix: 16))")
        }
        for index in 0..<count where group(raw, index) >= 10_000 {
            throw .invalidBinary(type: "numeric", reason: "digit \(group(raw, index)) at \(index)")
        }
        // Integer part: groups 0...weight (missing trailing groups are zero).
        if weight >= 0 {
            for index in 0...weight {
                try emit(index < count ? group(raw, index) : 0, digits: 4, fractional: false, into: &sink)
            }
        }
        // Fraction: exactly `displayScale` digits; group `weight + k` is worth 10000^-k.
        var remaining = displayScale
        var index = weight + 1
        while remaining > 0 {
            let value = index >= 0 && index < count ? group(raw, index) : 0
            try emit(value, digits: min(4, remaining), fractional: true, into: &sink)
            remaining -= 4
            index += 1
        }
        return .finite(isNegative: sign == 0x4000)
    }

    private static func group(_ raw: UnsafeRawBufferPointer, _ index: Int) -> UInt16 {
        raw.loadBigEndian(fromByteOffset: 8 + 2 * index, as: UInt16.self)
    }

    /// The first `digits` of the 4 decimal digits of a base-10000 group.
    private static func emit<Sink: DecimalDigitSink>(_ value: UInt16, digits: Int, fractional: Bool, into sink: inout Sink) throws(ValueParseError) {
        var divisor: UInt16 = 1000
        for _ in 0..<digits {
            try sink.append(UInt8(value / divisor % 10), fractional: fractional)
            divisor /= 10
        }
    }
}

/// Writes numeric digits as Postgres prints them: no leading integer zeros, `0` before a bare fraction.
private struct NumericTextSink: DecimalDigitSink {
    var buffer: [UInt8] = []
    var start = 0
    private var integerDigits = 0
    private var inFraction = false
    private var isZero = true

    mutating func append(_ digit: UInt8, fractional: Bool) throws(ValueParseError) {
        if digit != 0 { isZero = false }
        if fractional {
            if !inFraction {
                if integerDigits == 0 { buffer.append(UInt8(ascii: "0")) }
                buffer.append(UInt8(ascii: "."))
                inFraction = true
            }
        } else {
            guard digit != 0 || integerDigits > 0 else { return }
            integerDigits += 1
        }
        buffer.append(UInt8(ascii: "0") + digit)
    }

    mutating func finish(isNegative: Bool) {
        if integerDigits == 0 && !inFraction { buffer.append(UInt8(ascii: "0")) }
        if isNegative && !isZero { buffer.insert(UInt8(ascii: "-"), at: start) }
    }
}

extension BinaryValueParser: ValueForm {
    static func parseJSON(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> String { try parseText(raw) }
    static func parseJSONB(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> String { try parseText(try jsonbText(raw)) }
}
