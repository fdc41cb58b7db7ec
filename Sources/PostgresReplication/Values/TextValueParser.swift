import Foundation

/// Parsers of Postgres text output forms (pgoutput `t` columns), as the walsender prints them under the
/// session settings `TimeZone=UTC`, `DateStyle=ISO`, `extra_float_digits=3`, `bytea_output=hex`.
///
/// Each `parse…` function reads one value from raw bytes without allocating (except where the result
/// itself is an array or String). Anything that is not the type's output syntax throws `ValueParseError`.
public enum TextValueParser {
    /// `t` / `f`.
    public static func parseBool(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Bool {
        guard raw.count == 1 else { throw .invalidText(type: "bool", input: ValueParseError.excerpt(raw)) }
        switch raw[0] {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: throw .invalidText(type: "bool", input: ValueParseError.excerpt(raw))
        }
    }

    public static func parseInt16(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int16 {
        try parseInteger(raw, type: "int2")
    }

    public static func parseInt32(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int32 {
        try parseInteger(raw, type: "int4")
    }

    public static func parseInt64(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int64 {
        try parseInteger(raw, type: "int8")
    }

    /// `float4`: shortest round-trip decimal, `NaN`, `Infinity`, `-Infinity`.
    public static func parseFloat32(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Float {
        try parseFloatingPoint(raw, type: "float4")
    }

    /// `float8`: shortest round-trip decimal, `NaN`, `Infinity`, `-Infinity`.
    public static func parseFloat64(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Double {
        try parseFloatingPoint(raw, type: "float8")
    }

    /// `numeric` as an exact value keeping its display scale (`12.3400`), or NaN / ±Infinity. Allocates the digits.
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

    /// `date` (`2024-01-02`, `0044-03-15 BC`, `infinity`) as days since 2000-01-01; ±infinity = `Int32.max`/`Int32.min`.
    public static func parseDateDays(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int32 {
        if matches(raw, "infinity") { return PostgresValue.dateInfinity }
        if matches(raw, "-infinity") { return PostgresValue.dateNegativeInfinity }
        var cursor = TextCursor(raw: raw)
        guard let date = cursor.date(), cursor.era(), cursor.isAtEnd,
              let days = date.daysSince2000(isBC: cursor.isBC) else {
            throw .invalidText(type: "date", input: ValueParseError.excerpt(raw))
        }
        guard let result = Int32(exactly: days), result != .max, result != .min else {
            throw .outOfRange(type: "date", input: ValueParseError.excerpt(raw))
        }
        return result
    }

    /// `timestamp` (`2024-01-02 03:04:05.123456`) as µs since 2000-01-01; ±infinity = `Int64.max`/`Int64.min`.
    public static func parseTimestampMicros(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int64 {
        try parseTimestamp(raw, withZone: false)
    }

    /// `timestamptz` (`2024-01-02 03:04:05.123456+00`, offsets `+05:30`, `-03`, `+hh:mm:ss`, ` BC` suffix)
    /// as µs since 2000-01-01 00:00 UTC; ±infinity = `Int64.max`/`Int64.min`.
    public static func parseTimestamptzMicros(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int64 {
        try parseTimestamp(raw, withZone: true)
    }

    /// `uuid` in `8-4-4-4-12` hex form (either case).
    public static func parseUUID(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> UUID {
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let valid = raw.count == 36 && withUnsafeMutableBytes(of: &bytes) { out -> Bool in
            var index = 0
            for position in 0..<16 {
                if index == 8 || index == 13 || index == 18 || index == 23 {
                    guard raw[index] == UInt8(ascii: "-") else { return false }
                    index += 1
                }
                guard let high = hexDigitValue(raw[index]), let low = hexDigitValue(raw[index + 1]) else { return false }
                out[position] = high << 4 | low
                index += 2
            }
            return true
        }
        guard valid else { throw .invalidText(type: "uuid", input: ValueParseError.excerpt(raw)) }
        return UUID(uuid: bytes)
    }

    /// `bytea` in hex form (`\x00ff`), appended to `buffer` (e.g. a column's byte arena).
    public static func appendBytea(_ raw: UnsafeRawBufferPointer, to buffer: inout [UInt8]) throws(ValueParseError) {
        guard raw.count >= 2, raw[0] == UInt8(ascii: "\\"), raw[1] == UInt8(ascii: "x"), raw.count % 2 == 0 else {
            throw .invalidText(type: "bytea", input: ValueParseError.excerpt(raw))
        }
        let start = buffer.count
        buffer.reserveCapacity(start + (raw.count - 2) / 2)
        var index = 2
        while index < raw.count {
            guard let high = hexDigitValue(raw[index]), let low = hexDigitValue(raw[index + 1]) else {
                buffer.removeSubrange(start...)
                throw .invalidText(type: "bytea", input: ValueParseError.excerpt(raw))
            }
            buffer.append(high << 4 | low)
            index += 2
        }
    }

    /// `bytea` in hex form as a new array.
    public static func parseBytea(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> [UInt8] {
        var bytes: [UInt8] = []
        try appendBytea(raw, to: &bytes)
        return bytes
    }

    /// Text-like types (`text`, `varchar`, `bpchar`, `json`, `jsonb`, arrays, enums…) as a String; must be valid UTF-8.
    public static func parseText(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> String {
        try validatedUTF8(raw, type: "text")
    }

    /// The typed value of a text-form column of type `typeOID`. `typeModifier` is accepted for symmetry and
    /// not needed: numeric text carries its display scale. Unknown types (arrays, enums, ranges…) become `.text`.
    public static func value(typeOID: UInt32, typeModifier: Int32 = -1, bytes: UnsafeRawBufferPointer) throws(ValueParseError) -> PostgresValue {
        try decodeValue(TextValueParser.self, typeOID: typeOID, bytes: bytes)
    }

    // MARK: - Internals

    private static func parseInteger<T: FixedWidthInteger & SignedInteger>(_ raw: UnsafeRawBufferPointer, type: String) throws(ValueParseError) -> T {
        let isNegative = raw.first == UInt8(ascii: "-")
        var index = isNegative ? 1 : 0
        guard index < raw.count else { throw .invalidText(type: type, input: ValueParseError.excerpt(raw)) }
        var negativeValue: T = 0
        while index < raw.count {
            let digit = raw[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { throw .invalidText(type: type, input: ValueParseError.excerpt(raw)) }
            let (shifted, overflow1) = negativeValue.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.subtractingReportingOverflow(T(digit))
            guard !overflow1, !overflow2 else { throw .outOfRange(type: type, input: ValueParseError.excerpt(raw)) }
            negativeValue = next
            index += 1
        }
        if isNegative { return negativeValue }
        guard negativeValue != .min else { throw .outOfRange(type: type, input: ValueParseError.excerpt(raw)) }
        return -negativeValue
    }

    private static func parseFloatingPoint<F: BinaryFloatingPoint & LosslessStringConvertible>(
        _ raw: UnsafeRawBufferPointer, type: String
    ) throws(ValueParseError) -> F {
        if matches(raw, "NaN") { return .nan }
        if matches(raw, "Infinity") { return .infinity }
        if matches(raw, "-Infinity") { return -.infinity }
        // Postgres prints only digits, '.', 'e', '+', '-'; Swift would also take "inf", "nan" and hex floats.
        let allowed = raw.allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
        }
        // Up to 15 bytes the String is stored inline, so this does not allocate for typical values.
        guard allowed, !raw.isEmpty, let value = F(String(decoding: raw, as: UTF8.self)) else {
            throw .invalidText(type: type, input: ValueParseError.excerpt(raw))
        }
        return value
    }

    static func walkNumeric<Sink: DecimalDigitSink>(_ raw: UnsafeRawBufferPointer, into sink: inout Sink) throws(ValueParseError) -> NumericHeader {
        if matches(raw, "NaN") { return .special(.nan) }
        if matches(raw, "Infinity") { return .special(.positiveInfinity) }
        if matches(raw, "-Infinity") { return .special(.negativeInfinity) }
        let isNegative = raw.first == UInt8(ascii: "-")
        var fractional = false
        var sawDigit = false
        for byte in raw.dropFirst(isNegative ? 1 : 0) {
            if byte == UInt8(ascii: "."), !fractional {
                fractional = true
                continue
            }
            let digit = byte &- UInt8(ascii: "0")
            guard digit <= 9 else { throw .invalidText(type: "numeric", input: ValueParseError.excerpt(raw)) }
            try sink.append(digit, fractional: fractional)
            sawDigit = true
        }
        guard sawDigit else { throw .invalidText(type: "numeric", input: ValueParseError.excerpt(raw)) }
        return .finite(isNegative: isNegative)
    }

    private static func parseTimestamp(_ raw: UnsafeRawBufferPointer, withZone: Bool) throws(ValueParseError) -> Int64 {
        let type = withZone ? "timestamptz" : "timestamp"
        if matches(raw, "infinity") { return PostgresValue.timestampInfinity }
        if matches(raw, "-infinity") { return PostgresValue.timestampNegativeInfinity }
        var cursor = TextCursor(raw: raw)
        guard let date = cursor.date(), cursor.consume(UInt8(ascii: " ")), let time = cursor.timeOfDayMicros(),
              let offset = withZone ? cursor.utcOffsetSeconds() : 0, cursor.era(), cursor.isAtEnd,
              let days = date.daysSince2000(isBC: cursor.isBC) else {
            throw .invalidText(type: type, input: ValueParseError.excerpt(raw))
        }
        let (dayMicros, overflow1) = Int64(days).multipliedReportingOverflow(by: 86_400_000_000)
        let (local, overflow2) = dayMicros.addingReportingOverflow(time)
        let (utc, overflow3) = local.subtractingReportingOverflow(Int64(offset) * 1_000_000)
        guard !overflow1, !overflow2, !overflow3, utc != .max, utc != .min else {
            throw .outOfRange(type: type, input: ValueParseError.excerpt(raw))
        }
        return utc
    }

    private static func validatedUTF8(_ raw: UnsafeRawBufferPointer, type: String) throws(ValueParseError) -> String {
        guard let text = String(validUTF8: raw) else {
            throw .invalidText(type: type, input: "(invalid UTF-8) " + ValueParseError.excerpt(raw))
        }
        return text
    }

    /// True when `raw` is exactly the ASCII `literal`.
    static func matches(_ raw: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        raw.count == literal.utf8CodeUnitCount
            && raw.elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
}

extension TextValueParser: ValueForm {
    static func parseJSON(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> String { try validatedUTF8(raw, type: "json") }
    static func parseJSONB(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> String { try validatedUTF8(raw, type: "jsonb") }
}

extension String {
    /// The string, or nil when `raw` is not valid UTF-8 (no U+FFFD repair).
    init?(validUTF8 raw: UnsafeRawBufferPointer) {
        if #available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *) {
            guard let text = String(validating: raw, as: UTF8.self) else { return nil }
            self = text
        } else {
            var decoder = UTF8()
            var iterator = raw.makeIterator()
            while true {
                switch decoder.decode(&iterator) {
                case .scalarValue: continue
                case .emptyInput: self = String(decoding: raw, as: UTF8.self); return
                case .error: return nil
                }
            }
        }
    }
}

/// A calendar date as printed, before era and range checks.
struct CivilDate {
    var year: Int
    var month: Int
    var day: Int

    /// Days from 2000-01-01 in the proleptic Gregorian calendar (as Postgres counts), or nil for an invalid date.
    func daysSince2000(isBC: Bool) -> Int? {
        let astronomicalYear = isBC ? 1 - year : year
        guard year >= 1, (1...12).contains(month), day >= 1, day <= daysInMonth(astronomicalYear) else { return nil }
        // Howard Hinnant's days_from_civil, shifted from 1970-01-01 to 2000-01-01.
        let y = month <= 2 ? astronomicalYear - 1 : astronomicalYear
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468 - 10_957
    }

    private func daysInMonth(_ astronomicalYear: Int) -> Int {
        let isLeap = astronomicalYear % 4 == 0 && (astronomicalYear % 100 != 0 || astronomicalYear % 400 == 0)
        return [31, isLeap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }
}

/// Reads the pieces of ISO date/time text front to back; each reader returns nil (or false) on a mismatch.
private struct TextCursor {
    let raw: UnsafeRawBufferPointer
    var index = 0
    /// Set by `era()` when the text ends in ` BC`.
    var isBC = false

    init(raw: UnsafeRawBufferPointer) { self.raw = raw }

    var isAtEnd: Bool { index == raw.count }

    mutating func consume(_ byte: UInt8) -> Bool {
        guard index < raw.count, raw[index] == byte else { return false }
        index += 1
        return true
    }

    /// A run of `minimum`…`maximum` decimal digits.
    mutating func number(minimum: Int, maximum: Int) -> Int? {
        var value = 0
        var count = 0
        while index < raw.count, count < maximum, raw[index] &- UInt8(ascii: "0") <= 9 {
            value = value * 10 + Int(raw[index] &- UInt8(ascii: "0"))
            index += 1
            count += 1
        }
        return count >= minimum ? value : nil
    }

    /// `YYYY-MM-DD` (the year may have more than 4 digits).
    mutating func date() -> CivilDate? {
        guard let year = number(minimum: 4, maximum: 9), consume(UInt8(ascii: "-")),
              let month = number(minimum: 2, maximum: 2), consume(UInt8(ascii: "-")),
              let day = number(minimum: 2, maximum: 2) else { return nil }
        return CivilDate(year: year, month: month, day: day)
    }

    /// `HH:MM:SS[.ffffff]` as microseconds since midnight.
    mutating func timeOfDayMicros() -> Int64? {
        guard let hour = number(minimum: 2, maximum: 2), hour < 24, consume(UInt8(ascii: ":")),
              let minute = number(minimum: 2, maximum: 2), minute < 60, consume(UInt8(ascii: ":")),
              let second = number(minimum: 2, maximum: 2), second < 60 else { return nil }
        var micros = Int64((hour * 60 + minute) * 60 + second) * 1_000_000
        if consume(UInt8(ascii: ".")) {
            let start = index
            guard let fraction = number(minimum: 1, maximum: 6) else { return nil }
            var scaled = fraction
            for _ in (index - start)..<6 { scaled *= 10 }
            micros += Int64(scaled)
        }
        return micros
    }

    /// `+HH`, `+HH:MM` or `+HH:MM:SS` (or `-`) as seconds east of UTC.
    mutating func utcOffsetSeconds() -> Int? {
        let sign: Int
        if consume(UInt8(ascii: "+")) { sign = 1 } else if consume(UInt8(ascii: "-")) { sign = -1 } else { return nil }
        guard let hours = number(minimum: 2, maximum: 2) else { return nil }
        var seconds = hours * 3600
        if consume(UInt8(ascii: ":")) {
            guard let minutes = number(minimum: 2, maximum: 2), minutes < 60 else { return nil }
            seconds += minutes * 60
            if consume(UInt8(ascii: ":")) {
                guard let extra = number(minimum: 2, maximum: 2), extra < 60 else { return nil }
                seconds += extra
            }
        }
        return sign * seconds
    }

    /// An optional ` BC` suffix; always succeeds unless a malformed suffix starts.
    mutating func era() -> Bool {
        guard index < raw.count else { return true }
        guard raw.count - index == 3, raw[index] == UInt8(ascii: " "), raw[index + 1] == UInt8(ascii: "B"),
              raw[index + 2] == UInt8(ascii: "C") else { return false }
        index += 3
        isBC = true
        return true
    }
}
