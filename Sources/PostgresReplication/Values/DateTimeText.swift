/// PostgreSQL's output text of binary date/time values (`timestamp`, `timestamptz`, `time`, `timetz`, `interval`) as
/// their output functions print them under the session settings of `Connection` (DateStyle ISO, TimeZone UTC,
/// IntervalStyle postgres): `2024-01-02 03:04:05.5`, `294276-12-31 23:59:59.999999+00`, `0044-03-15 10:00:00 BC`.
public enum DateTimeText {
    /// Appends the text of `micros` (µs since 2000-01-01, `Int64.max`/`Int64.min` = ±infinity) to `out`;
    /// `withZone` adds the UTC offset `+00` after the time (timestamptz).
    public static func appendTimestamp(_ micros: Int64, withZone: Bool, to out: inout [UInt8]) {
        if micros == PostgresValue.timestampInfinity { out.append(contentsOf: "infinity".utf8); return }
        if micros == PostgresValue.timestampNegativeInfinity { out.append(contentsOf: "-infinity".utf8); return }
        let perDay: Int64 = 86_400_000_000
        var days = micros / perDay, time = micros % perDay
        if time < 0 { time += perDay; days -= 1 }
        let isBC = appendISODate(days, to: &out)
        out.append(UInt8(ascii: " "))
        appendTimeOfDay(time, to: &out)
        if withZone { out.append(contentsOf: "+00".utf8) }
        if isBC { out.append(contentsOf: " BC".utf8) }
    }

    /// `date` (days since 2000-01-01, `Int32.max`/`Int32.min` = ±infinity) as `date_out` prints it: `2024-02-29`,
    /// `0044-03-15 BC`, `infinity`, `-infinity`.
    public static func appendDate(_ days: Int32, to out: inout [UInt8]) {
        if days == PostgresValue.dateInfinity { out.append(contentsOf: "infinity".utf8); return }
        if days == PostgresValue.dateNegativeInfinity { out.append(contentsOf: "-infinity".utf8); return }
        if appendISODate(Int64(days), to: &out) { out.append(contentsOf: " BC".utf8) }
    }

    /// `YYYY-MM-DD` of `days` since 2000-01-01 with the year of its era; returns true for a BC date (no suffix yet).
    private static func appendISODate(_ days: Int64, to out: inout [UInt8]) -> Bool {
        let date = CivilDate(daysSince2000: days)
        let isBC = date.year <= 0
        DecimalText.appendPadded(isBC ? 1 - date.year : date.year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        DecimalText.appendPadded(date.month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        DecimalText.appendPadded(date.day, width: 2, to: &out)
        return isBC
    }

    /// `time` send form (Int64 µs since midnight) as `time_out` prints it: `HH:MM:SS[.ffffff]`, `24:00:00`.
    public static func appendTime(_ raw: UnsafeRawBufferPointer, to out: inout [UInt8]) throws(ValueParseError) {
        guard raw.count == 8 else { throw .invalidLength(type: "time", expected: 8, actual: raw.count) }
        appendTimeOfDay(try timeOfDay(raw, type: "time"), to: &out)
    }

    /// `timetz` send form (Int64 µs since midnight, Int32 zone in seconds *west* of UTC) as `timetz_out` prints it:
    /// `12:00:00+05:30`, `23:59:59.5-14:59`, `00:00:00+00`.
    public static func appendTimetz(_ raw: UnsafeRawBufferPointer, to out: inout [UInt8]) throws(ValueParseError) {
        guard raw.count == 12 else { throw .invalidLength(type: "timetz", expected: 12, actual: raw.count) }
        appendTimeOfDay(try timeOfDay(raw, type: "timetz"), to: &out)
        let zone = Int(raw.loadBigEndian(fromByteOffset: 8, as: Int32.self))
        out.append(UInt8(ascii: zone <= 0 ? "+" : "-"))
        let seconds = abs(zone) % 60, minutes = abs(zone) / 60 % 60, hours = abs(zone) / 3600
        DecimalText.appendPadded(hours, width: 2, to: &out)
        if minutes != 0 || seconds != 0 {
            out.append(UInt8(ascii: ":"))
            DecimalText.appendPadded(minutes, width: 2, to: &out)
        }
        if seconds != 0 {
            out.append(UInt8(ascii: ":"))
            DecimalText.appendPadded(seconds, width: 2, to: &out)
        }
    }

    /// `interval` send form (Int64 µs, Int32 days, Int32 months) as `interval_out` prints it under IntervalStyle
    /// postgres: `1 year 2 mons 3 days 04:05:06.789`, `-1 days +02:00:00`, `00:00:00`.
    public static func appendInterval(_ raw: UnsafeRawBufferPointer, to out: inout [UInt8]) throws(ValueParseError) {
        guard raw.count == 16 else { throw .invalidLength(type: "interval", expected: 16, actual: raw.count) }
        var time = raw.loadBigEndian(as: Int64.self)
        let days = Int(raw.loadBigEndian(fromByteOffset: 8, as: Int32.self))
        let months = Int(raw.loadBigEndian(fromByteOffset: 12, as: Int32.self))
        // PostgreSQL 17's infinite intervals: every field at its maximum (minimum).
        if time == .max && days == Int(Int32.max) && months == Int(Int32.max) { out.append(contentsOf: "infinity".utf8); return }
        if time == .min && days == Int(Int32.min) && months == Int(Int32.min) { out.append(contentsOf: "-infinity".utf8); return }
        // EncodeInterval, INTSTYLE_POSTGRES. Each non-zero part sets `isBefore` for the next one only.
        var isZero = true, isBefore = false
        func part(_ value: Int, _ unit: StaticString) {
            guard value != 0 else { return }
            if !isZero { out.append(UInt8(ascii: " ")) }
            if isBefore && value > 0 { out.append(UInt8(ascii: "+")) }
            if value < 0 { out.append(UInt8(ascii: "-")) }
            DecimalText.appendPadded(value.magnitude, width: 1, to: &out)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: UnsafeBufferPointer(start: unit.utf8Start, count: unit.utf8CodeUnitCount))
            if value != 1 { out.append(UInt8(ascii: "s")) }
            isBefore = value < 0
            isZero = false
        }
        part(months / 12, "year")
        part(months % 12, "mon")
        part(days, "day")
        guard isZero || time != 0 else { return }
        // Hours, minutes, seconds and microseconds all carry the sign of `time` (C division truncates).
        let isNegative = time < 0
        let hours = time / 3_600_000_000
        time -= hours * 3_600_000_000
        if !isZero { out.append(UInt8(ascii: " ")) }
        if isNegative { out.append(UInt8(ascii: "-")) } else if isBefore { out.append(UInt8(ascii: "+")) }
        DecimalText.appendPadded(hours.magnitude, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendSeconds(time.magnitude, to: &out)
    }

    /// The leading Int64 µs since midnight of a `time` / `timetz` send form, checked to be in 00:00:00 ... 24:00:00.
    private static func timeOfDay(_ raw: UnsafeRawBufferPointer, type: String) throws(ValueParseError) -> Int64 {
        let micros = raw.loadBigEndian(as: Int64.self)
        guard micros >= 0, micros <= 86_400_000_000 else { throw .invalidBinary(type: type, reason: "\(micros) µs") }
        return micros
    }

    /// µs since midnight (≥ 0) as `HH:MM:SS[.ffffff]`.
    static func appendTimeOfDay(_ micros: Int64, to out: inout [UInt8]) {
        DecimalText.appendPadded(UInt64(micros / 3_600_000_000), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendSeconds(UInt64(micros % 3_600_000_000), to: &out)
    }

    /// Less than an hour of µs as `MM:SS[.ffffff]`: the fraction has six digits without trailing zeros (AppendSeconds).
    private static func appendSeconds(_ micros: UInt64, to out: inout [UInt8]) {
        DecimalText.appendPadded(micros / 60_000_000, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        DecimalText.appendPadded(micros / 1_000_000 % 60, width: 2, to: &out)
        var fraction = micros % 1_000_000
        guard fraction != 0 else { return }
        var digits = 6
        while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        out.append(UInt8(ascii: "."))
        DecimalText.appendPadded(fraction, width: digits, to: &out)
    }
}

extension CivilDate {
    /// The proleptic Gregorian date `days` after 2000-01-01; `year` is astronomical (0 = 1 BC).
    init(daysSince2000 days: Int64) {
        // Howard Hinnant's civil_from_days, shifted from 1970-01-01 to 2000-01-01.
        let z = Int(days) + 10_957 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month: month, day: dayOfYear - (153 * mp + 2) / 5 + 1)
    }
}
